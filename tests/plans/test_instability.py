"""plan instability and advise instability: learning rates just above lr*, read for instability."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunebook.core import Experiment
from tunebook.plans import PlanInputError, early_instability, instability, instability_advice, write_plan

from .stored import falling, spec, spiking, store_experiment, trial


@pytest.fixture
def swept(tmp_path: Path) -> str:
    """A stored sweep whose best trial (number 1) has learning_rate 0.1."""
    url = f"sqlite:///{tmp_path / 'tunebook.db'}"
    base = {"max_train_steps": 300, "batch_size": 32, "schedule": "linear", "decay_steps": 100}
    rows = [trial({"learning_rate": lr, **base}, {"train/loss": falling(300, rate=rate)})
            for lr, rate in ((0.01, 0.005), (0.1, 0.02), (0.03, 0.01))]
    store_experiment(url, spec("sweep", nuisance={"learning_rate": {"low": 0.01, "high": 0.1, "scale": "log"}},
                               fixed=base), rows, source=tmp_path / "spec.yaml")
    return url


def test_runs_at_2_5_and_10_times_lr_star_at_the_best_trials_other_values(swept: str, tmp_path: Path):
    plan = instability("sweep", swept)
    experiment = Experiment.from_yaml(str(write_plan(plan, tmp_path / "i.yaml")))
    assert experiment.space["learning_rate"].role == "scientific"
    assert list(experiment.space["learning_rate"].domain.values) == [0.2, 0.5, 1.0]
    fixed = {hp.name: hp.domain.value for hp in experiment.caveats}
    assert fixed == {"max_train_steps": 300, "batch_size": 32, "schedule": "linear", "decay_steps": 100}
    assert [s.key for s in experiment.studies()] == ["learning_rate=0.2", "learning_rate=0.5", "learning_rate=1.0"]
    assert "lr* = 0.1: the learning rate of sweep/default/1" in plan.reasons[0].text


def test_the_early_check_is_500_steps_at_twice_lr_star_evaluated_every_step(swept: str):
    fixed = early_instability("sweep/default/1", swept).spec["fixed"]
    assert fixed["learning_rate"] == 0.2 and fixed["max_train_steps"] == 500 and fixed["eval_every"] == 1
    assert fixed["schedule"] == "constant" and "decay_steps" not in fixed


def _checked(tmp_path: Path, curves: dict[float, object]) -> str:
    url = f"sqlite:///{tmp_path / 'check.db'}"
    rows = []
    for lr, curve in curves.items():
        if curve == "infeasible":
            rows.append(trial({"learning_rate": lr}, {"train/loss": falling(5)}, state="infeasible",
                              study=f"learning_rate={lr}", reason="train/loss is nan at step 5"))
        else:
            rows.append(trial({"learning_rate": lr}, {"train/loss": curve}, study=f"learning_rate={lr}"))
    notes = "planned by tunebook plan instability: base=sweep/default/1 lr_star=0.1 max_train_steps=300"
    store_experiment(url, spec("check", scientific={"learning_rate": list(curves)}, notes=notes), rows)
    return url


def test_a_sudden_rise_after_a_steady_decline_or_divergence_counts_as_unstable(tmp_path: Path):
    url = _checked(tmp_path, {0.2: falling(300, noise=0.01), 0.5: spiking(300, at=200), 1.0: "infeasible"})
    advice = instability_advice("check", url)
    verdict = {row["learning_rate"]: row["unstable"] for row in advice.numbers["trials"]}
    assert verdict == {0.2: False, 0.5: True, 1.0: True}
    assert advice.numbers["unstable_lr"] == 0.5
    assert advice.next_command == "tunebook plan warmup --unstable-lr 0.5 --from sweep/default/1 --max-steps 300"
    assert any("rises suddenly after a steady decline" in line for line in advice.lines)


def test_all_stable_says_instability_does_not_hold_the_learning_rate_back(tmp_path: Path):
    url = _checked(tmp_path, {0.2: falling(300, noise=0.01), 0.5: falling(300, noise=0.01, seed=1)})
    advice = instability_advice("check", url)
    assert advice.next_command is None and "unstable_lr" not in advice.numbers
    assert "No learning rate here shows instability" in advice.lines[-1]


def test_a_trial_without_a_learning_rate_is_refused(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store_experiment(url, spec("x", fixed={"batch_size": 8}), [trial({"batch_size": 8}, {"train/loss": falling(9)})])
    with pytest.raises(PlanInputError, match="trial x/default/0 has no positive learning_rate"):
        instability("x", url)
