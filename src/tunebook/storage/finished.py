"""Studies of trials that ran elsewhere, written finished inside the caller's transaction.

``SQLStore.import_experiment`` holds the one transaction; these functions
only add rows to it, so a failure anywhere leaves nothing behind.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from tunebook.storage import curves
from tunebook.storage.base import FinishedStudy, FinishedTrial
from tunebook.storage.rows import dump_json, finite_or_none
from tunebook.storage.schema import studies, trials


BATCH = 2000  # rows per multi-row INSERT


def insert_study(conn: Connection, experiment_id: int, study: FinishedStudy, worker: str | None,
                 now: datetime) -> None:
    """The study (budget = its trials, all used) and its trials numbered in order, with their curves.

    Trials go in as multi-row INSERTs of ``BATCH`` rows (one statement per
    trial took ~3 ms each: minutes for 50,000), then their ids are read back
    by number for the curve rows, one statement per trial with curves.
    """
    count = len(study.trials)
    values = dict(experiment_id=experiment_id, key=study.key, budget=count, next_number=count, created_at=now,
                  scientific=dump_json(study.scientific, f"the scientific values of study {study.key!r}"))
    study_id = conn.execute(studies.insert().values(values).returning(studies.c.id)).scalar_one()
    rows = [_trial_values(study_id, number, trial, worker, now, study.key) for number, trial in enumerate(study.trials)]
    for start in range(0, len(rows), BATCH):
        conn.execute(trials.insert(), rows[start:start + BATCH])
    if not any(trial.curves for trial in study.trials):
        return
    ids = dict(conn.execute(select(trials.c.number, trials.c.id).where(trials.c.study_id == study_id)).all())
    for number, trial in enumerate(study.trials):
        curves.insert_chunks(conn, curves.encode_points(ids[number], trial.curves))


def _trial_values(study_id: int, number: int, trial: FinishedTrial, worker: str | None,
                  now: datetime, key: str) -> dict:
    return dict(
        study_id=study_id,
        number=number,
        params=dump_json(trial.params, f"params of trial {number} of study {key!r}"),
        state=trial.state.value,
        attempt=0,
        worker=worker,
        created_at=now,
        started_at=trial.started_at or now,
        finished_at=trial.finished_at or now,
        objective=finite_or_none(trial.objective),
        best_step=None if trial.best_step is None else int(trial.best_step),
        reason=trial.reason,
    )
