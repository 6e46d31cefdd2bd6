"""plan instability and advise instability: learning rates just above lr*, read for instability."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunebook.core import Experiment
from tunebook.plans import PlanInputError, early_instability, instability, instability_advice, write_plan

from .stored import collapsing, falling, spec, spiking, store_experiment, trial


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


def _stalled(tmp_path: Path, curves: dict[float, list], *, with_source: bool = True) -> str:
    """A sweep whose trial 0 is lr* = 0.1 (loss 4.2 -> about 1.3), and its instability check at 2x, 5x, 10x."""
    url = f"sqlite:///{tmp_path / 'stalled.db'}"
    if with_source:
        store_experiment(url, spec("sweep", fixed={"learning_rate": 0.1}),
                         [trial({"learning_rate": 0.1}, {"train/loss": falling(300, start=4.2, rate=0.004)})])
    rows = [trial({"learning_rate": lr}, {"train/loss": curve}, study=f"learning_rate={lr}")
            for lr, curve in curves.items()]
    notes = "planned by tunebook plan instability: base=sweep/default/0 lr_star=0.1 max_train_steps=300"
    store_experiment(url, spec("check", scientific={"learning_rate": list(curves)}, notes=notes), rows)
    return url


def test_a_collapse_to_a_plateau_far_above_lr_stars_loss_is_unstable(tmp_path: Path):
    slightly_worse = falling(300, start=4.2, rate=0.0035, noise=0.01)  # ends near 1.5, lr* near 1.3
    url = _stalled(tmp_path, {0.2: slightly_worse, 0.5: collapsing(300), 1.0: collapsing(300, level=3.5, seed=1)})
    advice = instability_advice("check", url)
    verdict = {row["learning_rate"]: row["why"] for row in advice.numbers["trials"]}
    assert verdict[0.2] is None
    assert verdict[0.5].startswith("training stalled at a loss far above lr*'s: train/loss ends at 3.1")
    assert "instability at initialization / early in training" in verdict[1.0]
    assert advice.numbers["unstable_lr"] == 0.5
    assert advice.numbers["reference"]["trial"] == "sweep/default/0"
    assert advice.lines[0].startswith("Reference: lr* = 0.1 is sweep/default/0 (the trial the plan was made from)")
    assert advice.next_command == "tunebook plan warmup --unstable-lr 0.5 --from sweep/default/0 --max-steps 300"


def test_the_stall_rule_needs_more_than_a_third_of_lr_stars_progress_given_back(tmp_path: Path):
    # lr* goes from 4.2 to about 1.34 over its last 10 %: a third of its progress back is about 2.29
    url = _stalled(tmp_path, {0.2: collapsing(300, level=2.1), 0.5: collapsing(300, level=2.5)})
    verdict = {row["learning_rate"]: row["unstable"] for row in instability_advice("check", url).numbers["trials"]}
    assert verdict == {0.2: False, 0.5: True}


def test_without_the_plans_source_lr_star_is_the_best_stable_trial_and_the_advice_says_so(tmp_path: Path):
    url = _stalled(tmp_path, {0.2: falling(300, start=4.2, rate=0.004, noise=0.01), 0.5: collapsing(300)},
                   with_source=False)
    advice = instability_advice("check", url)
    assert advice.numbers["reference"]["trial"] == "check/learning_rate=0.2/0"
    assert "the best stable trial here by train/loss (min), since the trial the plan was made from, " \
           "sweep/default/0, is not in the store" in advice.lines[0]
    verdict = {row["learning_rate"]: row["unstable"] for row in advice.numbers["trials"]}
    assert verdict == {0.2: False, 0.5: True}  # the reference itself is never judged against itself
