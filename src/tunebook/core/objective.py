"""One number from a curve: the objective of a trial, computed from what it logged.

Analysis always works from stored curves, so the objective can change after
the fact (another metric, best vs final) without rerunning anything.
"""

from __future__ import annotations

import math
from typing import Sequence


def latest_per_step(steps: Sequence[int], values: Sequence[float]) -> tuple[list[int], list[float]]:
    """Points by step, each step keeping the value logged last.

    A retried trial that resumed from a checkpoint logs some steps again; the
    newer values stand. Input is in logging order; output is sorted by step.
    """
    last: dict[int, float] = {}
    for step, value in zip(steps, values):
        last[int(step)] = float(value)
    ordered = sorted(last)
    return ordered, [last[s] for s in ordered]


def reduce_curve(
    steps: Sequence[int], values: Sequence[float], mode: str, reduce: str
) -> tuple[float, int] | None:
    """(objective, step it came from), or None if the curve has no finite value.

    ``reduce='best'``: the best finite value over training (the earliest step
    on ties), i.e. retrospective best-checkpoint selection. ``'final'``: the
    value at the last logged step.
    """
    steps, values = latest_per_step(steps, values)
    if reduce == "final":
        if not steps or not math.isfinite(values[-1]):
            return None
        return values[-1], steps[-1]
    best: tuple[float, int] | None = None
    sign = 1.0 if mode == "min" else -1.0
    for step, value in zip(steps, values):
        if math.isfinite(value) and (best is None or sign * value < sign * best[0]):
            best = (value, step)
    return best
