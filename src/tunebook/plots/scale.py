"""Axis ranges that stay readable when some values are extreme: divergence, value ranges, log or linear.

A diverged trial's loss runs to 1e30 or NaN; drawn with an automatic axis it
flattens every useful curve into a line at 0. The rules the plots share:

- ``diverged_at``: the step a curve diverged, by the rule the tracking layer
  ends a trial with (``run.divergence``): its first non-finite value or,
  with a ``factor``, its first value above ``factor`` times its first finite
  value when that is > 0 (10x by default);
- ``value_range``: the smallest and largest finite value of what a plot is
  about (the caller leaves out what diverged), so nothing it is about is
  cut and nothing it is not about sets the scale;
- ``log_is_better``: a log axis when every value is > 0 and they span at
  least ``LOG_DECADES`` decades (largest / smallest >= 100): on a linear
  axis the lower part would then hold less than 1 % of the height;
- ``padded``: a margin of ``MARGIN`` of the span on each side (in decades on
  a log axis), so the extreme values do not sit on the frame;
- ``focus``: the objective range of a plot of many trials. A few trials that
  barely trained (an error of 0.5-0.9 next to a cluster at 0.02) would
  otherwise squash every good trial into one line, which is where a reader
  needs to see the trend. A value farther from the best than ``FAR`` times
  the distance from the best to the median is out of focus; it is drawn on
  the edge and labelled, never dropped. With fewer than ``FOCUS_MIN``
  values, or nothing that far out, the range holds every value.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterable

import numpy as np

if TYPE_CHECKING:
    from tunebook.core.experiment import Experiment

LOG_DECADES = 2.0
MARGIN = 0.05
DEFAULT_FACTOR = 10.0  # run.divergence.factor's default
FAR = 10.0  # focus: out of focus beyond the best + FAR x (median - best)
FOCUS_MIN = 5  # focus: fewer values than this are all shown

__all__ = ["divergence_factor", "diverged_at", "focus", "log_is_better", "padded", "value_range"]


def divergence_factor(experiment: "Experiment") -> float | None:
    """The spec's ``run.divergence.factor`` (None: explosion not checked); the default where it has none."""
    from tunebook.core.run_spec import parse_run
    from tunebook.core.spec import Problems

    problems = Problems()
    config = parse_run(experiment.run or {}, problems, need_program=False)
    return DEFAULT_FACTOR if problems else config.divergence_factor


def diverged_at(steps: np.ndarray, values: np.ndarray, factor: float | None = None) -> int | None:
    """The first step whose value is NaN/inf or (``factor``) above ``factor`` x the first finite value > 0."""
    values = np.asarray(values, dtype=float)
    bad = ~np.isfinite(values)
    if factor is not None:
        finite = np.flatnonzero(~bad)
        if len(finite) and values[finite[0]] > 0:
            with np.errstate(invalid="ignore"):
                bad |= values > factor * values[finite[0]]
    where = np.flatnonzero(bad)
    return int(steps[where[0]]) if len(where) else None


def value_range(chunks: Iterable[np.ndarray]) -> tuple[float, float] | None:
    """(smallest, largest) finite value over ``chunks``; None when there is none."""
    low, high = math.inf, -math.inf
    for chunk in chunks:
        chunk = np.asarray(chunk, dtype=float)
        chunk = chunk[np.isfinite(chunk)]
        if len(chunk):
            low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
    return (low, high) if low <= high else None


def log_is_better(low: float, high: float) -> bool:
    """Whether values in [low, high] read better on a log axis: all > 0 and ``LOG_DECADES`` decades or more."""
    return low > 0 and math.log10(high / low) >= LOG_DECADES


def padded(low: float, high: float, log: bool = False, margin: float = MARGIN) -> tuple[float, float]:
    """[low, high] widened by ``margin`` of its span on each side (of its decades if ``log``); never empty."""
    if log:
        a, b = math.log10(low), math.log10(high)
        pad = margin * (b - a) or 0.05
        return 10 ** (a - pad), 10 ** (b + pad)
    pad = margin * (high - low) or margin * abs(high) or 0.05
    return low - pad, high + pad


def focus(values: Iterable[float], mode: str, far: float = FAR) -> tuple[float, float] | None:
    """The padded range that holds the values in focus (see the module's rule); None without a finite value.

    ``mode`` is the objective's: ``min`` (out of focus above) or ``max``
    (out of focus below). Callers draw values outside the range on its edge.
    """
    values = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    if not len(values):
        return None
    oriented = values if mode == "min" else -values
    best = float(oriented.min())
    if len(values) >= FOCUS_MIN:
        limit = best + far * (float(np.median(oriented)) - best)
        oriented = oriented[oriented <= limit]
    low, high = best, float(oriented.max())
    if mode != "min":
        low, high = -high, -low
    return padded(low, high)
