"""Schema versions: create a fresh store, upgrade an old one, refuse a newer one.

The ``tunebook_meta`` table holds the ``schema_version`` of a store. Opening
a store runs ``ensure_schema``:

- empty database: create every table at ``SCHEMA_VERSION``;
- older version: apply the ``STEPS`` after it, in order, in one transaction;
- newer version: StoreError, the user must upgrade tunebook.

Creation and upgrades hold a lock (``BEGIN IMMEDIATE`` on SQLite, an
advisory transaction lock on PostgreSQL), so processes that open a fresh
store at the same moment create it once.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection, Engine

from tunebook.core.errors import StoreError
from tunebook.storage.engine import READ_ONLY, store_errors
from tunebook.storage.schema import SCHEMA_VERSION, code_versions, launches, meta, metadata, notes

Step = Callable[[Connection], None]

# (to_version, step): ``step`` upgrades a store from ``to_version - 1``.
# Bumping SCHEMA_VERSION means appending its step here.
def _to_v2(conn: Connection) -> None:
    """v2: code versions, the launch log, retrain studies' source trial, trials' code version and suggestion."""
    code_versions.create(conn)
    launches.create(conn)
    ref = "REFERENCES code_versions(id) ON DELETE SET NULL"
    conn.execute(text(f"ALTER TABLE trials ADD COLUMN code_version_id INTEGER {ref}"))
    conn.execute(text("ALTER TABLE trials ADD COLUMN suggestion TEXT"))
    conn.execute(text("ALTER TABLE studies ADD COLUMN source_trial_id INTEGER REFERENCES trials(id) ON DELETE SET NULL"))


def _to_v3(conn: Connection) -> None:
    """v3: a note may be about one trial (``notes.trial_id``); the notes ``tunebook ui`` wrote before as
    ``trial STUDY/NUMBER: TEXT`` on the experiment become notes on that trial."""
    from tunebook.storage.notes import adopt_prefixed

    conn.execute(text("ALTER TABLE notes ADD COLUMN trial_id INTEGER REFERENCES trials(id) ON DELETE CASCADE"))
    for index in notes.indexes:
        index.create(conn)
    adopt_prefixed(conn)


STEPS: list[tuple[int, Step]] = [(2, _to_v2), (3, _to_v3)]

VERSION_KEY = "schema_version"
_PG_LOCK_KEY = 0x74756E65  # "tune": serializes schema changes between processes


def ensure_schema(engine: Engine, display_url: str) -> int:
    """Bring the store at ``engine`` to ``SCHEMA_VERSION``; returns the version."""
    with store_errors(display_url, "opening it"):
        with engine.connect() as conn:
            conn.execution_options(**{READ_ONLY: True})
            with conn.begin():
                found = read_version(conn)
        if found == SCHEMA_VERSION:
            return found  # the common case: no lock taken
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            found = read_version(conn)  # again, under the lock
            if found is None:
                _create(conn, display_url)
            elif found < SCHEMA_VERSION:
                _upgrade(conn, found, display_url)
            elif found > SCHEMA_VERSION:
                raise _too_new(found, display_url)
    return SCHEMA_VERSION


def read_version(conn: Connection) -> int | None:
    """The store's schema version; None if it has no tunebook tables yet."""
    if not inspect(conn).has_table(meta.name):
        return None
    value = conn.execute(select(meta.c.value).where(meta.c.key == VERSION_KEY)).scalar()
    return None if value is None else int(value)


def _create(conn: Connection, display_url: str) -> None:
    present = set(inspect(conn).get_table_names()) & set(metadata.tables)
    if present:
        raise StoreError(
            f"store at {display_url} has tables {sorted(present)} but no tunebook "
            "schema version: it is not a tunebook store, or it is damaged"
        )
    metadata.create_all(conn)
    conn.execute(meta.insert().values(key=VERSION_KEY, value=str(SCHEMA_VERSION)))


def _upgrade(conn: Connection, found: int, display_url: str) -> None:
    version = found
    for to_version, step in sorted(STEPS, key=lambda s: s[0]):
        if version < to_version <= SCHEMA_VERSION:
            if to_version != version + 1:
                break
            step(conn)
            version = to_version
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"store at {display_url} has schema version {found} and this tunebook has "
            f"no migration from version {version} to {version + 1}"
        )
    conn.execute(meta.update().where(meta.c.key == VERSION_KEY).values(value=str(version)))


def _too_new(found: int, display_url: str) -> StoreError:
    return StoreError(
        f"store at {display_url} has schema version {found}, this tunebook knows up "
        f"to {SCHEMA_VERSION}: upgrade tunebook"
    )
