"""Time per step from step-line arrival times: skipped warm-up, median, fallbacks."""

from __future__ import annotations

import pytest

from tunebook.probe.records import STEP_LINES, WALL_TIME
from tunebook.probe.timing import measure, step_times


def every(seconds: float, steps: range, start: float = 100.0) -> list[tuple[float, int]]:
    return [(start + i * seconds, step) for i, step in enumerate(steps)]


def test_warm_up_steps_are_dropped_counting_from_the_first_step_seen():
    arrivals = [(0.0, 1), (5.0, 2), (5.5, 3)] + every(0.1, range(4, 10), start=5.6)
    assert step_times(arrivals, skip_steps=2) == pytest.approx([0.1] * 6)   # steps 3 to 9
    zero_based = [(t, s - 1) for t, s in arrivals]
    assert step_times(zero_based, skip_steps=2) == pytest.approx([0.1] * 6)
    assert step_times(arrivals, skip_steps=0)[0] == pytest.approx(5.0)


def test_lines_every_k_steps_are_divided_by_the_steps_between_them():
    arrivals = every(1.0, range(0, 100, 10))
    assert step_times(arrivals, skip_steps=10) == pytest.approx([0.1] * 8)


def test_a_step_printed_twice_counts_from_its_first_line_and_going_back_is_ignored():
    arrivals = [(0.0, 1), (1.0, 2), (1.4, 2), (2.0, 3), (2.1, 1), (3.0, 4)]
    assert step_times(arrivals, skip_steps=0) == pytest.approx([1.0, 1.0, 1.0])


def test_the_median_ignores_an_occasional_slow_step():
    arrivals = every(0.02, range(1, 12))
    arrivals = arrivals[:6] + [(t + 0.5, s) for t, s in arrivals[6:]]   # an evaluation before step 7
    timing = measure(arrivals, skip_steps=2, wall_time=9.0, steps=10)
    assert timing.timing == STEP_LINES and not timing.note
    assert timing.time_per_step == pytest.approx(0.02)
    assert max(timing.step_times) == pytest.approx(0.52)


@pytest.mark.parametrize("arrivals, why", [
    ([], "no step lines"),
    ([(1.0, 1), (1.0, 2), (1.0, 3), (1.0, 4)], "arrived all at once"),
    ([(1.0, 1), (2.0, 2), (3.0, 3)], "fewer than 2 step lines after the first 2 steps"),
])
def test_without_usable_step_lines_the_wall_time_is_used_and_the_note_says_why(arrivals, why):
    timing = measure(arrivals, skip_steps=2, wall_time=8.0, steps=20)
    assert timing.timing == WALL_TIME and timing.time_per_step == pytest.approx(0.4)
    assert why in timing.note and "start-up included" in timing.note
