"""ScrambledHalton, tested the way Vizier's quasi_random_test.py tests its sequence."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.stats import qmc

from tunebook.search.halton import ScrambledHalton, first_primes

# The first points of ScrambledHalton(3, seed=0), computed once. A change here
# changes every study's trials: a resumed study would no longer continue the
# sequence it started, so change these only with a deliberate format break.
GOLDEN_DIM3_SEED0 = [
    [0.07995711866060518, 0.5268514538057479, 0.7455568595815373],
    [0.5799571186606052, 0.19351812047241457, 0.5455568595815372],
    [0.3299571186606052, 0.8601847871390813, 0.34555685958153726],
    [0.8299571186606052, 0.4157403426946369, 0.9455568595815373],
    [0.20495711866060518, 0.08240700936130363, 0.1455568595815373],
]
GOLDEN_DIM3_SEED0_FAR = [0.07927469670066856, 0.19656272110701511, 0.7455566113639372]  # k = 10**9

N = 1000


def test_first_primes():
    assert first_primes(10) == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]


def test_golden_values():
    halton = ScrambledHalton(3, seed=0)
    for k, expected in enumerate(GOLDEN_DIM3_SEED0):
        assert halton.point(k) == pytest.approx(expected, rel=1e-12, abs=1e-13)
    assert halton.point(10**9) == pytest.approx(GOLDEN_DIM3_SEED0_FAR, rel=1e-12, abs=1e-13)


def test_same_seed_same_points():
    a, b = ScrambledHalton(4, seed=7), ScrambledHalton(4, seed=7)
    assert np.array_equal(a.points(0, 200), b.points(0, 200))
    assert a.point(12345) == b.point(12345)


def test_different_seeds_differ_in_every_dimension():
    a, b = ScrambledHalton(4, seed=0).points(0, 100), ScrambledHalton(4, seed=1).points(0, 100)
    for d in range(4):
        assert not np.allclose(a[:, d], b[:, d])


def test_point_is_the_row_of_points_bit_for_bit():
    # The sampler picks a branch from point(k) and counts earlier entries of
    # that branch from column(): the two paths must give the very same floats.
    halton = ScrambledHalton(6, seed=3)
    block = halton.points(0, 700)
    assert np.array_equal(block, np.array([halton.point(k) for k in range(700)]))
    far = halton.points(10**9 - 5, 10**9 + 5)
    assert np.array_equal(far, np.array([halton.point(k) for k in range(10**9 - 5, 10**9 + 5)]))
    for d in range(6):
        assert np.array_equal(halton.column(d, 300, 700), block[300:, d])


def test_points_of_a_window_equal_the_same_rows_of_a_longer_run():
    halton = ScrambledHalton(3, seed=11)
    assert np.array_equal(halton.points(250, 300), halton.points(0, 300)[250:])


@pytest.mark.parametrize("k", [10**6, 10**9, 2**40 + 3])
def test_far_indices_work_and_lie_in_unit_cube(k):
    point = ScrambledHalton(5, seed=2).point(k)
    assert len(point) == 5
    assert all(0.0 <= x < 1.0 for x in point)
    assert point != ScrambledHalton(5, seed=2).point(k + 1)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_each_dimension_is_uniform(seed):
    points = ScrambledHalton(5, seed=seed).points(0, N)
    for d in range(5):
        assert stats.kstest(points[:, d], "uniform").pvalue > 0.01, f"dimension {d}"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_range_covered(seed):
    points = ScrambledHalton(6, seed=seed).points(0, N)
    assert (points >= 0).all() and (points < 1).all()
    assert (points.min(axis=0) < 0.01).all()
    assert (points.max(axis=0) > 0.99).all()


def test_many_points_are_distinct():
    points = ScrambledHalton(4, seed=0).points(0, N)
    assert len({tuple(p) for p in points}) == N
    for d in range(4):  # no coordinate repeats either: each index has its own digits
        assert len(np.unique(points[:, d])) == N


def test_first_base_power_points_fill_every_slice_once():
    # Dimension 0 has base 2: the first 2**m points put exactly one point in
    # each 1/2**m of the interval (digit scrambling and the shift keep this).
    column = ScrambledHalton(2, seed=5).column(0, 0, 64)
    assert np.array_equal(np.bincount((column * 64).astype(int), minlength=64), np.ones(64))
    column = ScrambledHalton(2, seed=5).column(1, 0, 81)  # base 3
    assert np.array_equal(np.bincount((column * 81).astype(int), minlength=81), np.ones(81))


@pytest.mark.parametrize("dim", [4, 5, 6])
def test_discrepancy_well_below_random(dim):
    seeds = range(30)
    halton = np.array([qmc.discrepancy(ScrambledHalton(dim, seed=s).points(0, 64)) for s in seeds])
    rng = np.random.default_rng(1234)
    random = np.array([qmc.discrepancy(rng.random((64, dim))) for _ in seeds])
    # measured: ratio of means 0.15 (4 dims), 0.20 (5), 0.26 (6); worst seed 0.19-0.32
    assert halton.mean() < 0.5 * random.mean()
    # and no single seed is a bad draw
    assert halton.max() < 0.75 * random.mean()
