"""examples/digits/train.py: real training, standalone and as a managed trial on a real SQLite store."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the digits example needs torch (pip install torch)")
pytest.importorskip("sklearn", reason="the digits example needs scikit-learn (pip install scikit-learn)")

import tunebook.tracking as tt  # noqa: E402
from tunebook.tracking.protocol import ENV_PARAMS, ENV_TRIAL_DIR, OUTCOME_FILE  # noqa: E402

from .digits import DIGITS, SPEC, ManagedTrials, fixed_params  # noqa: E402

ADAM = {"optimizer": "adam", "learning_rate": 1e-3, "beta1": 0.9}


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory):
    """examples/digits/train.py and digits_mlp.py, imported as train.py imports them."""
    import sys

    sys.path.insert(0, str(DIGITS))
    try:
        spec = importlib.util.spec_from_file_location("digits_train", DIGITS / "train.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        import digits_mlp
    finally:
        sys.path.remove(str(DIGITS))
    return module, digits_mlp


def params(num_layers: int = 2, **overrides) -> dict:
    """spec.yaml's fixed params with a nuisance point."""
    return {**fixed_params(SPEC), "num_layers": num_layers, **ADAM, **overrides}


@pytest.fixture
def outside_tunebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(ENV_TRIAL_DIR, raising=False)
    monkeypatch.delenv(ENV_PARAMS, raising=False)
    monkeypatch.chdir(tmp_path)  # standalone checkpoints go to ./tunebook-checkpoints/
    return tmp_path


def test_standalone_training_reaches_low_validation_error(digits, outside_tunebook: Path) -> None:
    train, digits_mlp = digits
    config = params(num_layers=2)
    trial = tt.trial(defaults=config)
    train.train(trial.params, trial)

    # What a user has afterwards: the last checkpoint; it classifies held-out digits.
    import torch

    last = outside_tunebook / "tunebook-checkpoints" / f"step-{config['max_train_steps']}"
    state = torch.load(last)
    model = digits_mlp.build_model(2, width=config["hidden_width"])
    model.load_state_dict(state["model"])
    _, _, x_valid, y_valid = digits_mlp.load_split()
    _, error = digits_mlp.evaluate(model, x_valid, y_valid)
    assert error < 0.1  # chance is 0.9


@pytest.mark.parametrize(("optimizer", "learning_rate"), [("sgd", 10.0), ("adam", 3.0)])
def test_standalone_huge_learning_rate_is_infeasible_not_a_crash(
    digits, outside_tunebook: Path, optimizer: str, learning_rate: float
) -> None:
    train, _ = digits
    config = params(optimizer=optimizer, learning_rate=learning_rate, momentum=0.9)
    trial = tt.trial(defaults=config)
    with pytest.raises(tt.Diverged) as raised:
        train.train(trial.params, trial)
    assert raised.value.code == 0  # an uncaught Diverged ends the process quietly
    assert "train/loss" in raised.value.reason


def test_validation_split_is_fixed_stratified_and_standardized_on_train(digits) -> None:
    _, digits_mlp = digits
    x_train, y_train, x_valid, y_valid = digits_mlp.load_split()
    again = digits_mlp.load_split()
    assert (len(x_train), len(x_valid)) == (1257, 540)
    assert all(a.equal(b) for a, b in zip((x_train, y_train, x_valid, y_valid), again))
    per_class = (y_train.bincount() + y_valid.bincount()).tolist()
    assert y_valid.bincount().tolist() == pytest.approx([0.3 * n for n in per_class], abs=1)  # stratified
    assert x_train.mean(dim=0).abs().max() < 1e-4
    assert x_valid.mean(dim=0).abs().max() > 1e-3  # validation statistics were not used


# -- as tunebook runs it: one process per attempt, curves and checkpoints in the store --


@pytest.fixture(scope="module")
def managed(tmp_path_factory: pytest.TempPathFactory):
    trials = ManagedTrials(tmp_path_factory.mktemp("digits-managed"), checkpoints_kept=2)
    yield trials
    trials.close()


@pytest.fixture(scope="module")
def full_run(managed: ManagedTrials) -> int:
    """One uninterrupted 600-step trial."""
    trial_id, done = managed.run(params(max_train_steps=600))
    assert done.returncode == 0, done.stderr
    return trial_id


def test_managed_trial_logs_curves_at_regular_steps(managed: ManagedTrials, full_run: int) -> None:
    valid_error = managed.curve(full_run, "valid/error")
    assert managed.steps(full_run, "train/loss") == list(range(1, 601))
    assert managed.steps(full_run, "valid/error") == list(range(100, 601, 100))
    assert managed.steps(full_run, "valid/loss") == list(range(100, 601, 100))
    assert min(valid_error.values()) < 0.1
    assert not (managed.trial_dir(full_run) / OUTCOME_FILE).exists()  # completed, not infeasible


def test_managed_trial_keeps_the_best_checkpoints_and_the_latest(managed: ManagedTrials, full_run: int) -> None:
    valid_error = managed.curve(full_run, "valid/error")
    kept = managed.store.list_checkpoints(full_run)
    steps = [c.step for c in kept]
    best_two = sorted(sorted(valid_error, key=lambda s: (valid_error[s], -s))[:2])
    assert set(steps) == set(best_two) | {600}
    for checkpoint in kept:
        assert Path(checkpoint.path).exists()
        assert checkpoint.value == pytest.approx(valid_error[checkpoint.step])
    on_disk = sorted(p.name for p in (managed.trial_dir(full_run) / "checkpoints").iterdir())
    assert on_disk == sorted(f"step-{s}" for s in steps)


def test_resumed_attempt_continues_exactly_where_the_first_stopped(managed: ManagedTrials, full_run: int) -> None:
    # The first attempt stops after its step-300 checkpoint (as if preempted there);
    # the batch order and every checkpointed state depend only on the step, not the budget.
    trial_id, first = managed.run(params(max_train_steps=300))
    assert first.returncode == 0, first.stderr
    latest = max(managed.store.list_checkpoints(trial_id), key=lambda c: c.step)
    assert latest.step == 300

    _, second = managed.run(params(max_train_steps=600), trial_id, latest.path, latest.step)
    assert second.returncode == 0, second.stderr
    assert managed.steps(trial_id, "train/loss") == list(range(1, 601))  # resumed: no step twice
    resumed = managed.curve(trial_id, "valid/loss")
    uninterrupted = managed.curve(full_run, "valid/loss")
    assert [resumed[s] for s in (400, 500, 600)] == [uninterrupted[s] for s in (400, 500, 600)]


def test_managed_divergence_is_recorded_as_infeasible(managed: ManagedTrials) -> None:
    trial_id, done = managed.run(params(optimizer="sgd", learning_rate=10.0, momentum=0.9))
    assert done.returncode == 0
    assert "Traceback" not in done.stderr
    outcome = json.loads((managed.trial_dir(trial_id) / OUTCOME_FILE).read_text())
    assert outcome["state"] == "infeasible"
    assert "train/loss" in outcome["reason"]
    losses = managed.curve(trial_id, "train/loss")
    last = losses[max(losses)]
    assert not math.isfinite(last) or last > 10 * losses[1]  # the step that diverged was kept
