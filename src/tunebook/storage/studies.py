"""Studies in SQL: one row per (experiment, key), holding its scientific values and budget.

Each function runs inside a transaction the caller holds and returns
``studies`` rows (``rows.study_record`` makes the records). A study is
created once: ensuring it again with the same scientific values (whatever
the order of their keys) and source trial finds the row and sets its budget;
other values or another source trial are a ConflictError.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from tunebook.core.errors import ConflictError
from tunebook.storage.rows import same_json
from tunebook.storage.schema import studies


def check_budget(budget: int) -> None:
    """ValueError unless ``budget`` is an integer >= 0 (a bool is not)."""
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ValueError(f"budget must be an integer >= 0, got {budget!r}")


def find(conn: Connection, experiment_id: int, key: str) -> Row | None:
    """The row of study ``key`` of the experiment, or None."""
    return conn.execute(select(studies).where(studies.c.experiment_id == experiment_id, studies.c.key == key)).first()


def insert(conn: Connection, experiment_id: int, key: str, sci_text: str, budget: int,
           source_trial_id: int | None, now: datetime) -> Row:
    """A new study's row; the experiment must exist (the caller checks)."""
    values = dict(
        experiment_id=experiment_id, key=key, scientific=sci_text, budget=budget, created_at=now,
        source_trial_id=source_trial_id,
    )
    return conn.execute(studies.insert().values(values).returning(*studies.c)).first()


def reconcile(conn: Connection, row: Row, sci_text: str, budget: int, source_trial_id: int | None) -> Row:
    """The existing study ``row`` with ``budget`` set; ConflictError if its values or source trial differ."""
    if not same_json(row.scientific, sci_text):
        raise ConflictError(
            f"study {row.key!r} of experiment {row.experiment_id} already exists with scientific "
            f"values {json.loads(row.scientific)!r}, not {json.loads(sci_text)!r}"
        )
    if row.source_trial_id != source_trial_id:
        raise ConflictError(
            f"study {row.key!r} of experiment {row.experiment_id} already exists with source trial "
            f"{row.source_trial_id!r}, not {source_trial_id!r}"
        )
    if row.budget == budget:
        return row
    new_budget = studies.update().where(studies.c.id == row.id).values(budget=budget).returning(*studies.c)
    return conn.execute(new_budget).first()


def of_experiment(conn: Connection, experiment_id: int) -> list[Row]:
    """The experiment's study rows, in creation order."""
    query = select(studies).where(studies.c.experiment_id == experiment_id).order_by(studies.c.id)
    return list(conn.execute(query).all())
