"""Trial life cycle in SQL: claim, finish, re-queue stale trials.

Each function runs inside a write transaction the caller holds. Statements are
built once, at import, and bound per call: a claim is four short statements
whose cost does not depend on how many trials the study already has.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.engine import Connection, Row

from tunebook.core.records import Suggestion
from tunebook.core.states import FINISHED_STATES, TrialState
from tunebook.storage.rows import dump_json, finite_or_none
from tunebook.storage.schema import UTCDateTime, studies, trials

_RUNNING = TrialState.RUNNING.value
_WAITING = TrialState.WAITING.value
_FINISHED = sorted(state.value for state in FINISHED_STATES)
_NOT_FINISHED = [_RUNNING, _WAITING]
_ALL_BUT_WAITING = [_RUNNING, *_FINISHED]

# Locks the study row on PostgreSQL (FOR UPDATE), so claims of one study take
# turns; SQLite's BEGIN IMMEDIATE already serializes every writer.
_LOCK_STUDY = (
    select(studies.c.next_number, studies.c.budget)
    .where(studies.c.id == bindparam("study_id"))
    .with_for_update()
)

_LOWEST_WAITING = (
    select(trials.c.id)
    .where(trials.c.study_id == bindparam("b_study_id"), trials.c.state == _WAITING)
    .order_by(trials.c.number)
    .limit(1)
    .scalar_subquery()
)

_CLAIM_WAITING = (
    update(trials)
    .where(trials.c.id == _LOWEST_WAITING)
    .values(
        state=_RUNNING,
        worker=bindparam("b_worker"),
        code_version_id=bindparam("b_code_version_id"),
        started_at=bindparam("now", type_=UTCDateTime),
        heartbeat_at=None,
        finished_at=None,
    )
    .returning(*trials.c)
)

_INSERT_TRIAL = trials.insert().returning(*trials.c)

_BUMP_NUMBER = (
    update(studies)
    .where(studies.c.id == bindparam("study_id"))
    .values(next_number=studies.c.next_number + 1)
)


ParamsFor = Callable[[int], "Mapping[str, Any] | Suggestion"]


def claim(
    conn: Connection, study_id: int, worker: str, params_for: ParamsFor, now: datetime,
    code_version_id: int | None = None,
) -> Row | None:
    """The claimed trial's row; None if the study is unknown or has nothing left.

    The caller tells "unknown" from "nothing left" with ``study_exists``. The
    trial's ``code_version_id`` is set on every claim, a re-queued trial's too.
    ``params_for(number)`` runs inside this transaction, so it must be quick
    (a lookup, not a model fit); it returns the params, or a Suggestion whose
    ``info`` is stored too. An exception it raises rolls the claim back.
    """
    study = conn.execute(_LOCK_STUDY, {"study_id": study_id}).first()
    if study is None:
        return None
    claim_waiting = {"b_study_id": study_id, "b_worker": worker, "now": now, "b_code_version_id": code_version_id}
    row = conn.execute(_CLAIM_WAITING, claim_waiting).first()
    if row is not None or study.next_number >= study.budget:
        return row
    number = study.next_number
    proposal = params_for(number)
    params, info = (proposal.params, proposal.info) if isinstance(proposal, Suggestion) else (proposal, None)
    what = f"trial {number} of study {study_id}"
    row = conn.execute(
        _INSERT_TRIAL,
        {
            "study_id": study_id,
            "number": number,
            "params": dump_json(params, f"params of {what}"),
            "suggestion": None if info is None else dump_json(info, f"the suggestion info of {what}"),
            "state": _RUNNING,
            "attempt": 0,
            "worker": worker,
            "code_version_id": code_version_id,
            "created_at": now,
            "started_at": now,
        },
    ).first()
    conn.execute(_BUMP_NUMBER, {"study_id": study_id})
    return row


def heartbeat(conn: Connection, trial_id: int, now: datetime) -> bool:
    """Set the trial's ``heartbeat_at`` to ``now``; whether the trial exists."""
    return conn.execute(update(trials).where(trials.c.id == trial_id).values(heartbeat_at=now)).rowcount > 0


def study_exists(conn: Connection, study_id: int) -> bool:
    return conn.execute(select(studies.c.id).where(studies.c.id == study_id)).first() is not None


_FINISH = (
    update(trials)
    .where(trials.c.id == bindparam("trial_id"), trials.c.state.in_(_NOT_FINISHED))
    .values(
        state=bindparam("b_state"),
        finished_at=bindparam("now", type_=UTCDateTime),
        objective=bindparam("b_objective"),
        best_step=bindparam("b_best_step"),
        reason=bindparam("b_reason"),
    )
    .returning(*trials.c)
)

# a trial goes back to WAITING as if never run, one attempt further on
_BACK_TO_WAITING = dict(
    state=_WAITING,
    attempt=trials.c.attempt + 1,
    worker=None,
    started_at=None,
    heartbeat_at=None,
    finished_at=None,
    objective=None,
    best_step=None,
)

_REQUEUE = (
    update(trials)
    .where(trials.c.id == bindparam("trial_id"), trials.c.state.in_(_ALL_BUT_WAITING))
    .values(**_BACK_TO_WAITING, reason=bindparam("b_reason"))
    .returning(*trials.c)
)


_RELEASE = (
    update(trials)
    .where(trials.c.id == bindparam("trial_id"), trials.c.state == _RUNNING)
    .values(**{**_BACK_TO_WAITING, "attempt": trials.c.attempt}, reason=bindparam("b_reason"))
    .returning(*trials.c)
)


def release(conn: Connection, trial_id: int, reason: str | None) -> Row | None:
    """The trial back to WAITING, attempt unchanged; None unless it was RUNNING."""
    return conn.execute(_RELEASE, {"trial_id": trial_id, "b_reason": reason}).first()


def finish(
    conn: Connection,
    trial_id: int,
    state: TrialState,
    objective: float | None,
    best_step: int | None,
    reason: str | None,
    now: datetime,
) -> Row | None:
    """The updated row; None if the trial is absent or may not make that move.

    A finished trial cannot be finished again; any trial but a WAITING one may
    go back to WAITING (its attempt counter grows by one).
    """
    if state is TrialState.WAITING:
        return conn.execute(_REQUEUE, {"trial_id": trial_id, "b_reason": reason}).first()
    params = {
        "trial_id": trial_id,
        "b_state": state.value,
        "now": now,
        "b_objective": finite_or_none(objective),
        "b_best_step": None if best_step is None else int(best_step),
        "b_reason": reason,
    }
    return conn.execute(_FINISH, params).first()


def reclaim(conn: Connection, study_id: int, older_than: timedelta, max_attempts: int, now: datetime) -> int:
    """Re-queue or fail the study's silent RUNNING trials; returns how many."""
    last_sign = func.coalesce(trials.c.heartbeat_at, trials.c.started_at)
    stale = and_(
        trials.c.study_id == study_id,
        trials.c.state == _RUNNING,
        last_sign < bindparam("cutoff", now - older_than, type_=UTCDateTime),
    )
    failed = conn.execute(
        update(trials)
        .where(stale, trials.c.attempt + 1 >= max_attempts)
        .values(
            state=TrialState.FAILED.value,
            finished_at=now,
            reason=f"no heartbeat for {older_than}; gave up after {max_attempts} attempt(s)",
        )
    ).rowcount
    requeued = conn.execute(
        update(trials)
        .where(stale, trials.c.attempt + 1 < max_attempts)
        .values(**_BACK_TO_WAITING, reason=f"re-queued: no heartbeat for {older_than}")
    ).rowcount
    return failed + requeued
