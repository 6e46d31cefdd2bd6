"""examples/charlm: the data split, the model, and training that honours the shared trial vocabulary.

Trials run in this process on a real SQLite store (``Trial`` with the store's
own sink), so the curves a test reads are the ones ``tunebook report`` reads.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="the charlm example needs torch (pip install torch)")

from tunebook.core import Experiment  # noqa: E402
from tunebook.storage import SQLStore  # noqa: E402
from tunebook.tracking import Diverged  # noqa: E402
from tunebook.tracking.protocol import TrialContext  # noqa: E402
from tunebook.tracking.sinks import open_sink  # noqa: E402
from tunebook.tracking.trial import Trial  # noqa: E402

CHARLM = Path(__file__).resolve().parents[2] / "examples" / "charlm"
PLAYBOOK = Path(__file__).resolve().parents[2].parent / "shared" / "playbook" / "README.md"

# A quick configuration: the example's model, shorter runs.
QUICK = {"max_train_steps": 30, "eval_every": 10, "batch_size": 8, "learning_rate": 3e-3}


@pytest.fixture(scope="module")
def charlm():
    """(train module, charlm module), imported as tunebook imports them: from the example's folder."""
    sys.path.insert(0, str(CHARLM))
    try:
        spec = importlib.util.spec_from_file_location("charlm_train", CHARLM / "train.py")
        train = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(train)
        import charlm as module
    finally:
        sys.path.remove(str(CHARLM))
    return train, module


class StoredTrials:
    """Trials of one experiment in a real SQLite store, run in this process."""

    def __init__(self, root: Path) -> None:
        self.root, self.url = root, f"sqlite:///{root / 'tunebook.db'}"
        self.store = SQLStore(self.url)
        record = self.store.ensure_experiment("charlm-tests", Experiment.from_yaml(str(CHARLM / "spec-lr-sweep.yaml")).to_dict())
        self.study = self.store.ensure_study(record.id, "tests", {}, budget=100)

    def run(self, train, params: dict) -> tuple[int, BaseException | None]:
        """Train ``params`` as a managed trial; (trial id, the Diverged it raised or None)."""
        trial_id = self.store.claim_trial(self.study.id, "tests", lambda n: dict(params)).id
        folder = self.root / str(trial_id)
        folder.mkdir()
        context = TrialContext(trial_id=trial_id, store=self.url, objective_metric="valid/loss", objective_mode="min")
        trial = Trial(params, context, folder, folder / "checkpoints", open_sink(self.url, trial_id), managed=True)
        try:
            train.train(dict(params), trial)
        except Diverged as diverged:
            return trial_id, diverged
        finally:
            trial.flush()
        return trial_id, None

    def curve(self, trial_id: int, metric: str) -> dict[int, float]:
        frame = self.store.load_curves(trial_ids=[trial_id])
        rows = frame[frame["metric"] == metric]
        return dict(zip(rows["step"].tolist(), rows["value"].tolist()))


@pytest.fixture
def stored(tmp_path: Path):
    trials = StoredTrials(tmp_path)
    yield trials
    trials.store.close()


def test_data_is_the_playbook_text_with_its_attribution(charlm) -> None:
    _, module = charlm
    text = module.TEXT_PATH.read_text(encoding="utf-8")
    if PLAYBOOK.exists():
        assert text == PLAYBOOK.read_text(encoding="utf-8")
    notice = (CHARLM / "data" / "NOTICE.md").read_text()
    for needed in ("Deep Learning Tuning Playbook", "Varun Godbole", "Zachary Nado", "Creative Commons Attribution 4.0",
                   "Changes made"):
        assert needed in notice


def test_validation_is_the_held_out_last_tenth_of_the_characters(charlm) -> None:
    _, module = charlm
    corpus = module.load_corpus()
    text = module.TEXT_PATH.read_text(encoding="utf-8")
    assert len(corpus.train) + len(corpus.valid) == len(text)
    assert len(corpus.valid) == pytest.approx(0.1 * len(text), abs=1)
    assert corpus.decode(corpus.valid) == text[len(corpus.train):]  # the end of the text, in order
    assert corpus.decode(corpus.train[:40]) == text[:40]
    assert corpus.vocab_size == len(set(text))
    with pytest.raises(ValueError, match="valid_fraction"):
        module.Corpus(text, valid_fraction=1.0)


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_model_maps_characters_to_next_character_logits(charlm, norm: str) -> None:
    _, module = charlm
    model = module.build_model(90, {"context": 16, "d_model": 32, "num_layers": 2, "num_heads": 4, "norm": norm})
    ids = torch.randint(0, 90, (3, 16))
    assert model(ids).shape == (3, 16, 90)
    # causal: what comes later never changes the logits of an earlier position
    changed = ids.clone()
    changed[:, 10:] = (changed[:, 10:] + 1) % 90
    model.eval()
    assert torch.allclose(model(ids)[:, :10], model(changed)[:, :10], atol=1e-5)
    assert not torch.allclose(model(ids)[:, 10:], model(changed)[:, 10:], atol=1e-5)
    with pytest.raises(ValueError, match="at most 16 characters"):
        model(torch.zeros(1, 17, dtype=torch.long))


def test_batches_are_a_pure_function_of_seed_and_step(charlm) -> None:
    _, module = charlm
    ids = torch.arange(1000)
    inputs, targets = module.batch_at(ids, 7, 4, 16, seed=3)
    again, _ = module.batch_at(ids, 7, 4, 16, seed=3)
    assert inputs.equal(again) and inputs.shape == (4, 16)
    assert targets.equal(inputs + 1)  # the next character of each window
    assert not module.batch_at(ids, 8, 4, 16, seed=3)[0].equal(inputs)
    assert not module.batch_at(ids, 7, 4, 16, seed=4)[0].equal(inputs)


def test_a_few_training_steps_reduce_the_loss(charlm, stored: StoredTrials) -> None:
    train, _ = charlm
    trial_id, diverged = stored.run(train, QUICK)
    assert diverged is None
    loss = stored.curve(trial_id, "train/loss")
    valid = stored.curve(trial_id, "valid/loss")
    assert sorted(loss) == list(range(1, 31))
    assert sorted(valid) == [10, 20, 30]
    assert loss[1] == pytest.approx(math.log(90), rel=0.1)  # about uniform over the characters at first
    assert sum(loss[s] for s in range(26, 31)) / 5 < loss[1] - 1.0
    assert valid[30] < valid[10]
    assert len(stored.curve(trial_id, "grad_norm")) == 30


def test_warmup_and_decay_params_set_each_updates_learning_rate(charlm, stored: StoredTrials) -> None:
    train, _ = charlm
    params = {**QUICK, "learning_rate": 0.01, "warmup_steps": 10, "schedule": "linear", "decay_steps": 10}
    trial_id, _ = stored.run(train, params)
    lr = stored.curve(trial_id, "lr")  # step s is the s-th update: schedule(s - 1)
    assert lr[1] == 0.0
    assert lr[6] == pytest.approx(0.005)  # halfway up the warmup
    assert [lr[s] for s in (11, 15, 20)] == pytest.approx([0.01] * 3)  # constant part: 30 - 10 - 10 steps
    assert lr[26] == pytest.approx(0.005)  # halfway down the final linear decay
    assert lr[30] == pytest.approx(0.001)


def test_gradient_clipping_logs_the_unclipped_norm_and_changes_the_update(charlm, stored: StoredTrials) -> None:
    train, _ = charlm
    free, _ = stored.run(train, {**QUICK, "max_train_steps": 5})
    clipped, _ = stored.run(train, {**QUICK, "max_train_steps": 5, "grad_clip_norm": 1e-3})
    free_norms, clipped_norms = stored.curve(free, "grad_norm"), stored.curve(clipped, "grad_norm")
    assert clipped_norms[1] == pytest.approx(free_norms[1]) and clipped_norms[1] > 1e-3  # the same first batch, unclipped
    assert stored.curve(clipped, "train/loss")[5] != pytest.approx(stored.curve(free, "train/loss")[5])


def test_a_diverging_run_is_stopped_as_infeasible(charlm, stored: StoredTrials) -> None:
    train, _ = charlm
    trial_id, diverged = stored.run(train, {**QUICK, "learning_rate": 3.0, "max_train_steps": 200})
    assert diverged is not None and "train/loss" in diverged.reason
    loss = stored.curve(trial_id, "train/loss")
    assert max(loss) < 200  # stopped, not trained to the end
    last = loss[max(loss)]
    assert not math.isfinite(last) or last > 10 * loss[1]


# -- end to end: the same high learning rate without and with warmup, through tunebook run --


@pytest.mark.slow
def test_warmup_makes_a_learning_rate_that_is_unstable_without_it_train_stably(tmp_path: Path) -> None:
    import subprocess

    import yaml

    from tunebook.analysis import load
    from tunebook.plans.instability import unstable_trials

    spec = yaml.safe_load((CHARLM / "spec-lr-sweep.yaml").read_text())
    high = 0.03  # 3x lr* of spec-lr-sweep.yaml: no warmup collapses to a plateau there
    spec.update(name="charlm-warmup-check", nuisance={"warmup_steps": [0, 100]})
    spec["fixed"].update(learning_rate=high, max_train_steps=400, eval_every=50)
    del spec["fixed"]["warmup_steps"]
    spec["search"] = {"algorithm": "grid"}
    spec["run"].update(workdir=str(CHARLM), parallel=2)
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    url = f"sqlite:///{tmp_path / 'tunebook.db'}"
    done = subprocess.run([sys.executable, "-m", "tunebook.cli.main", "run", "spec.yaml", "--store", url],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    with SQLStore(url) as store:
        data = load("charlm-warmup-check", store)
    trials = data.trials.set_index("warmup_steps")
    cold, warm = int(trials.loc[0, "trial_id"]), int(trials.loc[100, "trial_id"])
    assert trials.loc[100, "state"] == "complete"
    assert warm not in unstable_trials(data)  # no spike, no rise: it trained stably
    best = data.curves[data.curves["metric"] == "valid/loss"].groupby("trial_id")["value"].min()
    if trials.loc[0, "state"] == "complete":
        # Without warmup the same rate collapses early to a plateau near the character frequencies
        # (about 3 nats) and stays there; with warmup it keeps learning.
        assert best[warm] < best[cold] - 0.3, (best[warm], best[cold])
    else:
        assert trials.loc[0, "state"] == "infeasible"
