"""Per study of an experiment, what a tracking spreadsheet shows, aggregated by the database
(``Store.summarize_studies``): trials counted by state, the best COMPLETE trial, the last activity
and the RUNNING trials.

A spreadsheet row of an experiment of 50,000 trials must not read 50,000
trials: the counts and the latest start, finish and heartbeat come from
GROUP BY queries, the best trial from one ``ORDER BY objective LIMIT 1`` per
study (ties: the lowest trial number, as ``min``/``max`` over
``list_trials`` pick), and only the RUNNING trials (few) are read whole, for
the caller's stale check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from tunebook.core.records import Trial
from tunebook.core.states import TrialState
from tunebook.storage.base import StudySummary
from tunebook.storage.rows import trial_record
from tunebook.storage.schema import studies, trials


def summarize(conn: Connection, experiment_id: int, mode: str) -> dict[int, StudySummary]:
    """``Store.summarize_studies``'s answer, read on ``conn``; ``mode`` is ``min`` or ``max``."""
    study_ids = conn.execute(select(studies.c.id).where(studies.c.experiment_id == experiment_id)
                             .order_by(studies.c.id)).scalars().all()
    counts: dict[int, dict[TrialState, int]] = {study_id: {} for study_id in study_ids}
    in_experiment = trials.c.study_id.in_(study_ids)
    for study_id, state, n in conn.execute(select(trials.c.study_id, trials.c.state, func.count())
                                           .where(in_experiment).group_by(trials.c.study_id, trials.c.state)):
        counts[study_id][TrialState(state)] = n
    activity = _last_activity(conn, in_experiment)
    running: dict[int, list[Trial]] = {study_id: [] for study_id in study_ids}
    for row in conn.execute(select(trials).where(in_experiment, trials.c.state == TrialState.RUNNING.value)
                            .order_by(trials.c.study_id, trials.c.number)):
        running[row.study_id].append(trial_record(row))
    return {study_id: StudySummary(counts[study_id], _best(conn, study_id, mode), activity.get(study_id),
                                   tuple(running[study_id])) for study_id in study_ids}


def _last_activity(conn: Connection, where: Any) -> dict[int, datetime]:
    """Study id -> its trials' latest start, finish or heartbeat (studies without any absent)."""
    t = trials.c
    query = (select(t.study_id, func.max(t.started_at), func.max(t.finished_at), func.max(t.heartbeat_at))
             .where(where).group_by(t.study_id))
    out = {}
    for study_id, *moments in conn.execute(query):
        known = [m for m in moments if m is not None]
        if known:
            out[study_id] = max(known)
    return out


def _best(conn: Connection, study_id: int, mode: str) -> Trial | None:
    """The study's COMPLETE trial of the best objective (``mode`` min or max), the lowest number among ties."""
    objective = trials.c.objective.asc() if mode == "min" else trials.c.objective.desc()
    row = conn.execute(select(trials).where(trials.c.study_id == study_id,
                                            trials.c.state == TrialState.COMPLETE.value,
                                            trials.c.objective.is_not(None))
                       .order_by(objective, trials.c.number).limit(1)).first()
    return None if row is None else trial_record(row)
