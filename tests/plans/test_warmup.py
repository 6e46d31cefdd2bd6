"""plan warmup and advise warmup: the shortest warmup that lets 10x the unstable learning rate train."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunebook import sample
from tunebook.core import Experiment
from tunebook.plans import PlanInputError, warmup, warmup_advice, write_plan
from tunebook.plans.warmup import warmup_steps_for

from .stored import falling, spec, spiking, store_experiment, trial


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


def test_the_base_factor_must_be_at_least_an_order_of_magnitude(base: str):
    assert warmup(0.05, 10_000, "sweep", base, base_factor=100).spec["fixed"]["learning_rate"] == 5.0
    with pytest.raises(PlanInputError, match="at least one order of magnitude"):
        warmup(0.05, 10_000, "sweep", base, base_factor=3)
    with pytest.raises(PlanInputError, match="unstable-lr: must be a learning rate > 0"):
        warmup(-1.0, 10_000, "sweep", base)


def _warmed(tmp_path: Path, outcomes: dict[int, object], max_train_steps: int = 10_000) -> str:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    rows = []
    for steps, outcome in outcomes.items():
        params = {"warmup_steps": steps, "learning_rate": 0.5, "max_train_steps": 3 * steps}
        study = f"warmup_steps={steps}"
        if outcome == "infeasible":
            rows.append(trial(params, {"train/loss": falling(5)}, state="infeasible", study=study))
        else:
            rows.append(trial(params, {"train/loss": outcome}, study=study))
    notes = f"planned by tunebook plan warmup: unstable_lr=0.05 base_lr=0.5 max_train_steps={max_train_steps}"
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
