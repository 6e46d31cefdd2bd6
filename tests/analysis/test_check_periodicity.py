"""check_periodicity: periodic structure in the validation curve, with a measured false-alarm rate."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tunebook.analysis.checks.periodicity import CAUSES, K_PEAK, check_periodicity, peak_ratio
from tunebook.analysis.findings import Severity

from .curve_cases import MAX_STEPS, decay, fire_rate, make_data, steps

POINTS = 200
SIGMA = 0.02


def aperiodic(rng: np.random.Generator, kind: str = "white", points: int = POINTS) -> np.ndarray:
    """A decaying validation loss plus noise of one aperiodic kind."""
    noise = rng.normal(size=points)
    if kind == "ar":  # correlated: AR(1), phi 0.9, unit variance
        for i in range(1, points):
            noise[i] = 0.9 * noise[i - 1] + np.sqrt(1 - 0.81) * noise[i]
    elif kind == "spiky":
        noise = rng.standard_t(2, size=points)
    elif kind == "hetero":
        noise *= np.linspace(0.2, 2.0, points)
    return decay(points) + SIGMA * noise


def periodic(rng: np.random.Generator, period: int = 8, amplitude: float = 2.0) -> np.ndarray:
    """``aperiodic`` plus a sine of ``period`` points and ``amplitude`` noise units: an unshuffled loader."""
    return aperiodic(rng) + amplitude * SIGMA * np.sin(2 * np.pi * np.arange(POINTS) / period)


def case(make) -> callable:
    return lambda rng: make_data([{"depth": 1, "curves": {"valid/loss": make(rng)}},
                                  {"depth": 2, "curves": {"valid/loss": aperiodic(rng) + 0.1}}])


@pytest.mark.parametrize("kind", ["white", "ar", "spiky", "hetero"])
def test_false_alarm_rate_on_aperiodic_curves_is_small(kind):
    rng = np.random.default_rng(7)
    ratios = np.array([peak_ratio(aperiodic(rng, kind))[0] for _ in range(300)])
    assert np.mean(ratios > K_PEAK) <= 0.02  # measured <= 1 % (docstring); 2 % leaves room for 300 draws


def test_planted_period_fires_with_its_period_in_steps_and_the_playbook_causes():
    assert fire_rate(check_periodicity, case(periodic)) >= 0.95
    data = case(periodic)(np.random.default_rng(0))
    [finding] = check_periodicity(data)
    assert finding.severity is Severity.WARNING and finding.id == "periodicity"
    assert CAUSES in finding.message and "shuffled" in finding.message
    [row] = finding.evidence["trials"]
    spacing = steps(POINTS)[1] - steps(POINTS)[0]
    assert row["trial"] == data.trial_name(1) and row["period_steps"] == pytest.approx(8 * spacing, rel=0.1)
    assert data.trial_name(1) in finding.message
    json.dumps(finding.to_dict())


def test_aperiodic_sweeps_stay_silent():
    assert fire_rate(check_periodicity, case(aperiodic)) <= 0.05


def test_too_few_evaluations_to_tell():
    data = make_data([{"depth": 1, "curves": {"valid/loss": decay(30)}}])
    [finding] = check_periodicity(data)
    assert finding.severity is Severity.INFO and "Too few evaluations to tell" in finding.message
    assert finding.evidence["needed"] == 40 and MAX_STEPS
