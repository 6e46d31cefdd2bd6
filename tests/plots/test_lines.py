import numpy as np
import pytest

from tunebook.plots.lines import decimate, joined, spread


def test_decimate_keeps_short_curves_whole():
    steps, values = np.arange(10), np.linspace(1, 0, 10)
    kept_steps, kept_values = decimate(steps, values, max_points=10)
    assert kept_steps.tolist() == steps.tolist() and kept_values.tolist() == values.tolist()


@pytest.mark.parametrize("n,max_points", [(1000, 100), (1001, 400), (250_000, 400)])
def test_decimate_is_bounded_ordered_and_keeps_extremes(n, max_points):
    rng = np.random.default_rng(n)
    steps = np.arange(1, n + 1)
    values = np.exp(-steps / n * 5) + rng.normal(0, 0.01, n)
    spike, dip = n // 3, 2 * n // 3
    values[spike], values[dip] = 7.0, -3.0  # one-step outliers a plain stride would skip
    kept_steps, kept_values = decimate(steps, values, max_points)
    assert len(kept_steps) <= max_points and np.all(np.diff(kept_steps) > 0)
    assert {spike + 1, dip + 1} <= set(kept_steps.tolist())
    assert kept_values.max() == 7.0 and kept_values.min() == -3.0
    assert kept_steps[0] <= n // (max_points // 2) and kept_steps[-1] > n - n // (max_points // 2) - 1
    # every kept point is a real point of the curve
    assert np.array_equal(values[kept_steps - 1], kept_values)


def test_decimate_keeps_where_a_curve_diverged():
    steps = np.arange(1, 1001)
    values = np.linspace(2, 1, 1000)
    values[600:] = np.nan
    values[599] = np.inf
    kept_steps, kept_values = decimate(steps, values, max_points=50)
    first_bad = kept_steps[~np.isfinite(kept_values)]
    assert first_bad.tolist() == [600]  # the step where it diverged, once
    assert len(kept_steps) <= 51


def test_spread_is_even_and_keeps_both_ends():
    ordered = list(range(100, 200))
    assert spread(ordered, 200) == ordered
    picked = spread(ordered, 11)
    assert len(picked) == 11 and picked[0] == 100 and picked[-1] == 199
    assert set(np.diff(picked).tolist()) <= {9, 10}


def test_joined_separates_lines_and_keeps_ids():
    x, y, ids = joined([(7, [1, 2], [0.5, 0.4]), (9, [1, 2, 3], [1.0, 0.9, 0.8])])
    assert np.isnan(x[2]) and np.isnan(y[2]) and np.isnan(x[-1])
    assert x[:2].tolist() == [1, 2] and y[3:6].tolist() == [1.0, 0.9, 0.8]
    assert ids.tolist() == [7, 7, 7, 9, 9, 9, 9]
    x, y, ids = joined([])
    assert len(x) == len(y) == len(ids) == 0
