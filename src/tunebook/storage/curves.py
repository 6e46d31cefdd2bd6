"""Curve chunks: points in, binary rows out, and rows back to one long frame.

Each ``log_curves`` call stores one row per metric holding its steps as
little-endian int64 bytes and its values as little-endian float64 bytes, so
NaN and infinities round-trip bit for bit and loading 30 million points is a
matter of reading ~30 thousand blobs and concatenating them with numpy.
``read_layout`` and ``read_chosen_layout`` read them back inside a read
transaction the caller holds: the heads first, then the blobs in batches.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Collection, Iterator, Mapping, Sequence

import numpy as np
from sqlalchemy import select

from tunebook.core.errors import StoreError
from tunebook.storage.schema import curve_chunks, studies, trials

if TYPE_CHECKING:
    import pandas as pd

    from sqlalchemy.engine import Connection

    from tunebook.storage.base import CurvePoints

STEP_DTYPE = np.dtype("<i8")
VALUE_DTYPE = np.dtype("<f8")
COLUMNS = ("trial_id", "metric", "step", "value")

IN_BATCH = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit
BLOB_BATCH = 1000  # curve chunks decoded per fetch
SQLITE_MMAP_BYTES = 1 << 30  # the first GiB of a SQLite file is read through mmap when loading curves


def encode_points(trial_id: int, points: CurvePoints) -> list[dict[str, Any]]:
    """One ``curve_chunks`` row per metric with points, ordered by step; StoreError on bad input."""
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
        if len(step_array) > 1 and (step_array[1:] < step_array[:-1]).any():
            # in step order (stably: equal steps keep the order they were logged in), as the frame reads it
            # anyway, so a chunk's last point is its largest step (``curve_ends`` reads only that)
            order = np.argsort(step_array, kind="stable")
            step_array, value_array = step_array[order], value_array[order]
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
    only one batch of blob bytes is in memory at a time, and each column is
    allocated once at its final size. The trial and metric columns are made
    from the heads in two vectorized calls; only the (rare) curves whose
    steps do not rise are sorted when the frame is made.
    """

    def __init__(self, heads: Sequence[Any]):
        self.categories = sorted({row.metric for row in heads})
        code_of = {metric: code for code, metric in enumerate(self.categories)}
        heads = [row for row in heads if row.n > 0]
        ids, trials, codes, sizes = (
            np.fromiter(column, dtype=np.int64, count=len(heads))
            for column in ((row.id for row in heads), (row.trial_id for row in heads),
                           (code_of[row.metric] for row in heads), (row.n for row in heads))
        )
        order = np.lexsort((ids, codes, trials))
        ids, trials, codes, sizes = ids[order], trials[order], codes[order], sizes[order]
        starts = np.cumsum(sizes) - sizes
        with _small_pages():
            self.trial = np.repeat(trials, sizes)
            self.code = np.repeat(codes.astype(_code_dtype(len(self.categories))), sizes)
            # written in one pass now, so that ``place`` writes to memory already mapped: faulting the
            # pages in chunk by chunk, between the fetches' allocations, measured several times slower
            self.step = np.full(len(self.trial), -1, dtype=np.int64)
            self.value = np.full(len(self.trial), np.nan, dtype=np.float64)
        self._runs = starts[_new_curve(trials, codes)]  # first row of each (trial, metric) curve
        self._missing = dict(zip(ids.tolist(), zip(starts.tolist(), sizes.tolist())))

    def place(self, blobs: Sequence[Any]) -> None:
        """Copy chunk blobs (rows of id, steps, vals) into their places.

        A chunk without a place was logged after the heads were read (a
        running trial, on a store whose reads see new commits between
        statements): it is left for the next load.
        """
        missing = self._missing
        for row in blobs:
            where = missing.pop(row.id, None)
            if where is None:
                continue
            start, size = where
            end = start + size
            try:
                self.step[start:end] = np.frombuffer(row.steps, dtype=STEP_DTYPE)
                self.value[start:end] = np.frombuffer(row.vals, dtype=VALUE_DTYPE)
            except ValueError:
                raise StoreError(f"curve chunk {row.id} is damaged: its blobs do not hold {size} points") from None

    def frame(self) -> "pd.DataFrame":
        """The long frame, sorted by trial_id, metric, step; equal steps keep their logging order."""
        import pandas as pd  # lazily: importing the store must not import pandas

        trial, code, step, value, runs = self.trial, self.code, self.step, self.value, self._runs
        if self._missing:  # heads whose chunk was gone when the blobs were read: drop their rows
            keep = np.ones(len(trial), dtype=bool)
            for start, size in self._missing.values():
                keep[start : start + size] = False
            trial, code, step, value = trial[keep], code[keep], step[keep], value[keep]
            runs = np.flatnonzero(np.append(True, _new_curve(trial, code)[1:])) if len(trial) else runs[:0]
        _sort_curves_by_step(step, value, runs)
        metric = pd.Categorical.from_codes(code, categories=self.categories)
        columns = {"trial_id": trial, "metric": metric, "step": step, "value": value}
        return pd.DataFrame(columns, columns=list(COLUMNS), copy=False)


def insert_chunks(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Store the rows ``encode_points`` made (none: nothing to do), in the caller's write transaction."""
    if rows:
        conn.execute(curve_chunks.insert(), rows)


def read_through_mmap(conn: Connection) -> None:
    """On SQLite, read the blobs (their overflow pages) from the mapped file: no read() call per page."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")


def _in_experiment(query: Any, experiment_id: int) -> Any:
    """``query`` over the chunks of the experiment's trials only."""
    joined = curve_chunks.join(trials).join(studies, trials.c.study_id == studies.c.id)
    return query.select_from(joined).where(studies.c.experiment_id == experiment_id)


def read_owners(conn: Connection, experiment_id: int, metrics: Sequence[str] | None) -> list[tuple[int, str]]:
    """(trial id, metric) of every curve with points in the experiment (of ``metrics`` if given); no blob read."""
    c = curve_chunks.c
    query = _in_experiment(select(c.trial_id, c.metric).distinct(), experiment_id).where(c.n > 0)
    if metrics is not None:
        query = query.where(c.metric.in_(list(metrics)))
    return [(int(row.trial_id), str(row.metric)) for row in conn.execute(query)]


def read_layout(conn: Connection, experiment_id: int | None, trial_ids: Sequence[int] | None,
                metrics: Sequence[str] | None) -> FrameLayout:
    """The chunks of an experiment, of some trials, or (neither given) of all; only ``metrics`` if given.

    Heads and blobs are read by trial in batches of ``IN_BATCH`` ids, the
    blobs ``BLOB_BATCH`` chunks at a time; ``.frame()`` makes the frame.
    """
    c = curve_chunks.c
    heads = select(c.id, c.trial_id, c.metric, c.n)
    blobs = select(c.id, c.steps, c.vals)
    if metrics is not None:
        heads, blobs = heads.where(c.metric.in_(list(metrics))), blobs.where(c.metric.in_(list(metrics)))
    if experiment_id is not None:
        heads, blobs = _in_experiment(heads, experiment_id), _in_experiment(blobs, experiment_id)
    batches = [None] if trial_ids is None else _batches(sorted({int(i) for i in trial_ids}))
    head_rows = []
    for batch in batches:
        head_rows += conn.execute(heads if batch is None else heads.where(c.trial_id.in_(batch))).all()
    layout = FrameLayout(head_rows)
    for batch in batches:
        result = conn.execute(blobs if batch is None else blobs.where(c.trial_id.in_(batch)))
        for part in result.partitions(BLOB_BATCH):  # one batch of blob bytes in memory at a time
            layout.place(part)
    return layout


def read_chosen_layout(conn: Connection, experiment_id: int, metrics: Sequence[str] | None,
                       only: Mapping[str, Collection[int]]) -> FrameLayout:
    """The experiment's chunks (of ``metrics`` if given), those of a metric in ``only`` only of its trials.

    The heads are read whole and filtered here; then only the chosen blobs,
    by primary key, each once.
    """
    c = curve_chunks.c
    chosen = {metric: {int(t) for t in ids} for metric, ids in only.items()}
    heads = _in_experiment(select(c.id, c.trial_id, c.metric, c.n), experiment_id)
    if metrics is not None:
        heads = heads.where(c.metric.in_(list(metrics)))
    head_rows = [row for row in conn.execute(heads).all()
                 if row.metric not in chosen or row.trial_id in chosen[row.metric]]
    layout = FrameLayout(head_rows)
    blobs = select(c.id, c.steps, c.vals)
    for batch in _batches(sorted(row.id for row in head_rows)):
        layout.place(conn.execute(blobs.where(c.id.in_(batch))).all())
    return layout


def _batches(ids: list[int]) -> list[list[int]]:
    """``ids`` in IN (...) lists of at most ``IN_BATCH``."""
    return [ids[start : start + IN_BATCH] for start in range(0, len(ids), IN_BATCH)]


@contextmanager
def _small_pages() -> Iterator[None]:
    """numpy's huge-page advice off while the frame's columns (~470 MB at 20M points) are allocated.

    numpy asks the kernel for transparent huge pages on large arrays; where
    the kernel then compacts memory to find them (THP ``defrag`` set to
    ``madvise``, a common default), first-touching the columns measured
    ~1.0 s CPU against ~0.25 s with ordinary pages (10,000 trials, right
    after the store was written). The switch is numpy's process-wide one,
    restored on exit; on a numpy without it this does nothing.
    """
    switch = getattr(getattr(np, "_core", None) or getattr(np, "core", None), "multiarray", None)
    switch = getattr(switch, "_set_madvise_hugepage", None)
    if switch is None:
        yield
        return
    was = switch(False)
    try:
        yield
    finally:
        switch(was)


def _code_dtype(n_categories: int) -> type:
    if n_categories < np.iinfo(np.int8).max:
        return np.int8
    return np.int16 if n_categories < np.iinfo(np.int16).max else np.int32


def _new_curve(trial: np.ndarray, code: np.ndarray) -> np.ndarray:
    """For rows sorted by (trial, code): True where a row starts a new (trial, code) curve."""
    new = np.ones(len(trial), dtype=bool)
    new[1:] = (trial[1:] != trial[:-1]) | (code[1:] != code[:-1])
    return new


def _sort_curves_by_step(step: np.ndarray, value: np.ndarray, runs: np.ndarray) -> None:
    """Sort each curve's rows by step, in place, stably; ``runs``: each curve's first row, ascending.

    Rows arrive grouped by curve in logging order, so a curve logged with
    rising steps needs no sort: one comparison over the steps finds the
    curves that do, and only their rows are sorted.
    """
    if len(step) < 2:
        return
    not_rising = np.flatnonzero(step[1:] <= step[:-1]) + 1  # rows whose step is <= the row before
    curve = np.searchsorted(runs, not_rising, side="right") - 1
    unsorted = np.unique(curve[not_rising != runs[curve]])  # a curve's first row follows another curve
    if len(unsorted) == 0:
        return
    ends = np.append(runs[1:], len(step))
    starts, sizes = runs[unsorted], ends[unsorted] - runs[unsorted]
    rows = np.repeat(starts - (np.cumsum(sizes) - sizes), sizes) + np.arange(sizes.sum())
    order = rows[np.lexsort((step[rows], np.repeat(np.arange(len(unsorted)), sizes)))]
    step[rows], value[rows] = step[order], value[order]
