"""Between table rows and the frozen records of ``tunebook.core.records``."""

from __future__ import annotations

import json
import math
from typing import Any, Mapping

from sqlalchemy.engine import Row

from tunebook.core.errors import StoreError
from tunebook.core.records import Checkpoint, ExperimentRecord, Note, StudyRecord, Trial
from tunebook.core.states import TrialState


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
    )


def trial_record(row: Row) -> Trial:
    return Trial(
        id=row.id,
        study_id=row.study_id,
        number=row.number,
        params=json.loads(row.params),
        state=TrialState(row.state),
        attempt=row.attempt,
        worker=row.worker,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        heartbeat_at=row.heartbeat_at,
        objective=row.objective,
        best_step=row.best_step,
        reason=row.reason,
    )


def checkpoint_record(row: Row) -> Checkpoint:
    return Checkpoint(
        trial_id=row.trial_id, step=row.step, path=row.path, value=row.value, created_at=row.created_at
    )


def note_record(row: Row) -> Note:
    return Note(id=row.id, experiment_id=row.experiment_id, text=row.text, created_at=row.created_at)
