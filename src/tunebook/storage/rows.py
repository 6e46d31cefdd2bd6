"""Between table rows and the frozen records of ``tunebook.core.records``."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from sqlalchemy import Text, type_coerce
from sqlalchemy.engine import Row
from sqlalchemy.sql.elements import ColumnElement

from tunebook.core.errors import StoreError
from tunebook.core.records import Checkpoint, ExperimentRecord, Note, StudyRecord, Trial
from tunebook.core.states import TrialState
from tunebook.storage.schema import UTCDateTime, trials


def dump_json(value: Mapping[str, Any], what: str, keep_order: bool = False) -> str:
    """Canonical JSON text (sorted keys, unless ``keep_order``); NaN and infinities allowed.

    ``keep_order`` keeps a spec's keys as written: the order of its
    hyperparameters is the order tables and plots show them in.
    numpy scalars and arrays become plain numbers and lists; anything else
    that JSON cannot hold raises StoreError naming ``what`` and the value.
    """
    try:
        return json.dumps(value, sort_keys=not keep_order, separators=(",", ":"), default=_plain)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"cannot store {what} {value!r}: {exc}") from None


def same_json(stored: str, new: str) -> bool:
    """Whether two JSON texts hold the same data, whatever the order of their keys."""
    return dump_json(json.loads(stored), "stored JSON") == dump_json(json.loads(new), "new JSON")


def _plain(value: Any) -> Any:
    for method in ("tolist", "item"):  # numpy arrays and scalars, other array-likes
        if hasattr(value, method):
            return getattr(value, method)()
    raise TypeError(f"value {value!r} of type {type(value).__name__} is not JSON-serializable")


def finite_or_none(value: float | None) -> float | None:
    """NaN is stored as NULL on every backend (SQLite cannot hold NaN)."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def experiment_record(row: Row) -> ExperimentRecord:
    return ExperimentRecord(
        id=row.id, name=row.name, spec=json.loads(row.spec), created_at=row.created_at, source=row.source
    )


def study_record(row: Row) -> StudyRecord:
    return StudyRecord(
        id=row.id,
        experiment_id=row.experiment_id,
        key=row.key,
        scientific=json.loads(row.scientific),
        budget=row.budget,
        created_at=row.created_at,
        source_trial_id=row.source_trial_id,
    )


def _as_is(value: datetime | None) -> datetime | None:
    return value


def trial_record(row: Row, timestamp: Callable[[Any], datetime | None] = _as_is) -> Trial:
    """The Trial of a trials row; ``timestamp`` reads its datetime columns (``_utc_from_text`` for stored text)."""
    return Trial(
        id=row.id,
        study_id=row.study_id,
        number=row.number,
        params=json.loads(row.params),
        state=TrialState(row.state),
        attempt=row.attempt,
        worker=row.worker,
        created_at=timestamp(row.created_at),
        started_at=timestamp(row.started_at),
        finished_at=timestamp(row.finished_at),
        heartbeat_at=timestamp(row.heartbeat_at),
        objective=row.objective,
        best_step=row.best_step,
        reason=row.reason,
        code_version_id=row.code_version_id,
        suggestion=None if row.suggestion is None else json.loads(row.suggestion),
    )


def trial_columns_as_text() -> list[ColumnElement]:
    """The trials table's columns, its timestamps as their stored text (SQLite only).

    SQLAlchemy parses SQLite's datetime text with a regex and then
    ``UTCDateTime`` tags it UTC, per value; ``trial_record_from_text`` does
    both in one ``fromisoformat`` call (~0.1 s less at 10,000 trials).
    """
    return [
        type_coerce(column, Text).label(column.name) if isinstance(column.type, UTCDateTime) else column
        for column in trials.columns
    ]


def _utc_from_text(text: str | None) -> datetime | None:
    """SQLite's stored naive-UTC text (``YYYY-MM-DD HH:MM:SS[.ffffff]``) as an aware UTC datetime."""
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def trial_record_from_text(row: Row) -> Trial:
    """``trial_record`` of a row selected with ``trial_columns_as_text``: the same record."""
    return trial_record(row, _utc_from_text)


def checkpoint_record(row: Row) -> Checkpoint:
    return Checkpoint(
        trial_id=row.trial_id, step=row.step, path=row.path, value=row.value, created_at=row.created_at
    )


def note_record(row: Row) -> Note:
    return Note(id=row.id, experiment_id=row.experiment_id, text=row.text, created_at=row.created_at,
                trial_id=row.trial_id)
