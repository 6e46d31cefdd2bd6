"""rolling_median gives pandas' rolling median to the bit, on every kind of argument the checks pass."""

import numpy as np
import pandas as pd
import pytest

from tunebook.analysis.checks import rolling
from tunebook.analysis.checks.rolling import rolling_median, rolling_medians


def _pandas(values, window, min_periods, center):
    return pd.Series(values, dtype=float).rolling(window, min_periods=min_periods, center=center).median().to_numpy()


def test_it_matches_pandas_on_random_curves_with_gaps_ties_and_infinities():
    rng = np.random.default_rng(7)
    for _ in range(1500):
        n, window = int(rng.integers(0, 90)), int(rng.integers(1, 32))
        min_periods = int(rng.integers(0, window + 1)) if rng.random() < 0.7 else None
        center = bool(rng.random() < 0.5)
        values = rng.normal(size=n) * 10.0 ** rng.integers(-3, 5)
        if n and rng.random() < 0.3:  # gaps: NaN points are skipped
            values[rng.integers(0, n, size=int(rng.integers(1, n + 1)))] = np.nan
        if n and rng.random() < 0.1:  # pandas reads an infinity as a gap
            values[rng.integers(0, n)] = -np.inf if rng.random() < 0.5 else np.inf
        if rng.random() < 0.3:  # ties, as a quantized error rate has
            values = np.round(values)
        expected = _pandas(values, window, min_periods, center)
        assert np.array_equal(rolling_median(values, window, min_periods, center), expected, equal_nan=True), \
            (n, window, min_periods, center)


@pytest.mark.parametrize("center", [False, True])
def test_a_long_curve_past_the_direct_limit_gives_the_same_numbers(monkeypatch, center):
    values = np.random.default_rng(1).normal(size=3000)
    direct = rolling_median(values, 101, 40, center)
    monkeypatch.setattr(rolling, "DIRECT_CELLS", 1000)  # the pandas path
    assert np.array_equal(rolling_median(values, 101, 40, center), direct, equal_nan=True)
    assert np.array_equal(direct, _pandas(values, 101, 40, center), equal_nan=True)


@pytest.mark.parametrize("window", [20, 101])
def test_a_long_curve_with_gaps_mixes_the_rank_filter_and_the_sorted_windows_exactly(window):
    values = np.random.default_rng(3).normal(size=2000).cumsum()
    values[:30] = np.nan  # a shifted curve's empty start
    values[[700, 701, 1500]] = [np.nan, np.inf, np.nan]  # gaps inside: the windows around them are sorted
    for center in (False, True):
        for min_periods in (None, window // 2, 1):
            assert np.array_equal(rolling_median(values, window, min_periods, center),
                                  _pandas(values, window, min_periods, center), equal_nan=True)


def test_many_curves_in_one_call_give_each_curve_its_own_medians():
    rng = np.random.default_rng(11)
    for _ in range(200):
        window = int(rng.integers(1, 40))
        min_periods = int(rng.integers(0, window + 1)) if rng.random() < 0.7 else None
        center = bool(rng.random() < 0.5)
        curves = [rng.normal(size=int(rng.integers(0, 120))).cumsum() for _ in range(int(rng.integers(1, 6)))]
        for values in curves:
            if len(values) and rng.random() < 0.4:  # gaps and infinities, at the ends too
                values[rng.integers(0, len(values), size=3)] = [np.nan, np.inf, np.nan]
        together = rolling_medians(curves, window, min_periods, center)
        assert [len(m) for m in together] == [len(v) for v in curves]
        for values, medians in zip(curves, together):
            assert np.array_equal(medians, _pandas(values, window, min_periods, center), equal_nan=True), \
                (len(values), window, min_periods, center)
