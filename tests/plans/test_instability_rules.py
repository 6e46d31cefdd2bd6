"""advise instability and advise max-steps stay inside their procedure: what they refuse, ignore and cannot tell."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tunebook.plans import PlanInputError, instability_advice, max_steps
from tunebook.plans.scope import NotASweepError

from .stored import collapsing, falling, spec, spiking, store_experiment, trial


def _sweep(tmp_path: Path, curves: dict[float, object], name: str = "s", **sections) -> str:
    """A learning-rate sweep (one study per rate) of the given training losses; "infeasible" diverged."""
    url = f"sqlite:///{tmp_path / 'rules.db'}"
    rows = []
    for lr, curve in curves.items():
        study = f"learning_rate={lr}"
        if curve == "infeasible":
            rows.append(trial({"learning_rate": lr}, {"train/loss": falling(5)}, state="infeasible", study=study,
                              reason="train/loss is nan at step 5"))
        else:
            rows.append(trial({"learning_rate": lr}, {"train/loss": curve}, study=study))
    store_experiment(url, spec(name, scientific={"learning_rate": list(curves)}, **sections), rows)
    return url


def _blipped(steps: int = 300, low: float = 4e-5, high: float = 0.05, at: int = 250) -> list[tuple[int, float]]:
    """The user's curve: down from 2.3 to ~4e-05 within a few steps, then up to 0.05 to the end."""
    return [(s, max(low, 2.3 * math.exp(-0.5 * s)) if s < at else low + (high - low) * (s - at) / (steps - at))
            for s in range(steps)]


def verdicts(advice) -> dict[float, bool]:
    return {row["learning_rate"]: row["unstable"] for row in advice.numbers["trials"]}


def test_lr_star_is_the_best_stable_trial_not_the_lowest_rate(tmp_path: Path):
    # 0.001 never trains (stuck near its start), 0.01 is the best, 0.03 a little worse, 0.1 collapses early
    url = _sweep(tmp_path, {0.001: falling(300, start=2.3, rate=0.0005, noise=0.01),
                            0.01: falling(300, start=2.3, rate=0.02, noise=0.01),
                            0.03: falling(300, start=2.3, rate=0.012, noise=0.01),
                            0.1: collapsing(300, start=2.3, level=1.8)})
    advice = instability_advice("s", url)
    assert advice.numbers["reference"]["trial"] == "s/learning_rate=0.01/0"
    assert "(the best stable trial here by train/loss (min)" in advice.lines[0]
    assert verdicts(advice) == {0.001: False, 0.01: False, 0.03: False, 0.1: True}
    assert advice.numbers["unstable_lr"] == 0.1 and advice.numbers["verdict"] == "unstable"
    assert advice.next_command == "tunebook plan warmup --unstable-lr 0.1 --from s/learning_rate=0.01/0"


def test_a_blip_small_in_the_losss_own_scale_is_not_instability(tmp_path: Path):
    # the user's report: 0.021 named unstable for a rise from 4e-05 to 0.05 while 0.089 and 0.375 trained stably
    url = _sweep(tmp_path, {0.005: falling(300, start=2.3, rate=0.03, noise=0.01), 0.021: _blipped(),
                            0.089: falling(300, start=2.3, rate=0.05, noise=0.01),
                            0.375: falling(300, start=2.3, rate=0.04, noise=0.01)})
    advice = instability_advice("s", url)
    assert not any(verdicts(advice).values()) and advice.numbers["verdict"] == "stable"
    assert advice.next_command is None and advice.warnings == ()


def test_the_same_rise_from_a_loss_that_had_not_fit_is_instability(tmp_path: Path):
    # 0.05 up from 0.3 to 1.0 and staying there: 30 % of the starting loss and of the progress
    rising = [(s, v if s < 200 else 0.3 + 0.7 * min(1.0, (s - 200) / 20)) for s, v in falling(300, start=2.3, rate=0.01)]
    url = _sweep(tmp_path, {0.01: falling(300, start=2.3, rate=0.02, noise=0.01), 0.05: rising})
    assert verdicts(instability_advice("s", url)) == {0.01: False, 0.05: True}


def test_stability_that_is_not_monotonic_is_warned_and_the_boundary_read_above_every_stable_rate(tmp_path: Path):
    url = _sweep(tmp_path, {0.01: falling(300, noise=0.01, rate=0.02), 0.02: spiking(300, at=150),
                            0.05: falling(300, noise=0.01, rate=0.015, seed=1), 0.1: "infeasible"})
    advice = instability_advice("s", url)
    assert verdicts(advice) == {0.01: False, 0.02: True, 0.05: False, 0.1: True}
    assert advice.numbers["unstable_lr"] == 0.1 and advice.numbers["not_monotonic"] == [0.02]
    (warning,) = advice.warnings
    assert warning.startswith("Stability is not monotonic in the learning rate here: 0.02 (s/learning_rate=0.02/0) "
                              "counted as unstable while 0.05 above trained stably.")


def test_nothing_tried_above_lr_star_is_too_few_trials_to_tell(tmp_path: Path):
    url = _sweep(tmp_path, {0.01: falling(300, rate=0.005, noise=0.01), 0.1: falling(300, rate=0.02, noise=0.01)})
    advice = instability_advice("s", url)
    assert advice.numbers["verdict"] == "too few trials to tell" and "unstable_lr" not in advice.numbers
    assert advice.lines[-1].startswith("Too few trials to tell: no learning rate above lr* = 0.1 was tried here")
    assert advice.next_command == "tunebook plan instability s/learning_rate=0.1/0"


def test_no_stable_rate_is_too_few_trials_to_tell(tmp_path: Path):
    url = _sweep(tmp_path, {0.5: spiking(300, at=150), 1.0: "infeasible"})
    advice = instability_advice("s", url)
    assert advice.numbers["verdict"] == "too few trials to tell" and advice.numbers["reference"] is None
    assert "no trial here trained stably, so there is no lr* to look above" in advice.lines[-1]


def _mixed(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'mixed.db'}"
    rows = [trial({"learning_rate": lr, "optimizer": opt, "num_layers": 2}, {"train/loss": falling(300, rate=rate)})
            for lr, opt, rate in ((0.001, "adam", 0.01), (0.01, "adam", 0.02), (0.1, "sgd", 0.005), (1.0, "sgd", 0.02))]
    store_experiment(url, spec("mixed", nuisance={"learning_rate": {"low": 1e-3, "high": 1.0, "scale": "log"},
                                                  "optimizer": ["adam", "sgd"]}, fixed={"num_layers": 2}), rows)
    return url


def test_mixed_optimizers_are_refused_naming_what_varies_and_what_would_do(tmp_path: Path):
    url = _mixed(tmp_path)
    with pytest.raises(NotASweepError) as refused:
        instability_advice("mixed", url)
    message = str(refused.value)
    assert "optimizer: varies (adam, sgd): mixed optimizer values, each with its own lr*" in message
    assert "tunebook plan instability mixed" in message and "--pin NAME=VALUE" in message
    with pytest.raises(NotASweepError, match="advise max-steps reads a sweep of one configuration"):
        max_steps("mixed", "train/loss<=0.1", url)


def test_a_seed_may_vary_and_anything_else_is_refused(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'seeds.db'}"
    rows = [trial({"learning_rate": lr, "seed": seed, "num_layers": depth}, {"train/loss": falling(300, rate=0.02)})
            for lr, seed, depth in ((0.01, 0, 2), (0.01, 1, 2), (0.1, 0, 3))]
    store_experiment(url, spec("seeds", nuisance={"learning_rate": {"low": 1e-3, "high": 1.0, "scale": "log"},
                                                  "seed": [0, 1], "num_layers": [2, 3]},
                                search={"algorithm": "quasi_random", "trials": 3}), rows)
    with pytest.raises(PlanInputError) as refused:
        instability_advice("seeds", url)
    assert refused.value.problems == [("num_layers", "varies (2, 3): it moves the best learning rate, so the learning "
                                                     "rates are not compared on one configuration")]


def test_max_steps_warns_on_a_sweep_that_is_not_the_playbooks(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    params = {"schedule": "linear", "warmup_steps": 10, "dropout": 0.1, "max_train_steps": 300}
    rows = [trial({"learning_rate": lr, **params}, {"train/loss": falling(300, rate=rate)})
            for lr, rate in ((0.01, 0.02), (0.1, 0.05), (1.0, 0.01))]
    store_experiment(url, spec("m", nuisance={"learning_rate": {"low": 1e-3, "high": 10.0, "scale": "log"}},
                               fixed=params), rows)
    advice = max_steps("m", "train/loss<=0.02", url)
    assert advice.numbers["fastest"]["trial"] == "m/default/1"
    assert any(w.startswith("Not the playbook's sweep: schedule is 'linear', not constant; warmup_steps is 10, not 0; "
                            "dropout is 0.1, not 0.") for w in advice.warnings)


def test_a_plan_from_an_experiment_that_is_not_a_sweep_says_lr_star_was_not_swept(tmp_path: Path):
    from tunebook.plans import instability

    url = _mixed(tmp_path)
    reason = instability("mixed", url).reasons[0].text
    assert reason.startswith("lr* = 0.01: the learning rate of mixed/default/1, from an experiment where optimizer "
                             "varies too: the plan holds them at this trial's values")
