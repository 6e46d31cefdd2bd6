"""Sinks: where a trial's points and checkpoint rows go.

- ``SQLiteSink`` writes a SQLite store with the standard library alone, rows
  byte for byte as ``tunebook.storage`` writes them (importing SQLAlchemy and
  numpy would cost a short trial more than its whole tracking budget);
- ``StoreSink`` goes through ``tunebook.storage.SQLStore`` (PostgreSQL, and
  SQLite URLs with options), imported only when one is opened;
- ``NullSink`` keeps nothing: a standalone trial outside tunebook.

Every sink method is one transaction: when it returns, what it wrote survives
a kill -9 of the process. Sinks are used from one thread at a time.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
TYPE_CHECKING = False  # typing costs a trial process ~5 ms to import; annotations only need it for checkers

from tunebook.tracking.buffer import Chunk

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator
    from typing import Any
    from array import array

# Mirrors of tunebook.storage (schema.py, migrations.py, engine.py); importing
# them would import SQLAlchemy. tests/tracking/test_sinks.py checks the rows.
SCHEMA_VERSION = "3"
_INSERT_CHUNK = "INSERT INTO curve_chunks (trial_id, metric, n, steps, vals) VALUES (?, ?, ?, ?, ?)"
_DELETE_CHECKPOINT = "DELETE FROM checkpoints WHERE trial_id = ? AND step = ?"
_INSERT_CHECKPOINT = "INSERT INTO checkpoints (trial_id, step, path, value, created_at) VALUES (?, ?, ?, ?, ?)"
_LIST_CHECKPOINTS = "SELECT step, path, value FROM checkpoints WHERE trial_id = ? ORDER BY step"

_INHERITED: list[Any] = []  # connections a forked child inherited and must never close

# (step, path, value) of a recorded checkpoint
CheckpointRow = tuple[int, str, "float | None"]


class Sink:
    """The interface every sink implements; this base keeps nothing."""

    def write_points(self, chunk: Chunk) -> None:
        """Append each metric's (steps, values) as one chunk, all in one transaction."""

    def add_checkpoint(self, step: int, path: str, value: float | None) -> None:
        """Record a checkpoint (replacing one at the same step); NaN is stored as NULL."""

    def remove_checkpoint(self, step: int) -> None:
        """Forget the checkpoint at ``step``; nothing happens if there is none."""

    def list_checkpoints(self) -> list[CheckpointRow]:
        """The trial's recorded checkpoints, by step."""
        return []

    def after_fork(self) -> None:
        """In a forked child: never touch the parent's connections again."""


class NullSink(Sink):
    """Keeps nothing: the sink of a standalone trial, outside tunebook."""


def open_sink(url: str, trial_id: int) -> Sink:
    """The sink for the store at ``url``: SQLite through sqlite3 when it can, else SQLStore."""
    path = sqlite_path(url)
    return SQLiteSink(path, trial_id) if path is not None else StoreSink(url, trial_id)


def sqlite_path(url: str) -> Path | None:
    """The file of a plain SQLite store URL or path; None for anything else.

    Mirrors ``tunebook.storage.url.normalize_url``: ``sqlite:///rel.db``,
    ``sqlite:////abs.db`` and bare paths. URLs with ``?options`` return None
    (SQLStore interprets them).
    """
    if "://" not in url:
        return Path(url).expanduser().resolve()
    scheme, rest = url.split("://", 1)
    if scheme != "sqlite" or "?" in rest or not rest.startswith("/") or rest in ("/", "/:memory:"):
        return None
    return Path(rest[1:]).expanduser().resolve()


def finite_or_none(value: float | None) -> float | None:
    """NaN is stored as NULL, as ``tunebook.storage.rows.finite_or_none`` does."""
    if value is None:
        return None
    value = float(value)
    return None if value != value else value


def now_text() -> str:
    """Now, as SQLAlchemy's SQLite DateTime stores ``UTCDateTime``: naive UTC text."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def le_bytes(column: "array") -> bytes:
    """An int64 ('q') or float64 ('d') array as little-endian bytes."""
    if sys.byteorder == "little":
        return column.tobytes()
    swapped = column[:]
    swapped.byteswap()
    return swapped.tobytes()


def _store_error(message: str) -> Exception:
    from tunebook.core.errors import StoreError  # lazily: tunebook.core costs ~40 ms
    from tunebook.storage.advice import with_advice

    return StoreError(with_advice(message))


class SQLiteSink(Sink):
    """A SQLite store through ``sqlite3``: WAL, 30 s busy timeout, BEGIN IMMEDIATE.

    Opening checks that the file is a tunebook store of the schema version
    this code writes and that the trial exists (StoreError otherwise).
    """

    def __init__(self, path: Path, trial_id: int) -> None:
        self.path, self.trial_id = path, trial_id
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._connection()

    def _connection(self) -> "sqlite3.Connection":
        if self._pid != os.getpid():
            self.after_fork()
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _connect(self) -> "sqlite3.Connection":
        import sqlite3  # lazily: only managed trials on SQLite need it

        from tunebook.storage.sqlite_setup import BUSY_TIMEOUT_S, set_up_connection

        try:
            conn = sqlite3.connect(
                self.path.as_uri() + "?mode=rw", uri=True, timeout=BUSY_TIMEOUT_S,
                isolation_level=None, check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise _store_error(f"cannot open store {self.path}: {exc}") from None
        try:
            set_up_connection(conn)
            self._check_store(conn)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise _store_error(f"cannot open store {self.path}: {exc}") from None
            raise
        return conn

    def _check_store(self, conn: "sqlite3.Connection") -> None:
        row = conn.execute("SELECT value FROM tunebook_meta WHERE key = 'schema_version'").fetchone()
        if row is None or row[0] != SCHEMA_VERSION:
            found = "no schema version" if row is None else f"schema version {row[0]}"
            raise _store_error(
                f"store {self.path} has {found}; this tunebook writes version {SCHEMA_VERSION}"
            )
        if conn.execute("SELECT 1 FROM trials WHERE id = ?", (self.trial_id,)).fetchone() is None:
            raise _store_error(f"store {self.path} has no trial with id {self.trial_id}")

    @contextmanager
    def _transaction(self, doing: str, write: bool = True) -> Iterator["sqlite3.Connection"]:
        """A transaction holding the write lock from its start (``write``), else a reader's."""
        import sqlite3

        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            what = f"store {self.path} failed while {doing} of trial {self.trial_id}"
            raise _store_error(f"{what}: {exc}") from None

    def write_points(self, chunk: Chunk) -> None:
        rows = [
            (self.trial_id, name, len(steps), le_bytes(steps), le_bytes(values))
            for name, (steps, values) in chunk.items()
            if len(steps)
        ]
        if rows:
            with self._transaction("logging curves") as conn:
                conn.executemany(_INSERT_CHUNK, rows)

    def add_checkpoint(self, step: int, path: str, value: float | None) -> None:
        row = (self.trial_id, step, str(path), finite_or_none(value), now_text())
        with self._transaction("recording a checkpoint") as conn:
            conn.execute(_DELETE_CHECKPOINT, (self.trial_id, step))
            conn.execute(_INSERT_CHECKPOINT, row)

    def remove_checkpoint(self, step: int) -> None:
        with self._transaction("removing a checkpoint") as conn:
            conn.execute(_DELETE_CHECKPOINT, (self.trial_id, step))

    def list_checkpoints(self) -> list[CheckpointRow]:
        with self._transaction("listing checkpoints", write=False) as conn:
            return [tuple(row) for row in conn.execute(_LIST_CHECKPOINTS, (self.trial_id,))]

    def after_fork(self) -> None:
        # Closing would touch the parent's file locks and WAL: keep the object alive, unused.
        if self._conn is not None:
            _INHERITED.append(self._conn)
        self._conn, self._pid = None, os.getpid()


class StoreSink(Sink):
    """Any store ``SQLStore`` opens (PostgreSQL), through its public methods."""

    def __init__(self, url: str, trial_id: int) -> None:
        from tunebook.storage import SQLStore  # lazily: SQLAlchemy + numpy, ~280 ms

        self.trial_id = trial_id
        self._store = SQLStore(url)
        self._store.get_trial(trial_id)  # NotFoundError now rather than at the first flush

    def write_points(self, chunk: Chunk) -> None:
        self._store.log_curves(self.trial_id, chunk)

    def add_checkpoint(self, step: int, path: str, value: float | None) -> None:
        self._store.add_checkpoint(self.trial_id, step, str(path), value)

    def remove_checkpoint(self, step: int) -> None:
        try:
            self._store.remove_checkpoint(self.trial_id, step)
        except LookupError:  # NotFoundError: already gone, which is what we wanted
            pass

    def list_checkpoints(self) -> list[CheckpointRow]:
        return [(c.step, c.path, c.value) for c in self._store.list_checkpoints(self.trial_id)]
