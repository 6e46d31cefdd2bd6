"""Trials read in SQL: one by id or by number, a study's or an experiment's, counts by state.

Each function runs inside a read transaction the caller holds, which has
already checked that the study or experiment named exists. Lists come by
study, then number, as ``Store.list_trials`` promises.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection, Row

from tunebook.core.records import Trial
from tunebook.core.states import TrialState
from tunebook.storage.rows import trial_columns_as_text, trial_record, trial_record_from_text
from tunebook.storage.schema import studies, trials

_WITH_STUDY = (trials, studies, trials.c.study_id == studies.c.id)  # join_from arguments


def by_id(conn: Connection, trial_id: int) -> Row | None:
    return conn.execute(select(trials).where(trials.c.id == trial_id)).first()


def by_number(conn: Connection, study_id: int, number: int) -> Row | None:
    return conn.execute(select(trials).where(trials.c.study_id == study_id, trials.c.number == number)).first()


def select_rows(conn: Connection, study_id: int | None, experiment_id: int | None,
                changed_since: datetime | None) -> tuple[list[Row], Callable[[Row], Trial]]:
    """The rows of the study's and/or the experiment's trials, and the function making their records.

    With ``changed_since``, only trials with a timestamp after it. On SQLite
    the timestamps come as their stored text, parsed by the record function
    in one lean pass (``rows.trial_record_from_text``): the same records.
    """
    sqlite = conn.dialect.name == "sqlite"
    query = select(*(trial_columns_as_text() if sqlite else [trials]))
    query = query.join_from(*_WITH_STUDY).order_by(trials.c.study_id, trials.c.number)
    if study_id is not None:
        query = query.where(trials.c.study_id == study_id)
    if experiment_id is not None:
        query = query.where(studies.c.experiment_id == experiment_id)
    if changed_since is not None:
        t = trials.c
        query = query.where(or_(*(column > changed_since for column in
                                  (t.created_at, t.started_at, t.heartbeat_at, t.finished_at))))
    return list(conn.execute(query).all()), trial_record_from_text if sqlite else trial_record


def count_by_state(conn: Connection, experiment_id: int) -> dict[TrialState, int]:
    """How many of the experiment's trials are in each state (states with none left out)."""
    query = (select(trials.c.state, func.count()).join_from(*_WITH_STUDY)
             .where(studies.c.experiment_id == experiment_id).group_by(trials.c.state))
    return {TrialState(state): n for state, n in conn.execute(query).all()}
