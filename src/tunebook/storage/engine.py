"""SQLAlchemy engines set up for many concurrent users, and their errors.

SQLite: WAL journal, ``synchronous=NORMAL`` (a commit survives a crash of the
process; WAL keeps the file consistent), foreign keys on, a 30 s busy timeout.
pysqlite's own transaction handling is switched off: we emit ``BEGIN
IMMEDIATE`` ourselves, so a writing transaction holds the write lock from its
first statement and read-then-write sequences (claims) are atomic. Reads use a
plain deferred ``BEGIN`` so they never wait for writers.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from tunebook.core.errors import StoreError
from tunebook.storage.advice import with_advice
from tunebook.storage.sqlite_setup import BUSY_TIMEOUT_S, set_up_connection
from tunebook.storage.url import engine_url

READ_ONLY = "tunebook_read_only"  # execution option: a read transaction

# PostgreSQL pool: a runner or a trial holds one connection at a time; at most
# 6 per process keeps 16 runners with 16 trials each far below max_connections.
POOL_SIZE, POOL_OVERFLOW = 2, 4
POOL_RECYCLE_S = 1800
POOL_TIMEOUT_S = 30


def create_store_engine(url: str) -> Engine:
    """An engine for a normalized store URL; connects lazily."""
    sa_url = engine_url(url)
    if sa_url.get_backend_name() == "sqlite":
        engine = create_engine(sa_url, connect_args={"timeout": BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # Workers live for hours and use one connection at a time (trials each open their own):
    # check pooled connections before handing them out (a restarted server's are dead),
    # replace them after POOL_RECYCLE_S (server-side idle timeouts, proxies), keep few idle.
    return create_engine(
        sa_url, pool_pre_ping=True, pool_recycle=POOL_RECYCLE_S, pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW, pool_timeout=POOL_TIMEOUT_S,
    )


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    set_up_connection(dbapi_connection)


def _sqlite_begin(connection: Connection) -> None:
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@contextmanager
def store_errors(display_url: str, doing: str = "") -> Iterator[None]:
    """Turn database failures into StoreError naming the store and the cause."""
    try:
        yield
    except SQLAlchemyError as exc:
        what = f" while {doing}" if doing else ""
        raise StoreError(with_advice(f"store {display_url} failed{what}: {describe(exc)}")) from exc


def describe(exc: SQLAlchemyError) -> str:
    """The driver's own message, without SQLAlchemy's statement dump."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0]
