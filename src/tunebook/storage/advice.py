"""What to do about a store failure, from the database's own message (standard library only).

Shared by ``storage.engine`` (SQLAlchemy) and the in-training SQLite writer
(``tracking.sinks``), so a full disk or a read-only store reads the same
whoever hit it. ``advice(message)`` is "" for a failure it does not know.
"""

from __future__ import annotations

# (words in the driver's message, lower case) -> what happened and what to do
_ADVICE = (
    (("database or disk is full", "no space left on device", "could not extend file", "diskfull"),
     "the disk holding the store is full: free space there (or move the store to a larger disk), "
     "then run the same command again; points already saved are kept"),
    (("attempt to write a readonly database", "read-only file system", "readonly database",
      "unable to open database file"),
     "the store cannot be written (read-only file, folder or mount): make it writable "
     "(chmod u+w on the file and its folder, or remount read-write), then run the same command again"),
    (("connection refused", "could not connect", "server closed the connection",
      "terminating connection", "the database system is", "connection is closed", "consuming input failed"),
     "the PostgreSQL server is unreachable or restarting: check that it runs and accepts connections, "
     "then run the same command again"),
)


def advice(message: str) -> str:
    """What happened and what to do for a store failure saying ``message``; "" if unknown."""
    lowered = message.lower()
    for words, said in _ADVICE:
        if any(word in lowered for word in words):
            return said
    return ""


def with_advice(message: str) -> str:
    """``message``, followed by ``: ADVICE`` when ``advice`` knows the failure."""
    said = advice(message)
    return f"{message} ({said})" if said else message
