"""Curve chunks: points in, binary rows out, and rows back to one long frame.

Each ``log_curves`` call stores one row per metric holding its steps as
little-endian int64 bytes and its values as little-endian float64 bytes, so
NaN and infinities round-trip bit for bit and loading 30 million points is a
matter of reading ~30 thousand blobs and concatenating them with numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from tunebook.core.errors import StoreError

if TYPE_CHECKING:
    import pandas as pd

    from tunebook.storage.base import CurvePoints

STEP_DTYPE = np.dtype("<i8")
VALUE_DTYPE = np.dtype("<f8")
COLUMNS = ("trial_id", "metric", "step", "value")


def encode_points(trial_id: int, points: CurvePoints) -> list[dict[str, Any]]:
    """One ``curve_chunks`` row per metric with points; StoreError on bad input."""
    rows = []
    for metric, pair in points.items():
        if not isinstance(metric, str) or not metric:
            raise StoreError(f"curve names must be non-empty strings, got {metric!r}")
        try:
            steps, values = pair
        except (TypeError, ValueError):
            raise StoreError(f"curve {metric!r}: expected (steps, values), got {pair!r}") from None
        step_array = _steps_array(metric, steps)
        value_array = _values_array(metric, values)
        if len(step_array) != len(value_array):
            raise StoreError(
                f"curve {metric!r}: {len(step_array)} steps but {len(value_array)} values"
            )
        if len(step_array):
            rows.append(
                {
                    "trial_id": trial_id,
                    "metric": metric,
                    "n": len(step_array),
                    "steps": step_array.tobytes(),
                    "vals": value_array.tobytes(),
                }
            )
    return rows


def _steps_array(metric: str, steps: Sequence[int]) -> np.ndarray:
    array = np.asarray(steps)
    if array.ndim != 1:
        raise StoreError(f"curve {metric!r}: steps must be a flat sequence, got shape {array.shape}")
    if array.size == 0 or array.dtype.kind in "iu":
        return array.astype(STEP_DTYPE)
    if array.dtype.kind == "f":
        integral = np.isfinite(array) & (array == np.round(array))
        if integral.all():
            return array.astype(STEP_DTYPE)
        raise StoreError(f"curve {metric!r}: steps must be integers, got {array[~integral][0]!r}")
    raise StoreError(f"curve {metric!r}: steps must be integers, got {array[0]!r}")


def _values_array(metric: str, values: Sequence[float]) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=VALUE_DTYPE)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"curve {metric!r}: values must be numbers ({exc})") from None
    if array.ndim != 1:
        raise StoreError(f"curve {metric!r}: values must be a flat sequence, got shape {array.shape}")
    return array


class FrameLayout:
    """Where each chunk's points go in the long frame, decided from the chunk heads alone.

    ``heads``: rows (id, trial_id, metric, n) without the blobs. The frame is
    laid out by trial, metric (sorted names), then chunk id (logging order),
    so the blobs can then be read in any order and in batches (``place``):
    only one batch of blob bytes is in memory at a time, and every column
    is written once into arrays allocated up front.
    """

    def __init__(self, heads: Sequence[Any]):
        self.categories = sorted({row.metric for row in heads})
        code_of = {metric: code for code, metric in enumerate(self.categories)}
        ordered = sorted(heads, key=lambda row: (row.trial_id, code_of[row.metric], row.id))
        total = sum(row.n for row in ordered)
        self.trial = np.empty(total, dtype=np.int64)
        self.code = np.empty(total, dtype=_code_dtype(len(self.categories)))
        self.step = np.empty(total, dtype=np.int64)
        self.value = np.empty(total, dtype=np.float64)
        self._where: dict[int, tuple[int, int]] = {}
        start = 0
        for row in ordered:
            end = start + row.n
            self.trial[start:end] = row.trial_id
            self.code[start:end] = code_of[row.metric]
            self._where[row.id] = (start, end)
            start = end

    def place(self, blobs: Sequence[Any]) -> None:
        """Copy chunk blobs (rows of id, steps, vals) into their places.

        A chunk without a place was logged after the heads were read (a
        running trial, on a store whose reads see new commits between
        statements): it is left for the next load.
        """
        for row in blobs:
            where = self._where.get(row.id)
            if where is None:
                continue
            start, end = where
            self.step[start:end] = np.frombuffer(row.steps, dtype=STEP_DTYPE)
            self.value[start:end] = np.frombuffer(row.vals, dtype=VALUE_DTYPE)

    def frame(self) -> "pd.DataFrame":
        """The long frame, sorted by trial_id, metric, step; equal steps keep their logging order."""
        import pandas as pd  # lazily: importing the store must not import pandas

        trial, code, step, value = self.trial, self.code, self.step, self.value
        step_order = _step_order(trial, code, step)
        if step_order is not None:
            trial, code, step, value = trial[step_order], code[step_order], step[step_order], value[step_order]
        metric = pd.Categorical.from_codes(code, categories=self.categories)
        columns = {"trial_id": trial, "metric": metric, "step": step, "value": value}
        return pd.DataFrame(columns, columns=list(COLUMNS), copy=False)


def _code_dtype(n_categories: int) -> type:
    if n_categories < np.iinfo(np.int8).max:
        return np.int8
    return np.int16 if n_categories < np.iinfo(np.int16).max else np.int32


def _step_order(trial: np.ndarray, code: np.ndarray, step: np.ndarray) -> np.ndarray | None:
    """A stable order by (trial, metric, step), or None if already in that order.

    Rows arrive grouped by (trial, metric) in logging order, so a curve logged
    with rising steps needs no sort at all.
    """
    same_curve = (trial[1:] == trial[:-1]) & (code[1:] == code[:-1])
    if not np.any(same_curve & (step[1:] < step[:-1])):
        return None
    order = np.argsort(step, kind="stable")
    order = order[np.argsort(code[order], kind="stable")]
    return order[np.argsort(trial[order], kind="stable")]
