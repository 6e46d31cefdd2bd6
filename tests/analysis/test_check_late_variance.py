"""check_late_variance: late step-to-step noise of the objective against the difference being judged."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tunebook.analysis.checks.late_variance import check_late_variance
from tunebook.analysis.findings import Severity

from .curve_cases import decay, fire_rate, make_data, noisy, steps

POINTS = 60
GAP = 0.1  # between the floors of the two scientific values' best trials


def late_noise(sigma: float, rng: np.random.Generator, early: float = 0.002) -> np.ndarray:
    """Per-point noise of ``early`` before half of training and ``sigma`` after it."""
    t = steps(POINTS) / steps(POINTS)[-1]
    return rng.normal(0.0, 1.0, POINTS) * np.where(t > 0.5, sigma, early)


def two_values(rng: np.random.Generator, sigma: float, mode: str = "min", **spec_args) -> object:
    """depth=1 ends near 0.3, depth=2 near 0.3 + GAP; two trials each, the second clearly worse."""
    trials = []
    for depth, floor in ((1, 0.3), (2, 0.3 + GAP)):
        for extra in (0.0, 0.5):
            curve = decay(POINTS, floor=floor + extra) + late_noise(sigma, rng)
            trials.append({"depth": depth, "curves": {"valid/loss": curve if mode == "min" else 1 - curve}})
    metric = {"metric": "valid/loss", "mode": mode}
    return make_data(trials, **metric, **spec_args)


def test_noise_as_large_as_the_gap_warns_with_the_playbook_remedies():
    [finding] = check_late_variance(two_values(np.random.default_rng(0), sigma=GAP))
    assert finding.severity is Severity.WARNING and finding.id == "late_variance"
    assert "step-to-step variance" in finding.message and "late in training" in finding.message
    evidence = finding.evidence
    assert evidence["compared"] == "scientific values"
    assert {t["label"] for t in evidence["trials"]} == {"depth=1", "depth=2"}
    assert all(0.3 * GAP < t["late_noise"] < 3 * GAP for t in evidence["trials"])  # a MAD of 13 differences
    for remedy in ("batch size", "validation data", "learning rate decay", "Polyak averaging"):
        assert remedy in finding.action
    json.dumps(finding.to_dict())  # evidence is plain data


@pytest.mark.parametrize("sigma", [0.001, 0.005, 0.01])
def test_late_noise_small_next_to_the_gap_stays_silent(sigma):
    assert fire_rate(check_late_variance, lambda rng: two_values(rng, sigma)) <= 0.05


@pytest.mark.parametrize("sigma", [1.5 * GAP, 3 * GAP])
def test_late_noise_comparable_to_the_gap_fires_over_seeds(sigma):
    assert fire_rate(check_late_variance, lambda rng: two_values(rng, sigma)) >= 0.95


def test_noise_only_early_in_training_is_not_late_variance():
    rng = np.random.default_rng(1)
    t = steps(POINTS) / steps(POINTS)[-1]
    trials = [{"depth": d, "curves": {"valid/loss": decay(POINTS, floor=f) + rng.normal(0, 1, POINTS)
                                      * np.where(t < 0.5, GAP, 0.001)}} for d, f in ((1, 0.3), (2, 0.3 + GAP))]
    assert check_late_variance(make_data(trials)) == []


def test_max_objective_and_joint_study():
    assert check_late_variance(two_values(np.random.default_rng(2), 0.001, mode="max", studies="joint")) == []
    [finding] = check_late_variance(two_values(np.random.default_rng(2), GAP, mode="max", studies="joint"))
    assert finding.study == "joint"


def test_one_study_compares_its_top_two_trials():
    rng = np.random.default_rng(3)
    trials = [{"depth": 1, "curves": {"valid/loss": decay(POINTS, floor=f) + late_noise(0.05, rng)}}
              for f in (0.30, 0.32, 0.8)]
    data = make_data(trials, depths=(1,))
    [finding] = check_late_variance(data)
    assert finding.evidence["compared"] == "top trials"
    assert [t["trial"] for t in finding.evidence["trials"]] == [data.trial_name(1), data.trial_name(2)]
    far = [{"depth": 1, "curves": {"valid/loss": decay(POINTS, floor=f) + late_noise(0.005, rng)}}
           for f in (0.30, 0.5)]
    assert check_late_variance(make_data(far, depths=(1,))) == []


def test_noiseless_tie_and_unjudgeable_cases_are_silent():
    tie = [{"depth": d, "curves": {"valid/loss": decay(POINTS)}} for d in (1, 2)]
    assert check_late_variance(make_data(tie)) == []  # equal, but no variance at all
    alone = [{"depth": 1, "curves": {"valid/loss": noisy(decay(POINTS), 0.1, np.random.default_rng(4))}}]
    assert check_late_variance(make_data(alone, depths=(1,))) == []  # nothing to compare with
    short = [{"depth": d, "curves": {"valid/loss": decay(5) + 0.1 * d}} for d in (1, 2)]
    # too short to judge is said, not left silent (issue 13: "too few to tell" where the test cannot reach its level)
    [finding] = check_late_variance(make_data(short))
    assert finding.severity is Severity.INFO and "Too few evaluations to tell" in finding.message
    assert finding.evidence["needed"] == 8
