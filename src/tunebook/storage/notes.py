"""Notes in SQL: on an experiment, or on one of its trials (schema v3's ``notes.trial_id``).

Each function runs inside a transaction the caller holds. Before v3 a trial's
note was an experiment note starting with ``trial STUDY/NUMBER: ``
(what ``tunebook ui`` wrote); ``adopt_prefixed`` turns
those into trial notes when a store is upgraded.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Row

from tunebook.core.errors import NotFoundError
from tunebook.storage.schema import notes, studies, trials


def check_trial_of(conn: Connection, experiment_id: int, trial_id: int) -> None:
    """NotFoundError unless trial ``trial_id`` exists and belongs to experiment ``experiment_id``."""
    owner = conn.execute(select(studies.c.experiment_id).join_from(trials, studies, trials.c.study_id == studies.c.id)
                         .where(trials.c.id == trial_id)).scalar()
    if owner is None:
        raise NotFoundError(f"no trial with id {trial_id}")
    if owner != experiment_id:
        raise NotFoundError(f"trial {trial_id} belongs to experiment {owner}, not to experiment {experiment_id}")


def insert(conn: Connection, experiment_id: int, text: str, trial_id: int | None, now: datetime) -> Row:
    """A new note's row, on trial ``trial_id`` if given (``check_trial_of`` first); the experiment must exist."""
    if trial_id is not None:
        check_trial_of(conn, experiment_id, trial_id)
    values = {"experiment_id": experiment_id, "text": text, "created_at": now, "trial_id": trial_id}
    return conn.execute(notes.insert().values(values).returning(*notes.c)).first()


def select_notes(conn: Connection, experiment_id: int, trial_id: int | None, every_trial: bool) -> list[Row]:
    """The experiment's own notes (``trial_id`` None), one trial's, or (``every_trial``) all its trials'; by id."""
    query = select(notes).where(notes.c.experiment_id == experiment_id)
    if every_trial:
        query = query.where(notes.c.trial_id.is_not(None))
    elif trial_id is None:
        query = query.where(notes.c.trial_id.is_(None))
    else:
        query = query.where(notes.c.trial_id == trial_id)
    return list(conn.execute(query.order_by(notes.c.id)).all())


def adopt_prefixed(conn: Connection) -> int:
    """Turn each experiment note written as ``trial STUDY/NUMBER: TEXT`` into a note on that trial holding
    TEXT; how many. Only an exact match of an existing study key and trial number of the note's own
    experiment is adopted (the longest key first); any other note is left as it is."""
    candidates = conn.execute(select(notes.c.id, notes.c.experiment_id, notes.c.text)
                              .where(notes.c.trial_id.is_(None), notes.c.text.like("trial %/%: %"))).all()
    adopted = 0
    for note_id, experiment_id, text in candidates:
        found = _named_trial(conn, experiment_id, text)
        if found is not None:
            trial_id, rest = found
            conn.execute(update(notes).where(notes.c.id == note_id).values(trial_id=trial_id, text=rest))
            adopted += 1
    return adopted


def _named_trial(conn: Connection, experiment_id: int, text: str) -> tuple[int, str] | None:
    keys = conn.execute(select(studies.c.id, studies.c.key).where(studies.c.experiment_id == experiment_id)).all()
    for study_id, key in sorted(keys, key=lambda k: -len(k[1])):
        head = f"trial {key}/"
        if not text.startswith(head):
            continue
        number, sep, rest = text[len(head):].partition(": ")
        if not sep or not number.isdigit() or not rest.strip():
            continue
        trial_id = conn.execute(select(trials.c.id).where(trials.c.study_id == study_id,
                                                          trials.c.number == int(number))).scalar()
        if trial_id is not None:
            return trial_id, rest
    return None
