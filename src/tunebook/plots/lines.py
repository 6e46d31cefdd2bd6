"""Many curves in one figure, light enough for a browser: thinning points, choosing and joining lines.

A sweep of 10,000 trials x 1,000 steps is 10 million points per metric: far
more than a screen has pixels or a browser can draw. Three rules keep a
figure faithful and small:

- ``decimate`` keeps at most ``max_points`` per curve, the lowest and the
  highest point of each step bucket in step order, so spikes and divergence
  stay visible where plain striding would skip them;
- ``spread`` picks at most ``limit`` of the background lines, evenly over
  their ranking (best to worst, then the infeasible ones), so the faint
  cloud shows the whole range of outcomes;
- ``joined`` draws the background lines as one trace, separated by gaps,
  with each point's trial name kept for the hover text.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

__all__ = ["MAX_POINTS", "decimate", "joined", "others_label", "spread"]

MAX_POINTS = 400  # points drawn per curve: about one per horizontal pixel of a panel


def decimate(steps: np.ndarray, values: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points: each bucket's lowest and highest, in step order (all, if few enough)."""
    steps, values = np.asarray(steps), np.asarray(values, dtype=float)
    n = len(values)
    if n <= max_points:
        return steps, values
    finite = np.isfinite(values)
    if finite.all():
        index = np.unique(np.concatenate(_extremes(values, max(1, max_points // 2))))
        return steps[index], values[index]
    keep = [np.flatnonzero(~finite)[:1]]  # a NaN or inf marks the divergence: keep the first one
    kept_steps, kept_values = decimate(steps[finite], values[finite], max_points)
    index = np.searchsorted(steps, kept_steps) if _rising(steps) else None
    if index is None:
        return kept_steps, kept_values
    index = np.unique(np.concatenate([index, *keep]))
    return steps[index], values[index]


def _extremes(values: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """Per bucket (``buckets`` consecutive runs of near-equal length), the index of its lowest value (the first,
    among equals) and of its highest (the last, among equals); finite values only."""
    bounds = np.linspace(0, len(values), buckets + 1).astype(int)
    starts, sizes = bounds[:-1], np.diff(bounds)
    width = int(sizes.max())
    if len(values) == width * buckets:  # equal buckets: a plain reshape
        low_side = high_side = values.reshape(buckets, width)
    else:
        cell = starts[:, None] + np.arange(width)  # each bucket's indices, padded past its end
        inside = np.arange(width) < sizes[:, None]
        cell = np.where(inside, cell, 0)
        low_side, high_side = np.where(inside, values[cell], np.inf), np.where(inside, values[cell], -np.inf)
    low = low_side.argmin(axis=1)  # argmin/argmax: the first of equals
    high = width - 1 - high_side[:, ::-1].argmax(axis=1)
    return starts + low, starts + high


def _rising(steps: np.ndarray) -> bool:
    return bool(np.all(np.diff(steps) > 0))


def spread(ordered: Sequence[int], limit: int) -> list[int]:
    """At most ``limit`` items of ``ordered``, evenly spaced from its first to its last."""
    if len(ordered) <= limit:
        return list(ordered)
    picks = np.unique(np.linspace(0, len(ordered) - 1, limit).round().astype(int))
    return [ordered[i] for i in picks]


def others_label(shown: int, total: int) -> str:
    """The legend entry of the faint lines: ``other trials``, or how many of them a spread shows."""
    return "other trials" if shown >= total else f"{shown} of {total} other trials (a spread)"


def joined(lines: Iterable[tuple[Any, Sequence[float], Sequence[float]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, labels) of ``(label, steps, values)`` lines laid end to end, a NaN gap between lines.

    ``label`` (a trial's name) is repeated for each point of its line, for the hover text.
    """
    xs, ys, ids = [], [], []
    for label, steps, values in lines:
        xs += [np.asarray(steps, dtype=float), [np.nan]]
        ys += [np.asarray(values, dtype=float), [np.nan]]
        ids += [np.full(len(steps) + 1, label)]
    if not xs:
        return np.empty(0), np.empty(0), np.empty(0, dtype=int)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ids)
