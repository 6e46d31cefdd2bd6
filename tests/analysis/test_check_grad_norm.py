"""check_grad_norm and clipping_threshold: the p90 clipping threshold and extremely aggressive clipping."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tunebook.analysis.checks.grad_norm import check_grad_norm, clipping_threshold
from tunebook.analysis.findings import Severity

from .curve_cases import decay, fire_rate, make_data, train_digits

STEPS = 1000


def norms(rng: np.random.Generator, scale: float = 1.0, late_scale: float | None = None) -> np.ndarray:
    """Log-normal gradient norms around ``scale`` (``late_scale`` over the last quarter of training)."""
    values = scale * np.exp(rng.normal(0.0, 0.3, STEPS))
    if late_scale is not None:
        values[int(0.75 * STEPS):] *= late_scale / scale
    return values


def study(rng: np.random.Generator, *makers, metric: str = "grad_norm") -> object:
    """One trial per maker, alternating depth 1 and 2; the first of each depth is its best trial."""
    return make_data([
        {"depth": 1 + k % 2, "curves": {metric: make(rng), "valid/loss": decay(20, floor=0.2 + 0.1 * k)}}
        for k, make in enumerate(makers)
    ])


def test_clipping_threshold_is_the_90th_percentile():
    assert clipping_threshold(np.arange(1, 101)) == pytest.approx(90.1)
    assert clipping_threshold([1.0, math.nan, math.inf, 3.0], q=1.0) == 3.0  # non-finite norms are left out
    assert clipping_threshold([2.0, 4.0], q=0.5) == 3.0
    rng = np.random.default_rng(0)
    assert clipping_threshold(np.exp(rng.normal(0, 0.3, 100_000))) == pytest.approx(math.exp(0.3 * 1.2816), rel=0.01)


@pytest.mark.parametrize("q", [0.0, -0.1, 1.5, math.nan])
def test_clipping_threshold_rejects_a_quantile_outside_0_1(q):
    with pytest.raises(ValueError, match="q must be in"):
        clipping_threshold([1.0, 2.0], q=q)


def test_clipping_threshold_needs_a_finite_norm():
    with pytest.raises(ValueError, match="at least one finite gradient norm"):
        clipping_threshold([math.nan, math.inf])


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=200))
def test_about_a_tenth_of_the_norms_lie_above_their_p90(values):
    threshold = clipping_threshold(values)
    assert min(values) <= threshold <= max(values)
    # linear interpolation between order statistics: at most one value more than a tenth
    assert np.mean(np.asarray(values) > threshold) <= 0.1 + 1 / len(values)


def test_same_distribution_everywhere_gives_the_threshold_and_no_warning():
    [finding] = check_grad_norm(study(np.random.default_rng(1), norms, norms, norms, norms))
    assert finding.severity is Severity.INFO and finding.id == "grad_norm"
    assert finding.evidence["threshold"] == pytest.approx(math.exp(0.3 * 1.2816), rel=0.05)
    assert finding.evidence["aggressive_trials"] == [] and finding.section == "Gradient clipping"
    for trial in finding.evidence["best_trials"]:
        assert trial["share_clipped"] == pytest.approx(0.1, abs=0.03)
        assert trial["p90"] == pytest.approx(finding.evidence["threshold"], rel=0.1)
    assert "90th percentile" in finding.message


def test_clean_norms_never_warn_over_seeds():
    clean = lambda rng: study(rng, norms, norms, norms, norms)  # noqa: E731
    assert fire_rate(lambda d: [f for f in check_grad_norm(d) if f.severity is Severity.WARNING], clean) == 0.0


def test_best_trial_whose_late_norms_dwarf_the_threshold_warns_to_lower_the_learning_rate():
    grows = lambda rng: norms(rng, late_scale=3.0)  # noqa: E731
    data = study(np.random.default_rng(2), grows, norms, norms, norms)
    findings = check_grad_norm(data)
    info, warning = findings
    assert info.severity is Severity.INFO and warning.severity is Severity.WARNING
    assert "extremely aggressive" in warning.message and f"depth=1 ({data.trial_name(1)}" in warning.message
    assert "Lower the learning rate" in warning.action
    [best] = [t for t in warning.evidence["best_trials"] if t["trial"] == data.trial_name(1)]
    assert best["late_share_clipped"] > 0.9
    assert warning.evidence["aggressive_trials"] == [data.trial_name(1)]
    json.dumps(warning.to_dict()), json.dumps(info.to_dict())  # evidence is plain data


def test_planted_aggressive_clipping_fires_over_seeds():
    planted = lambda rng: study(rng, lambda r: norms(r, late_scale=2.0), norms, norms, norms)  # noqa: E731
    assert fire_rate(lambda d: [f for f in check_grad_norm(d) if f.severity is Severity.WARNING], planted) >= 0.95


def test_other_trials_over_the_line_are_counted_but_do_not_warn():
    big = lambda rng: norms(rng, scale=5.0)  # noqa: E731
    # one trial in eight: under a tenth of the pooled norms, so the p90 stays with the others
    data = study(np.random.default_rng(3), norms, norms, big, *[norms] * 5)
    [info] = check_grad_norm(data)
    assert info.evidence["aggressive_trials"] == [data.trial_name(3)] and "1 trial(s)" in info.message


def test_train_grad_norm_name_and_missing_norms():
    assert check_grad_norm(study(np.random.default_rng(4), norms, metric="train/grad_norm"))[0].evidence["metric"] \
        == "train/grad_norm"
    assert check_grad_norm(make_data([{"depth": 1, "curves": {"valid/loss": decay(20)}}])) == []
    failed = make_data([{"depth": 1, "curves": {"grad_norm": np.ones(10)}, "state": "failed"}])
    assert check_grad_norm(failed) == []


def test_real_digits_mlp_gradient_norms():
    curves = train_digits(400, lr=1e-3)
    [finding] = check_grad_norm(make_data([{"depth": 2, "curves": curves}]))
    assert finding.severity is Severity.INFO
    assert finding.evidence["threshold"] == pytest.approx(np.quantile(curves["grad_norm"][1], 0.9), rel=1e-3)
    assert finding.evidence["best_trials"][0]["late_share_clipped"] <= 0.4  # one trial's own p90: never > 40 %
