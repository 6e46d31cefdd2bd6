"""``best_step``: where retrospective checkpoint selection finds the best step, relative to training length."""

from __future__ import annotations

import json

import numpy as np

import pytest

from tunebook.analysis.checks.best_step import SECTION, best_step_fractions, check_best_step
from tunebook.analysis.findings import Severity
from tunebook.analysis.objective import with_objective

from . import synthetic


def curve(best: int, length: int = 1000, every: int = 100) -> dict:
    """A loss curve over [0, length] whose lowest point is at step ``best`` (a multiple of ``every``)."""
    return {"loss": [(s, 0.1 + ((s - best) / length) ** 2) for s in range(0, length + 1, every)]}


def study(best_steps, fixed=None, **curve_args):
    exp = synthetic.experiment(fixed=fixed)
    rows = [("default", {"lr": 1e-3 * (i + 1)}, curve(b, **curve_args)) for i, b in enumerate(best_steps)]
    return synthetic.frames(exp, rows)


def test_best_steps_always_early_mean_far_too_many_steps():
    [finding] = check_best_step(study([100] * 10 + [0] * 9 + [600]))  # 19 of 20 in the first 10 %
    assert finding.severity is Severity.WARNING and finding.section == SECTION and finding.study == "default"
    assert "way too high" in finding.message and "19 of 20" in finding.message
    assert "Lower max_train_steps" in finding.action
    assert finding.evidence["early"] == 19 and finding.evidence["n"] == 20
    json.dumps(finding.to_dict())


def test_best_steps_consistently_late_mean_train_longer_and_retune_the_decay():
    [finding] = check_best_step(study([1000] * 10 + [800] * 5 + [200] * 5))  # 15 of 20 in the last 25 %
    assert finding.severity is Severity.WARNING
    assert "last 25 %" in finding.message and "still improving" in finding.message
    assert "training longer" in finding.action and "decay schedule" in finding.action


@pytest.mark.parametrize("steps", [
    [100] * 17 + [500] * 3,  # 85 % early: not "always"
    [1000] * 14 + [300] * 6,  # 70 % late: not "consistently"
    list(range(0, 1001, 50)),  # spread over training
])
def test_otherwise_it_describes_the_spread(steps):
    [finding] = check_best_step(study(steps))
    assert finding.severity is Severity.INFO and "median at" in finding.message


def test_the_fraction_is_of_the_last_logged_step_of_the_objective_metric():
    frame = best_step_fractions(study([0, 500, 1000], length=2000, every=500))
    assert frame["length"].tolist() == [2000.0] * 3
    assert frame["fraction"].tolist() == [0.0, 0.25, 0.5]


def test_a_fixed_max_train_steps_is_the_training_length_when_the_curve_fits_it():
    # evaluated every 300 steps of 2000: the last evaluation is at 1800
    data = study([1800, 1800, 1800], fixed={"max_train_steps": 2000}, length=2000, every=300)
    assert best_step_fractions(data)["fraction"].tolist() == [0.9, 0.9, 0.9]


def test_a_curve_in_other_units_than_max_train_steps_uses_its_own_last_step():
    data = study([8, 9, 10], fixed={"max_train_steps": 10_000}, length=10, every=1)  # logged per epoch
    assert best_step_fractions(data)["fraction"].tolist() == [0.8, 0.9, 1.0]
    assert check_best_step(data)[0].severity is Severity.WARNING  # late, not "way too many steps"


def test_too_few_trials_are_not_judged():
    [finding] = check_best_step(study([0, 0]))
    assert finding.severity is Severity.INFO and "too few" in finding.message


def test_trials_without_a_best_step_are_left_out():
    exp = synthetic.experiment()
    rows = [("default", {"lr": 0.1}, None), ("default", {"lr": 0.2}, {"other": [(0, 1.0)]}),
            *[("default", {"lr": 0.01 * i}, curve(0)) for i in range(1, 4)]]
    frame = best_step_fractions(synthetic.frames(exp, rows))
    assert frame["trial_id"].tolist() == [3, 4, 5]


def test_the_objective_reduction_decides_the_best_step():
    data = study([0] * 20)
    assert "way too high" in check_best_step(data)[0].message
    final = with_objective(data, reduce="final")  # the final value is at the last step by definition
    [finding] = check_best_step(final)  # so nothing about max_train_steps follows from it
    assert finding.severity is Severity.INFO and "objective.reduce is final" in finding.message


def test_one_finding_per_study_with_complete_trials():
    exp = synthetic.experiment(scientific={"width": [1, 2, 3]})
    rows = [(f"width={w}", {"width": w, "lr": 0.01}, curve(500)) for w in (1, 2) for _ in range(3)]
    rows.append(("width=3", {"width": 3, "lr": 0.01}, None))
    assert [f.study for f in check_best_step(synthetic.frames(exp, rows))] == ["width=1", "width=2"]


def _creeping(rng: np.random.Generator, points: int = 50) -> np.ndarray:
    """Saturates by a fifth of training, then creeps down by 0.01 under noise 0.003: best steps late."""
    from .curve_cases import MAX_STEPS, decay, steps

    t = steps(points) / MAX_STEPS
    return decay(points, tau=0.06, floor=0.3) - 0.01 * np.clip((t - 0.3) / 0.7, 0, None) + rng.normal(0, 0.003, points)


def test_training_length_checks_never_contradict_each_other():
    # issue 13: best_step warned "still improving at the end ... train longer" while saturated_early said
    # "the number of training steps may be decreased", in one report. Over seeds, the same curves now give
    # one consistent answer: saturated, with the late best steps reported as small gains.
    from tunebook.analysis.checks.compute import check_saturated_early, check_still_improving
    from .curve_cases import make_data

    for seed in range(10):
        rng = np.random.default_rng(seed)
        data = make_data([{"depth": d, "curves": {"valid/loss": _creeping(rng) + 0.01 * k}}
                          for d in (1, 2) for k in range(4)])
        findings = check_best_step(data)
        saturated, improving = check_saturated_early(data), check_still_improving(data)
        warns_longer = [f for f in findings if f.severity is Severity.WARNING and "still improving" in f.message]
        assert not (warns_longer and saturated) and not (saturated and improving)
        if saturated:
            late = [f for f in findings if f.evidence.get("curve_shape") == "saturated"]
            assert all("saturated early" in f.message and f.severity is Severity.INFO for f in late)


def test_a_final_value_objective_has_no_best_step_to_place_and_is_not_told_to_train_longer():
    exp = synthetic.experiment(reduce="final")
    rows = [("default", {"lr": 1e-3 * (i + 1)}, curve(b)) for i, b in enumerate([200, 500, 800, 300, 600])]
    [finding] = check_best_step(synthetic.frames(exp, rows))
    assert finding.severity is Severity.INFO and finding.section == SECTION
    assert "objective.reduce is final" in finding.message and "reduce: best" in finding.action
