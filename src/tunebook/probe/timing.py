"""Time per step from the arrival times of a program's step lines (pure functions).

The interval between two step lines, divided by the steps between them, is
one measurement of the time per step; the first ``skip_steps`` steps
(start-up, compilation, warm-up) are dropped and the median of the rest is
robust to the odd slow step (an evaluation, a checkpoint, a busy host).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Sequence

from tunebook.probe.records import STEP_LINES, WALL_TIME

# Intervals shorter than this are lines read in one chunk, not steps: the
# program's output was buffered and the lines arrived together at exit.
_BUFFERED = 1e-5


@dataclass(frozen=True)
class StepTiming:
    """A time per step (seconds), where it came from, and why, when it is the fallback."""

    time_per_step: float
    timing: str
    step_times: tuple[float, ...] = ()
    note: str = ""


def step_times(arrivals: Sequence[tuple[float, int]], skip_steps: int) -> tuple[float, ...]:
    """Seconds per step between consecutive step lines after the first ``skip_steps`` steps.

    ``arrivals`` are ``(arrival time, step)`` in arrival order. A step printed
    on several lines counts from its first line; a step number that does not
    increase is ignored. Skipped steps are counted from the first step seen.
    """
    firsts: list[tuple[float, int]] = []
    for arrived, step in arrivals:
        if not firsts or step > firsts[-1][1]:
            firsts.append((arrived, step))
    if not firsts:
        return ()
    begin = firsts[0][1] + skip_steps
    kept = [(t, s) for t, s in firsts if s >= begin]
    return tuple((t1 - t0) / (s1 - s0) for (t0, s0), (t1, s1) in zip(kept, kept[1:]))


def measure(arrivals: Sequence[tuple[float, int]], skip_steps: int, wall_time: float, steps: int) -> StepTiming:
    """The median time per step from step lines, else wall time / ``steps`` with a note saying why."""
    times = step_times(arrivals, skip_steps)
    median = statistics.median(times) if times else 0.0
    if median >= _BUFFERED:
        return StepTiming(median, STEP_LINES, times)
    if not arrivals:
        why = "no step lines"
    elif times:
        why = "its step lines arrived all at once (buffered output? flush after each line)"
    else:
        why = f"fewer than 2 step lines after the first {skip_steps} steps"
    note = f"{why}: time per step is the wall time over {steps} steps, start-up included (an overestimate)"
    return StepTiming(wall_time / steps, WALL_TIME, (), note)
