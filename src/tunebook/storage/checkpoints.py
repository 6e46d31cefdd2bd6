"""Checkpoints in SQL: at most one per (trial, step), holding its path and the objective there.

Each function runs inside a transaction the caller holds, which has checked
that the trial exists where it must.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Row

from tunebook.storage.rows import finite_or_none
from tunebook.storage.schema import checkpoints


def _at(trial_id: int, step: int) -> tuple:
    return (checkpoints.c.trial_id == trial_id, checkpoints.c.step == step)


def put(conn: Connection, trial_id: int, step: int, path: str, value: float | None, now: datetime) -> None:
    """Record the checkpoint, replacing the trial's one at that step if any (NaN ``value`` stored as NULL)."""
    row = dict(trial_id=trial_id, step=int(step), path=str(path), value=finite_or_none(value), created_at=now)
    conn.execute(delete(checkpoints).where(*_at(trial_id, step)))
    conn.execute(checkpoints.insert().values(row))


def remove(conn: Connection, trial_id: int, step: int) -> bool:
    """Delete the trial's checkpoint at ``step``; whether there was one."""
    return conn.execute(delete(checkpoints).where(*_at(trial_id, step))).rowcount > 0


def of_trial(conn: Connection, trial_id: int) -> list[Row]:
    """The trial's checkpoint rows, by step."""
    query = select(checkpoints).where(checkpoints.c.trial_id == trial_id).order_by(checkpoints.c.step)
    return list(conn.execute(query).all())
