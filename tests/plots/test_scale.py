import dataclasses
import math

import numpy as np
import pytest

from tests.analysis import synthetic as syn
from tunebook.plots.scale import divergence_factor, diverged_at, log_is_better, padded, value_range


def test_diverged_at_first_non_finite_or_explosion():
    steps = np.array([10, 20, 30, 40, 50])
    assert diverged_at(steps, [2.0, 1.0, 0.5, 0.4, 0.3], factor=10) is None
    assert diverged_at(steps, [2.0, 1.0, np.nan, 0.4, np.inf]) == 30  # NaN: diverged, factor or not
    assert diverged_at(steps, [2.0, 1.0, np.inf, 0.4, 0.3]) == 30
    assert diverged_at(steps, [2.0, 1.0, 25.0, np.nan, np.nan], factor=10) == 30  # above 10 x 2.0
    assert diverged_at(steps, [2.0, 1.0, 25.0, 0.4, 0.3], factor=None) is None  # explosion not checked
    assert diverged_at(steps, [np.nan, 2.0, 25.0, 1.0, 1.0], factor=10) == 10
    assert diverged_at(steps, [-1.0, 2.0, 25.0, 1.0, 1.0], factor=10) is None  # first value <= 0: no ratio


def test_divergence_factor_follows_the_spec():
    assert divergence_factor(syn.experiment()) == 10.0  # no run section: the tracking default
    exp = syn.experiment()
    assert divergence_factor(dataclasses.replace(exp, run={"divergence": {"factor": 100}})) == 100.0
    assert divergence_factor(dataclasses.replace(exp, run={"divergence": {"factor": None}})) is None


def test_value_range_log_and_padding():
    assert value_range([np.array([3.0, np.nan]), np.array([-1.0, np.inf])]) == (-1.0, 3.0)
    assert value_range([np.array([np.nan])]) is None
    assert log_is_better(0.001, 2.0) and not log_is_better(0.05, 2.0) and not log_is_better(0.0, 100.0)
    assert padded(0.0, 1.0) == pytest.approx((-0.05, 1.05))
    low, high = padded(0.01, 100.0, log=True)
    assert math.log10(low) == pytest.approx(-2.2) and math.log10(high) == pytest.approx(2.2)
    assert padded(3.0, 3.0)[0] < 3.0 < padded(3.0, 3.0)[1]  # never empty
