"""Domains: mapping the unit interval to values, grids, membership."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tunebook.core import Choice, Fixed, Range
from tunebook.core.domains import same_value

BELOW_ONE = math.nextafter(1.0, 0.0)


def test_linear_float_from_unit():
    r = Range(2.0, 6.0)
    assert r.from_unit(0.0) == 2.0
    assert r.from_unit(0.25) == 3.0
    assert r.from_unit(BELOW_ONE) == pytest.approx(6.0)


def test_log_float_from_unit_hits_both_ends_and_is_uniform_in_log_space():
    r = Range(1e-4, 1.0, "log")
    assert r.from_unit(0.0) == pytest.approx(1e-4, rel=1e-12)
    assert r.from_unit(BELOW_ONE) == pytest.approx(1.0, rel=1e-12)
    assert r.from_unit(1.0) == 1.0  # clamped, never past high
    assert r.from_unit(0.5) == pytest.approx(1e-2)
    assert r.from_unit(0.25) == pytest.approx(1e-3)
    for k in range(101):
        assert 1e-4 <= r.from_unit(k / 100) <= 1.0


def test_int_linear_from_unit_hits_both_ends_with_equal_shares():
    r = Range(1, 4, type="int")
    assert r.from_unit(0.0) == 1
    assert r.from_unit(BELOW_ONE) == 4
    assert r.from_unit(1.0) == 4
    n = 4000
    counts = Counter(r.from_unit((i + 0.5) / n) for i in range(n))
    assert counts == {1: 1000, 2: 1000, 3: 1000, 4: 1000}
    assert all(type(v) is int for v in counts)


@pytest.mark.parametrize("low, high", [(1, 1000), (2, 9), (16, 512), (1, 2)])
def test_int_log_from_unit_hits_both_ends(low, high):
    r = Range(low, high, "log", "int")
    assert r.from_unit(0.0) == low
    assert r.from_unit(BELOW_ONE) == high
    assert r.from_unit(1.0) == high
    values = [r.from_unit(k / 1000) for k in range(1001)]
    assert all(type(v) is int and low <= v <= high for v in values)
    assert values == sorted(values)


def test_int_log_shares_follow_log_space():
    # Integer k owns [k - 1/2, k + 1/2] in log space: 1 gets log(3), 8 gets log(17/15).
    r = Range(1, 8, "log", "int")
    n = 20000
    counts = Counter(r.from_unit((i + 0.5) / n) for i in range(n))
    assert set(counts) == set(range(1, 9))
    total = math.log(8.5 / 0.5)
    for k in range(1, 9):
        share = math.log((k + 0.5) / (k - 0.5)) / total
        assert counts[k] / n == pytest.approx(share, abs=2e-3)


@given(st.floats(0.0, 1.0))
def test_from_unit_stays_inside_the_range(u):
    for r in (Range(-3.0, 7.5), Range(1e-9, 1e3, "log"), Range(-5, 5, type="int"), Range(1, 10**6, "log", "int")):
        assert r.contains(r.from_unit(u))


def test_linear_grid():
    assert Range(0.0, 1.0).grid(5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert Range(0.0, 1.0).grid(2) == [0.0, 1.0]


def test_log_grid_has_exact_ends():
    g = Range(1e-4, 1.0, "log").grid(5)
    assert g[0] == 1e-4 and g[-1] == 1.0
    assert g[1:4] == pytest.approx([1e-3, 1e-2, 1e-1])


def test_int_grid_rounds_and_drops_repeats():
    assert Range(1, 3, type="int").grid(5) == [1, 2, 3]
    assert Range(0, 100, type="int").grid(3) == [0, 50, 100]
    g = Range(1, 1024, "log", "int").grid(11)
    assert g == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
    assert all(type(v) is int for v in g)


def test_grid_of_one_is_the_middle_on_the_ranges_scale():
    assert Range(0.0, 1.0).grid(1) == [0.5]
    assert Range(1e-4, 1.0, "log").grid(1) == pytest.approx([1e-2])
    assert Range(1, 100, "log", "int").grid(1) == [10]


def test_choice_grid_is_all_values():
    assert Choice(("a", "b", "c")).grid(2) == ["a", "b", "c"]


def test_choice_from_unit_gives_each_value_an_equal_share():
    c = Choice(("a", "b", "c", "d"))
    assert [c.from_unit(u) for u in (0.0, 0.24, 0.25, 0.5, 0.75, BELOW_ONE, 1.0)] == [
        "a", "a", "b", "c", "d", "d", "d",
    ]
    assert c.index_from_unit(1.0) == 3


def test_range_contains():
    r = Range(0, 10, type="int")
    assert r.contains(3) and r.contains(3.0) and r.contains(0) and r.contains(10)
    assert not r.contains(3.5)
    assert not r.contains(11)
    assert not r.contains(True)  # a bool is not a number here
    assert not r.contains("3")
    assert not r.contains(math.inf)
    assert not r.contains(math.nan)
    assert not r.contains(10**400)
    f = Range(0.0, 1.0)
    assert f.contains(0.5) and f.contains(1) and not f.contains(1.01)
    assert not f.contains(math.nan) and not f.contains(None)


def test_choice_and_fixed_contains_keep_bools_apart():
    assert Choice((0, 1)).contains(1.0)  # numbers compare as numbers
    assert not Choice((0, 1)).contains(True)
    assert not Choice((True, False)).contains(1)
    assert not Choice(("1",)).contains(1)
    assert Choice((None, "x")).contains(None)
    assert Fixed(1).contains(1) and not Fixed(1).contains(True)
    assert not Fixed(False).contains(0)


def test_same_value():
    assert same_value(1, 1.0)
    assert same_value(True, True)
    assert not same_value(1, True)
    assert not same_value(0, False)
    assert not same_value("a", "b")
    assert same_value(None, None)


def test_is_varied():
    assert Range(0, 1).is_varied
    assert Choice((1, 2)).is_varied
    assert not Choice((1,)).is_varied
    assert not Fixed(3).is_varied


def test_describe():
    assert Range(1e-4, 1.0, "log").describe() == "[0.0001, 1, log]"
    assert Range(1, 8, type="int").describe() == "[1, 8, int]"
    assert Choice(("adam", "sgd")).describe() == "{adam, sgd}"
    assert Fixed("x").describe() == "'x'"
