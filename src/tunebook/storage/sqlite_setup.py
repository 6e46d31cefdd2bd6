"""How every tunebook connection to a SQLite store is set up (standard library only).

Shared by the SQLAlchemy store and the in-training writer, so both open a
file the same way: a busy timeout first, then WAL (write-ahead logging)
with ``synchronous=NORMAL``, and foreign keys on.
"""

from __future__ import annotations

import sqlite3
import time

BUSY_TIMEOUT_S = 30.0


def set_up_connection(conn: sqlite3.Connection) -> None:
    """Apply tunebook's pragmas to a fresh sqlite3 connection."""
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    use_wal(conn)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


def use_wal(conn: sqlite3.Connection, patience: float = BUSY_TIMEOUT_S) -> None:
    """Put the file in WAL mode, waiting out other openers.

    WAL mode is stored in the file, so only the first opener switches it;
    but switching needs the file to itself and fails at once with "database
    is locked" (the busy timeout does not apply) when many processes open a
    fresh store together. So: look first, and retry the switch with backoff.
    """
    deadline = time.monotonic() + patience
    delay = 0.005
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
