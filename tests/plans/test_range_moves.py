"""``plans.range_moves``: expansion on the range's own scale, cuts, and narrowing only where sampling supports it."""

from __future__ import annotations

import numpy as np
import pytest

from tunebook.core.domains import Range
from tunebook.plans.range_moves import cut, expand, narrowed, span_p_value

LOG = Range(1e-4, 1e-1, "log")


def test_a_log_range_is_expanded_by_the_factor_and_a_linear_one_by_its_width():
    assert expand(LOG, "high", 2.0, "lr") == (Range(1e-4, 0.2, "log"), "")
    assert expand(LOG, "low", 10.0, "lr") == (Range(1e-5, 0.1, "log"), "")
    assert expand(Range(2.0, 6.0), "high", 1.5, "width")[0] == Range(2.0, 8.0)


def test_expansion_stops_short_of_the_natural_limits():
    assert expand(Range(0.0, 0.9), "high", 2.0, "momentum") == (Range(0.0, 0.95), " (halfway to 1: it stays below 1)")
    assert expand(Range(0.1, 0.5), "low", 3.0, "dropout") == (Range(0.05, 0.5), " (halfway to 0: it stays non-negative)")
    assert expand(Range(16, 256, "log", "int"), "high", 2.0, "width")[0] == Range(16, 512, "log", "int")


def test_a_cut_ends_the_range_at_the_nearest_feasible_value():
    assert cut(LOG, "above", 0.0312345) == Range(1e-4, 0.03123, "log")
    assert cut(LOG, "below", 0.001) == Range(0.001, 0.1, "log")


def test_the_span_probability_is_that_of_uniform_draws():
    rng = np.random.default_rng(0)
    draws = rng.random((20000, 6))
    spans = draws.max(axis=1) - draws.min(axis=1)
    assert span_p_value(6, 0.5) == pytest.approx(np.mean(spans <= 0.5), abs=0.01)


def test_a_range_is_narrowed_only_when_the_top_trials_cluster_beyond_chance():
    clustered = [0.001, 0.0012, 0.0015, 0.002, 0.0011, 0.0014, 0.0017, 0.0013]
    found = narrowed(LOG, clustered)
    assert found.domain is not None and found.domain.low < 0.001 and found.domain.high > 0.002
    assert found.domain.high < 0.01 and found.p_value < 0.01
    spread = list(np.geomspace(1.1e-4, 0.09, 8))
    assert narrowed(LOG, spread).domain is None and "as wide as chance" in narrowed(LOG, spread).why
    assert narrowed(LOG, clustered[:3]).why == "too few trials to tell: 3 top trials, 5 needed"
