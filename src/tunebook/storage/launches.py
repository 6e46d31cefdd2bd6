"""The launch log: an append-only, hash-chained record of each line's baselines.

A *line* (``main`` unless named) is a sequence of launches: entry ``seq`` 0
is the first baseline, each later one replaces it. Every row holds

    hash = sha256(prev_hash + canonical JSON of the entry)

where ``prev_hash`` is the previous entry's hash ("" for the first entry)
and the canonical JSON has sorted keys and no spaces (``rows.dump_json``).
``verify_chain`` walks a line from seq 0 and names the first entry that
breaks it: an edited entry (its hash no longer matches its content), a
deleted one (a gap in seq, or a ``prev_hash`` that names no entry), or
entries moved out of order (a ``prev_hash`` that is not its predecessor's).

What a chain cannot show: the newest entries removed together (the rest is
still a valid chain) or a rewrite that recomputes every later hash. The
head hash (``tunebook launches`` prints it) is what to keep elsewhere to
catch those.

Appending reads the line's last entry and inserts the next seq in one
transaction: SQLite's ``BEGIN IMMEDIATE`` serialises writers; on PostgreSQL
the unique (line, seq) key makes a concurrent append fail, and it is retried
on the new head, so two launches never share a seq or a predecessor.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Callable, ContextManager, Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from tunebook.core.errors import ConflictError, StoreError
from tunebook.core.records import LaunchRecord
from tunebook.storage.rows import dump_json
from tunebook.storage.schema import launches

DEFAULT_LINE = "main"
APPEND_ATTEMPTS = 50  # PostgreSQL retries when concurrent appends collide on (line, seq)


class BrokenChainError(StoreError):
    """A line's launch log does not verify; ``seq`` is the first entry that breaks it."""

    def __init__(self, line: str, seq: int, why: str) -> None:
        self.line, self.seq = line, seq
        super().__init__(f"the launch log of line {line!r} is broken at launch #{seq}: {why}; "
                         "nothing after it can be trusted (the store was edited outside tunebook)")


def canonical_entry(entry: Mapping[str, Any]) -> str:
    """The entry as the chain hashes it: JSON with sorted keys, no spaces."""
    return dump_json(entry, "the launch entry")


def entry_hash(prev_hash: str | None, entry: Mapping[str, Any]) -> str:
    """sha256 hex of ``prev_hash`` ("" for the first entry) followed by the entry's canonical JSON."""
    return hashlib.sha256(((prev_hash or "") + canonical_entry(entry)).encode("utf-8")).hexdigest()


def check_line(line: str) -> str:
    """``line`` stripped; ValueError naming it when empty or not text."""
    if not isinstance(line, str) or not line.strip():
        raise ValueError(f"a launch line needs a name, got {line!r}")
    return line.strip()


def verify_chain(line: str, records: Sequence[LaunchRecord]) -> None:
    """Raise BrokenChainError naming the first entry of ``records`` (one line, by seq) that breaks the chain.

    Rules, in order, for the entry at position ``i``: its seq is ``i`` (else
    an entry before it was deleted); its ``prev_hash`` is the hash of entry
    ``i - 1`` (None for the first; else entries were deleted or reordered);
    its hash is ``entry_hash(prev_hash, entry)`` (else it was edited).
    """
    previous: str | None = None
    for position, record in enumerate(records):
        if record.seq != position:
            raise BrokenChainError(line, position, f"it is missing (the next entry is #{record.seq}): deleted")
        if record.prev_hash != previous:
            why = (f"its previous hash is not launch #{record.seq - 1}'s: entries were deleted or reordered"
                   if record.seq else "the first entry names a previous one: entries were deleted or reordered")
            raise BrokenChainError(line, record.seq, why)
        if entry_hash(record.prev_hash, record.entry) != record.hash:
            raise BrokenChainError(line, record.seq, "its content does not match its hash: it was edited")
        previous = record.hash


def read_line(conn: Connection, line: str) -> list[LaunchRecord]:
    """The entries of ``line``, by seq."""
    rows = conn.execute(select(launches).where(launches.c.line == line).order_by(launches.c.seq)).all()
    return [launch_record(row) for row in rows]


def append(conn: Connection, line: str, entry: Mapping[str, Any], now: datetime,
           expect_seq: int | None = None) -> LaunchRecord:
    """Verify ``line`` and append ``entry`` as its next seq, within the caller's transaction.

    Raises BrokenChainError when the line does not verify, ConflictError when
    ``expect_seq`` is given and is not the next seq; nothing is appended then.
    """
    text = canonical_entry(entry)
    existing = read_line(conn, line)
    verify_chain(line, existing)
    if expect_seq is not None and expect_seq != len(existing):
        newest = existing[-1].entry.get("trial", "?") if existing else "?"
        raise ConflictError(f"line {line!r} changed while this launch was prepared: its newest launch is now "
                            f"#{len(existing) - 1} ({newest}), so this one would be #{len(existing)}, not "
                            f"#{expect_seq}; nothing was written: run the launch again to compare with the new "
                            "baseline")
    prev_hash = existing[-1].hash if existing else None
    values = {"line": line, "seq": len(existing), "entry": text, "prev_hash": prev_hash,
              "hash": entry_hash(prev_hash, json.loads(text)), "created_at": now}
    row = conn.execute(launches.insert().values(values).returning(*launches.c)).first()
    return launch_record(row)


def append_retrying(transaction: Callable[[], ContextManager[Connection]], line: str, entry: Mapping[str, Any],
                    now: Callable[[], datetime], expect_seq: int | None = None) -> LaunchRecord:
    """``append`` in a fresh ``transaction()``, again on the new head when a concurrent append took the seq.

    The collision is the unique (line, seq) key's IntegrityError, which the
    store wraps in a StoreError; anything else is raised at once.
    """
    for attempt in range(APPEND_ATTEMPTS):
        try:
            with transaction() as conn:
                return append(conn, line, entry, now(), expect_seq)
        except StoreError as exc:
            if not isinstance(exc.__cause__, IntegrityError) or attempt == APPEND_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def lines(conn: Connection) -> list[str]:
    """Every line with at least one launch, the one first launched first."""
    query = select(launches.c.line).group_by(launches.c.line).order_by(func.min(launches.c.id))
    return [row.line for row in conn.execute(query).all()]


def launch_record(row: Row) -> LaunchRecord:
    return LaunchRecord(line=row.line, seq=row.seq, entry=json.loads(row.entry), prev_hash=row.prev_hash,
                        hash=row.hash, created_at=row.created_at)
