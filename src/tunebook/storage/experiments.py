"""Experiments in SQL: one row per name, holding its spec as JSON text.

Each function runs inside a transaction the caller holds and returns
``experiments`` rows (``rows.experiment_record`` makes the records). A name
is taken once: creating it again with the same spec (whatever the order of
its keys) finds the row, with another spec is a ConflictError; an import
never reuses a name. ``url`` is the store's display URL, for the messages.
"""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Sequence

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Row

from tunebook.core.errors import ConflictError, NotFoundError
from tunebook.storage import finished
from tunebook.storage.base import FinishedStudy
from tunebook.storage.rows import same_json
from tunebook.storage.schema import experiments


def unknown_experiment(name: str, names: list[str], url: str) -> str:
    """Why ``name`` is not found, with the close names (difflib) or the names there are."""
    message = f"no experiment named {name!r} in store {url}"
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if close:
        return message + f"; did you mean {' or '.join(repr(c) for c in close)}?"
    if names:
        return message + f"; it has: {', '.join(names[:10])}{', ...' if len(names) > 10 else ''}"
    return message + " (it is empty: is --store, or TUNEBOOK_STORE, the store the experiment ran with?)"


def already_exists(name: str, url: str) -> ConflictError:
    """The error of an import whose name is taken."""
    return ConflictError(f"experiment {name!r} already exists in store {url}")


def find(conn: Connection, name: str) -> Row | None:
    """The row of experiment ``name``, or None."""
    return conn.execute(select(experiments).where(experiments.c.name == name)).first()


def exists(conn: Connection, name: str) -> bool:
    return conn.execute(select(experiments.c.id).where(experiments.c.name == name)).first() is not None


def all_rows(conn: Connection) -> list[Row]:
    """Every experiment's row, in creation order."""
    return list(conn.execute(select(experiments).order_by(experiments.c.id)).all())


def _insert(conn: Connection, name: str, spec_text: str, source: str | None, now: datetime) -> Row:
    values = {"name": name, "spec": spec_text, "created_at": now, "source": source}
    return conn.execute(experiments.insert().values(values).returning(*experiments.c)).first()


def ensure(conn: Connection, name: str, spec_text: str, source: str | None, now: datetime, url: str) -> Row:
    """The row of ``name``, inserted if new; ConflictError if it exists with a different spec."""
    row = find(conn, name)
    if row is None:
        return _insert(conn, name, spec_text, source, now)
    if not same_json(row.spec, spec_text):
        raise ConflictError(
            f"experiment {name!r} already exists in store {url} with a "
            "different spec: pick a new name or edit the spec back"
        )
    return row


def replace_spec(conn: Connection, experiment_id: int, spec_text: str, source: str | None, url: str) -> Row:
    """The row with its spec and source replaced; NotFoundError if there is no such experiment."""
    row = conn.execute(
        update(experiments).where(experiments.c.id == experiment_id)
        .values(spec=spec_text, source=source).returning(*experiments.c)
    ).first()
    if row is None:
        raise NotFoundError(f"no experiment with id {experiment_id} in store {url}")
    return row


def insert_finished(conn: Connection, name: str, spec_text: str, studies: Sequence[FinishedStudy],
                    source: str | None, worker: str | None, now: datetime, url: str) -> Row:
    """A new experiment holding ``studies`` (``finished.insert_study``); ConflictError if ``name`` is taken.

    A concurrent import of the same name can still commit first: the caller
    sees the unique name's IntegrityError and reports ``already_exists``.
    """
    if exists(conn, name):
        raise already_exists(name, url)
    row = _insert(conn, name, spec_text, source, now)
    for study in studies:
        finished.insert_study(conn, row.id, study, worker, now)
    return row
