"""plan warmup and advise warmup: the shortest warmup that lets 10x the unstable learning rate train."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunebook import sample
from tunebook.core import Experiment
from tunebook.plans import PlanInputError, warmup, warmup_advice, write_plan
from tunebook.plans.warmup import warmup_steps_for

from .stored import collapsing, falling, spec, spiking, store_experiment, trial


def test_warmup_steps_go_up_by_orders_of_magnitude_to_10_percent_of_max_train_steps():
    assert warmup_steps_for(20_000) == [10, 100, 1000]
    assert warmup_steps_for(10_000) == [10, 100, 1000]
    assert warmup_steps_for(9_999) == [10, 100]
    with pytest.raises(PlanInputError, match="10 % of 99 steps is below 10 warmup steps"):
        warmup_steps_for(99)


@pytest.fixture
def base(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tunebook.db'}"
    params = {"learning_rate": 0.1, "max_train_steps": 10_000, "batch_size": 32, "schedule": "linear",
              "decay_steps": 2000}
    store_experiment(url, spec("sweep", fixed=params), [trial(params, {"train/loss": falling(50)})],
                     source=tmp_path / "spec.yaml")
    return url


def test_each_trial_warms_up_to_10x_the_unstable_rate_then_runs_twice_as_long(base: str, tmp_path: Path):
    plan = warmup(0.05, None, "sweep", base)
    experiment = Experiment.from_yaml(str(write_plan(plan, tmp_path / "w.yaml")))
    trials = {p.params["warmup_steps"]: {k.split("[")[0]: v for k, v in p.params.items()} for p in sample(experiment)}
    assert sorted(trials) == [10, 100, 1000]
    for steps, params in trials.items():
        assert params["max_train_steps"] == 3 * steps  # warmup + post-warmup (2 x warmup)
        assert params["learning_rate"] == 0.5 and params["schedule"] == "constant"
        assert params["batch_size"] == 32 and "decay_steps" not in params


def test_a_base_factor_below_10_is_planned_with_the_playbooks_warning(base: str, tmp_path: Path):
    assert warmup(0.05, 10_000, "sweep", base, base_factor=100).spec["fixed"]["learning_rate"] == 5.0
    assert not any("warning" in r.text for r in warmup(0.05, 10_000, "sweep", base).reasons)
    plan = warmup(0.05, 10_000, "sweep", base, base_factor=3)
    assert plan.spec["fixed"]["learning_rate"] == 0.15
    written = write_plan(plan, tmp_path / "w.yaml").read_text()
    assert "# warning: --base-factor 3 is below 10" in written and "at least one order of" in written


@pytest.mark.parametrize("factor", [1, 0.5, -2.0, float("nan")])
def test_a_base_factor_of_1_or_less_is_refused_by_name(base: str, factor: float):
    with pytest.raises(PlanInputError, match=rf"base-factor: .*a factor > 1.*got {factor!r}"):
        warmup(0.05, 10_000, "sweep", base, base_factor=factor)


def test_a_bad_unstable_rate_is_refused_by_name(base: str):
    with pytest.raises(PlanInputError, match="unstable-lr: must be a learning rate > 0"):
        warmup(-1.0, 10_000, "sweep", base)


def _warmed(tmp_path: Path, outcomes: dict[int, object], max_train_steps: int = 10_000, base: str = "") -> str:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    if base:  # the plan's source: lr* = 0.1, loss 4.2 -> about 1.3 in 300 steps
        store_experiment(url, spec("sweep", fixed={"learning_rate": 0.1}),
                         [trial({"learning_rate": 0.1}, {"train/loss": falling(300, start=4.2, rate=0.004)})])
    rows = []
    for steps, outcome in outcomes.items():
        params = {"warmup_steps": steps, "learning_rate": 0.5, "max_train_steps": 3 * steps}
        study = f"warmup_steps={steps}"
        if outcome == "infeasible":
            rows.append(trial(params, {"train/loss": falling(5)}, state="infeasible", study=study))
        else:
            rows.append(trial(params, {"train/loss": outcome}, study=study))
    notes = f"planned by tunebook plan warmup: unstable_lr=0.05 base_lr=0.5 max_train_steps={max_train_steps}"
    notes += f" base={base}" if base else ""
    store_experiment(url, spec("w", scientific={"warmup_steps": list(outcomes)}, notes=notes), rows)
    return url


def test_the_shortest_stable_warmup_is_prepended_to_the_baseline(tmp_path: Path):
    url = _warmed(tmp_path, {10: "infeasible", 100: falling(300, noise=0.01), 1000: falling(300, noise=0.01)})
    advice = warmup_advice("w", url)
    assert advice.numbers["warmup_steps"] == 100 and advice.numbers["total_steps"] == 10_100
    assert any("10000 + 100 = 10100 steps in total" in line for line in advice.lines)
    assert advice.warnings == ()


def test_a_spiking_run_is_not_stable_and_a_long_warmup_asks_for_more_steps(tmp_path: Path):
    url = _warmed(tmp_path, {10: "infeasible", 100: spiking(300, at=200), 1000: falling(300, noise=0.01)})
    advice = warmup_advice("w", url)
    assert advice.numbers["warmup_steps"] == 1000  # 10 % of 10,000: more than 5 %
    assert "max_train_steps may need to be increased" in advice.warnings[0]


def test_no_stable_warmup_says_what_to_try(tmp_path: Path):
    advice = warmup_advice("w", _warmed(tmp_path, {10: "infeasible", 100: "infeasible"}))
    assert "warmup_steps" not in advice.numbers and "No warmup up to 100 steps" in advice.warnings[0]


def test_a_warmup_run_stalled_far_above_the_plans_source_is_not_stable(tmp_path: Path):
    outcomes = {10: "infeasible", 100: collapsing(300), 1000: falling(3000, start=4.2, rate=0.0005, noise=0.01)}
    advice = warmup_advice("w", _warmed(tmp_path, outcomes, base="sweep/default/0"))
    assert advice.numbers["warmup_steps"] == 1000
    assert any(line.startswith("warmup_steps 100 (w/warmup_steps=100/0): unstable — training stalled at a loss far above lr*'s")
               for line in advice.lines)
    assert advice.lines[0].startswith("Reference: lr* = 0.1 is sweep/default/0")


def test_a_longer_warmup_failing_where_a_shorter_passed_is_a_warning_to_check_on_the_baseline(tmp_path: Path):
    url = _warmed(tmp_path, {10: falling(30, noise=0.01), 100: spiking(300, at=200), 1000: falling(3000, noise=0.01)})
    advice = warmup_advice("w", url)
    assert advice.numbers["warmup_steps"] == 10
    assert advice.warnings == ("warmup_steps 100 did not train stably although 10 did: a longer warmup should not "
                               "hurt, so the run of 30 steps was likely too short to show the instability. Check "
                               "the prepended warmup on the baseline before adopting it.",)
