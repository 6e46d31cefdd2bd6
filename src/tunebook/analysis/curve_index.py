"""Find one trial's curve in a long curves frame in O(1), however many points the frame holds.

A curves frame (``trial_id, metric, step, value``, as ``load`` returns it)
keeps each (trial, metric) curve in one contiguous run of rows, sorted by
step. ``curve_index(frame)`` records where each run starts and stops, once
per frame, so that reading the curves of thousands of trials costs a slice
each instead of a scan of every point per trial. Frames are treated as
values: an index is cached per frame object and dropped with it; do not
mutate a frame after analysing it.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CurveIndex", "curve_index", "row_keys"]

_CACHE: dict[int, tuple[weakref.ref, "CurveIndex"]] = {}


class CurveIndex:
    """Slices of one curves frame: ``points(trial_id, metric)`` → (steps, values) views, sorted by step."""

    def __init__(self, curves: "pd.DataFrame"):
        trial, codes, names = row_keys(curves)
        bounds = _run_bounds(trial, codes)
        if not _contiguous(trial, codes, curves["step"].to_numpy(), bounds):
            curves = curves.sort_values(["trial_id", "metric", "step"], kind="stable")
            trial, codes, names = row_keys(curves)
            bounds = _run_bounds(trial, codes)
        self._steps = curves["step"].to_numpy()
        self._values = curves["value"].to_numpy(dtype=float)
        starts, stops = bounds[:-1], bounds[1:]
        labels = [str(name) for name in names]
        run_metrics = [labels[code] for code in codes[starts].tolist()]
        self._slices = dict(zip(zip(trial[starts].tolist(), run_metrics), zip(starts.tolist(), stops.tolist())))
        self.metrics = frozenset(run_metrics)  # the metrics some trial logged

    def points(self, trial_id: int, metric: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The trial's (steps, values) of ``metric`` as read-only views, or None if it logged none."""
        where = self._slices.get((int(trial_id), metric))
        if where is None:
            return None
        start, stop = where
        return self._steps[start:stop], self._values[start:stop]

    def last_step(self, trial_id: int, metric: str) -> float:
        """The last step the trial logged ``metric`` at, or NaN if it logged none."""
        where = self._slices.get((int(trial_id), metric))
        return float(self._steps[where[1] - 1]) if where is not None else float("nan")


def curve_index(curves: "pd.DataFrame") -> CurveIndex:
    """The index of ``curves``, built on first use and cached while the frame lives."""
    key = id(curves)
    cached = _CACHE.get(key)
    if cached is not None and cached[0]() is curves:
        return cached[1]
    index = CurveIndex(curves)
    _CACHE[key] = (weakref.ref(curves), index)
    weakref.finalize(curves, _CACHE.pop, key, None)
    return index


def _run_bounds(trial: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Row offsets where a (trial, metric) run starts, plus the end."""
    if len(trial) == 0:
        return np.zeros(1, dtype=np.int64)
    # the few rows where the trial or the metric changes, found one column at a time (no row-wide OR)
    change = np.union1d(np.flatnonzero(trial[1:] != trial[:-1]), np.flatnonzero(codes[1:] != codes[:-1])) + 1
    return np.concatenate([[0], change, [len(trial)]])


def row_keys(curves: "pd.DataFrame") -> tuple[np.ndarray, np.ndarray, list]:
    """(trial ids, metric codes, metric names) of every row; a categorical's own codes when it is one."""
    import pandas as pd

    metric = curves["metric"]
    if isinstance(metric.dtype, pd.CategoricalDtype):
        return curves["trial_id"].to_numpy(), metric.cat.codes.to_numpy(), list(metric.cat.categories)
    codes, names = pd.factorize(metric, sort=False)
    return curves["trial_id"].to_numpy(), codes, list(names)


def _contiguous(trial: np.ndarray, codes: np.ndarray, step: np.ndarray, bounds: np.ndarray) -> bool:
    """Whether every (trial, metric) curve is one run of rows (``bounds``) with rising steps."""
    if len(trial) < 2:
        return True
    starts = bounds[:-1]
    pairs = len(set(zip(trial[starts].tolist(), codes[starts].tolist())))
    falling = np.flatnonzero(step[1:] < step[:-1]) + 1  # rows whose step is below the row before
    return pairs == len(starts) and bool(np.isin(falling, starts).all())  # only where a new run starts
