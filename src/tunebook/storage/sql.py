"""``SQLStore``: the Store on SQLite (default) or PostgreSQL, through SQLAlchemy Core."""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Collection, Iterator, Mapping, Sequence

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from tunebook.core.errors import ConflictError, NotFoundError, StoreError
from tunebook.core.records import Checkpoint, CodeVersion, ExperimentRecord, LaunchRecord, Note, StudyRecord, Trial
from tunebook.core.states import TrialState
from tunebook.storage import checkpoints as checkpoint_sql, code_versions, curves, experiments as experiment_sql
from tunebook.storage import launches as launch_sql, notes as note_sql, studies as study_sql, study_summary
from tunebook.storage import trial_pages, trial_reads, trials as trial_sql
from tunebook.storage.base import CurvePoints, FinishedStudy, Store, StudySummary
from tunebook.storage.curve_ends import read_curve_ends
from tunebook.storage.engine import READ_ONLY, create_store_engine, store_errors
from tunebook.storage.migrations import ensure_schema
from tunebook.storage.retry import OPEN_DELAYS_S, RETRIED_CALLS, call_retrying, retry_transient
from tunebook.storage.rows import (
    checkpoint_record, dump_json, experiment_record, note_record, study_record, trial_record,
)
from tunebook.storage.schema import experiments, studies, trials
from tunebook.storage.trial_columns import read_trial_columns
from tunebook.storage.url import display_url, normalize_url

if TYPE_CHECKING:
    import pandas as pd


def _now() -> datetime:
    return datetime.now(timezone.utc)


@retry_transient(RETRIED_CALLS)
class SQLStore(Store):
    """A store in a SQLite file or a PostgreSQL database.

    ``url`` is anything ``normalize_url`` accepts. Opening creates the schema
    of an empty database, upgrades an older one, and raises StoreError for a
    newer one or an unreachable server.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = normalize_url(url)
        self.display_url = display_url(self.url)
        self._engine = create_store_engine(self.url)
        self._pid = os.getpid()
        try:
            call_retrying("opening the store", lambda: ensure_schema(self._engine, self.display_url), OPEN_DELAYS_S)
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for tools and tests that need raw SQL."""
        return self._engine_here()

    def __repr__(self) -> str:
        return f"SQLStore({self.display_url!r})"

    # -- transactions ------------------------------------------------------
    def _engine_here(self) -> Engine:
        """The engine, with a pool of this process's own connections.

        A forked child must never use the connections it inherited (SQLite
        files and PostgreSQL sessions would be shared by two processes).
        """
        if os.getpid() != self._pid:
            self._engine.dispose(close=False)
            self._pid = os.getpid()
        return self._engine

    @contextmanager
    def _write(self, doing: str) -> Iterator[Connection]:
        with store_errors(self.display_url, doing), self._engine_here().begin() as conn:
            yield conn

    @contextmanager
    def _read(self, doing: str) -> Iterator[Connection]:
        with store_errors(self.display_url, doing), self._engine_here().connect() as conn:
            conn.execution_options(**{READ_ONLY: True})
            with conn.begin():
                yield conn

    def _require(self, conn: Connection, table: Table, id_: int, what: str) -> None:
        if conn.execute(select(table.c.id).where(table.c.id == id_)).first() is None:
            raise NotFoundError(f"no {what} with id {id_} in store {self.display_url}")

    def _require_trial(self, conn: Connection, trial_id: int) -> None:
        self._require(conn, trials, trial_id, "trial")

    @staticmethod
    def _once_more_on_race(create: Callable[[], Any]) -> Any:
        """Run ``create`` again if a concurrent writer inserted the same key first."""
        try:
            return create()
        except StoreError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
        return create()

    # -- experiments -------------------------------------------------------
    def ensure_experiment(self, name: str, spec: Mapping[str, Any], source: str | None = None) -> ExperimentRecord:
        spec_text = dump_json(spec, f"the spec of experiment {name!r}", keep_order=True)
        return self._once_more_on_race(lambda: self._ensure_experiment(name, spec_text, source))

    def _ensure_experiment(self, name: str, spec_text: str, source: str | None) -> ExperimentRecord:
        with self._write(f"creating experiment {name!r}") as conn:
            row = experiment_sql.ensure(conn, name, spec_text, source, _now(), self.display_url)
        return experiment_record(row)

    def replace_spec(self, experiment_id: int, spec: Mapping[str, Any], source: str | None = None) -> ExperimentRecord:
        spec_text = dump_json(spec, f"the spec of experiment {experiment_id}", keep_order=True)
        with self._write(f"updating the spec of experiment {experiment_id}") as conn:
            row = experiment_sql.replace_spec(conn, experiment_id, spec_text, source, self.display_url)
        return experiment_record(row)

    def import_experiment(self, name: str, spec: Mapping[str, Any], studies: Sequence[FinishedStudy],
                          source: str | None = None, worker: str | None = None) -> ExperimentRecord:
        spec_text = dump_json(spec, f"the spec of experiment {name!r}", keep_order=True)
        keys = [study.key for study in studies]
        if len(set(keys)) != len(keys):
            raise ValueError(f"study keys must differ, got {keys!r}")
        try:
            with self._write(f"importing experiment {name!r}") as conn:
                row = experiment_sql.insert_finished(conn, name, spec_text, studies, source, worker, _now(),
                                                     self.display_url)
        except StoreError as exc:  # on PostgreSQL a concurrent import of that name commits first
            if isinstance(exc.__cause__, IntegrityError) and self._has_experiment(name):
                raise experiment_sql.already_exists(name, self.display_url) from None
            raise
        return experiment_record(row)

    def _has_experiment(self, name: str) -> bool:
        with self._read(f"reading experiment {name!r}") as conn:
            return experiment_sql.exists(conn, name)

    def get_experiment(self, name: str) -> ExperimentRecord:
        with self._read(f"reading experiment {name!r}") as conn:
            row = experiment_sql.find(conn, name)
        if row is None:
            names = [r.name for r in self.list_experiments()]
            raise NotFoundError(experiment_sql.unknown_experiment(name, names, self.display_url))
        return experiment_record(row)

    def list_experiments(self) -> list[ExperimentRecord]:
        with self._read("listing experiments") as conn:
            rows = experiment_sql.all_rows(conn)
        return [experiment_record(row) for row in rows]

    # -- studies -----------------------------------------------------------
    def ensure_study(
        self, experiment_id: int, key: str, scientific: Mapping[str, Any], budget: int,
        source_trial_id: int | None = None,
    ) -> StudyRecord:
        study_sql.check_budget(budget)
        sci_text = dump_json(scientific, f"the scientific values of study {key!r}")
        return self._once_more_on_race(
            lambda: self._ensure_study(experiment_id, key, sci_text, budget, source_trial_id))

    def _ensure_study(self, experiment_id: int, key: str, sci_text: str, budget: int,
                      source_trial_id: int | None) -> StudyRecord:
        with self._write(f"creating study {key!r}") as conn:
            row = study_sql.find(conn, experiment_id, key)
            if row is None:
                self._require(conn, experiments, experiment_id, "experiment")
                row = study_sql.insert(conn, experiment_id, key, sci_text, budget, source_trial_id, _now())
            else:
                row = study_sql.reconcile(conn, row, sci_text, budget, source_trial_id)
        return study_record(row)

    def list_studies(self, experiment_id: int) -> list[StudyRecord]:
        with self._read("listing studies") as conn:
            self._require(conn, experiments, experiment_id, "experiment")
            rows = study_sql.of_experiment(conn, experiment_id)
        return [study_record(row) for row in rows]

    # -- trials ------------------------------------------------------------
    def claim_trial(self, study_id: int, worker: str, params_for: trial_sql.ParamsFor,
                    code_version_id: int | None = None) -> Trial | None:
        with self._write(f"claiming a trial of study {study_id}") as conn:
            row = trial_sql.claim(conn, study_id, worker, params_for, _now(), code_version_id=code_version_id)
            if row is None and not trial_sql.study_exists(conn, study_id):
                raise NotFoundError(f"no study with id {study_id} in store {self.display_url}")
        return None if row is None else trial_record(row)

    def heartbeat(self, trial_id: int) -> None:
        with self._write(f"recording a heartbeat of trial {trial_id}") as conn:
            if not trial_sql.heartbeat(conn, trial_id, _now()):
                raise NotFoundError(f"no trial with id {trial_id} in store {self.display_url}")

    def finish_trial(self, trial_id: int, state: TrialState, objective: float | None = None,
                     best_step: int | None = None, reason: str | None = None) -> Trial:
        state = TrialState(state)
        if state is TrialState.RUNNING:
            raise ValueError(f"finish_trial moves trial {trial_id} to a finished state or WAITING, not RUNNING")
        with self._write(f"finishing trial {trial_id}") as conn:
            row = trial_sql.finish(conn, trial_id, state, objective, best_step, reason, _now())
            if row is None:
                was = self._get_trial(conn, trial_id).state.value
                raise ConflictError(f"trial {trial_id} is already {was}; it cannot become {state.value}")
        return trial_record(row)

    def release_trial(self, trial_id: int, reason: str | None = None) -> Trial:
        with self._write(f"releasing trial {trial_id}") as conn:
            row = trial_sql.release(conn, trial_id, reason)
            if row is None:
                current = self._get_trial(conn, trial_id)
                raise ConflictError(f"trial {trial_id} is {current.state.value}, not running; it cannot be released")
        return trial_record(row)

    def reclaim_stale(self, study_id: int, older_than: timedelta, max_attempts: int) -> int:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts!r}")
        with self._write(f"reclaiming stale trials of study {study_id}") as conn:
            self._require(conn, studies, study_id, "study")
            return trial_sql.reclaim(conn, study_id, older_than, max_attempts, _now())

    def get_trial(self, trial_id: int) -> Trial:
        with self._read(f"reading trial {trial_id}") as conn:
            return self._get_trial(conn, trial_id)

    def trial_by_number(self, study_id: int, number: int) -> Trial | None:
        with self._read(f"reading trial {number} of study {study_id}") as conn:
            self._require(conn, studies, study_id, "study")
            row = trial_reads.by_number(conn, study_id, number)
        return None if row is None else trial_record(row)

    def _get_trial(self, conn: Connection, trial_id: int) -> Trial:
        row = trial_reads.by_id(conn, trial_id)
        if row is None:
            raise NotFoundError(f"no trial with id {trial_id} in store {self.display_url}")
        return trial_record(row)

    def list_trials(self, *, study_id: int | None = None, experiment_id: int | None = None) -> list[Trial]:
        return self._select_trials(study_id, experiment_id, None)

    def _select_trials(self, study_id: int | None, experiment_id: int | None,
                       changed_since: datetime | None) -> list[Trial]:
        """``list_trials``, only those with a timestamp after ``changed_since`` when given."""
        if study_id is None and experiment_id is None:
            raise ValueError("list_trials needs a study_id or an experiment_id")
        with self._read("listing trials") as conn:
            if study_id is not None:
                self._require(conn, studies, study_id, "study")
            if experiment_id is not None:
                self._require(conn, experiments, experiment_id, "experiment")
            rows, record_of = trial_reads.select_rows(conn, study_id, experiment_id, changed_since)
        return [record_of(row) for row in rows]

    def trial_columns(self, experiment_id: int) -> dict[str, list[Any]]:
        with self._read("reading the trials") as conn:
            self._require(conn, experiments, experiment_id, "experiment")
            return read_trial_columns(conn, experiment_id)

    def page_trials(self, experiment_id: int, *, sort: str = "trial", descending: bool = False,
                    states: Sequence[str] = (), studies: Sequence[str] = (),
                    ranges: Mapping[str, tuple[float | None, float | None]] | None = None,
                    offset: int = 0, limit: int = 50, numeric_params: Sequence[str] = ()) -> tuple[list[Trial], int]:
        with self._read(f"reading a page of the trials of experiment {experiment_id}") as conn:
            self._require(conn, experiments, experiment_id, "experiment")
            queries = trial_pages.page_query(conn.dialect.name, experiment_id, sort, descending, states, studies,
                                             ranges or {}, numeric_params)
            rows, matching = trial_pages.read_page(conn, queries, offset, limit)
        return [trial_record(row) for row in rows], matching

    def list_trials_changed(self, experiment_id: int, since: datetime) -> list[Trial]:
        return self._select_trials(None, experiment_id, since)

    def count_trials(self, experiment_id: int) -> dict[TrialState, int]:
        with self._read(f"counting the trials of experiment {experiment_id}") as conn:
            self._require(conn, experiments, experiment_id, "experiment")
            return trial_reads.count_by_state(conn, experiment_id)

    def summarize_studies(self, experiment_id: int, mode: str = "min") -> dict[int, StudySummary]:
        with self._read(f"summarizing the studies of experiment {experiment_id}") as conn:
            self._require(conn, experiments, experiment_id, "experiment")
            return study_summary.summarize(conn, experiment_id, mode)

    # -- code versions -----------------------------------------------------
    def add_code_version(self, info: Mapping[str, Any], diff: str | None) -> int:
        digest = code_versions.version_digest(info, diff)
        return self._once_more_on_race(lambda: self._add_code_version(digest, info, diff))

    def _add_code_version(self, digest: str, info: Mapping[str, Any], diff: str | None) -> int:
        with self._write("recording a code version") as conn:
            found = code_versions.find(conn, digest)
            return found if found is not None else code_versions.insert(conn, digest, info, diff, _now())

    def get_code_version(self, version_id: int) -> CodeVersion:
        with self._read(f"reading code version {version_id}") as conn:
            version = code_versions.get(conn, version_id)
        if version is None:
            raise NotFoundError(f"no code version with id {version_id} in store {self.display_url}")
        return version

    # -- curves ------------------------------------------------------------
    def log_curves(self, trial_id: int, points: CurvePoints) -> None:
        rows = curves.encode_points(trial_id, points)
        with self._write(f"logging curves of trial {trial_id}") as conn:
            self._require_trial(conn, trial_id)
            curves.insert_chunks(conn, rows)

    def curve_ends(self, experiment_id: int, metrics: Sequence[str] | None = None) -> "pd.DataFrame":
        with self._read("reading the curves' last points") as conn:
            curves.read_through_mmap(conn)
            self._require(conn, experiments, experiment_id, "experiment")
            return read_curve_ends(conn, experiment_id, metrics)

    def curve_owners(self, experiment_id: int, metrics: Sequence[str] | None = None) -> list[tuple[int, str]]:
        """(trial id, metric) of every curve with points in the experiment (of ``metrics`` if given); no points read."""
        with self._read("listing curves") as conn:
            self._require(conn, experiments, experiment_id, "experiment")
            return curves.read_owners(conn, experiment_id, metrics)

    def load_curves(
        self, *, experiment_id: int | None = None, trial_ids: Sequence[int] | None = None,
        metrics: Sequence[str] | None = None, only: Mapping[str, Collection[int]] | None = None,
    ) -> "pd.DataFrame":
        """Curves of an experiment, of some trials, or (neither given) of all; only ``metrics`` if given.

        ``only`` (metric -> trial ids, with ``experiment_id``): of those
        metrics, only those trials' curves are read.
        """
        if only and experiment_id is None:
            raise ValueError("load_curves(only=...) needs an experiment_id")
        with self._read("loading curves") as conn:
            curves.read_through_mmap(conn)
            if experiment_id is not None:
                self._require(conn, experiments, experiment_id, "experiment")
            if only:
                layout = curves.read_chosen_layout(conn, experiment_id, metrics, only)
            else:
                layout = curves.read_layout(conn, experiment_id, trial_ids, metrics)
        return layout.frame()

    # -- checkpoints -------------------------------------------------------
    def add_checkpoint(self, trial_id: int, step: int, path: str, value: float | None) -> None:
        with self._write(f"recording a checkpoint of trial {trial_id}") as conn:
            self._require_trial(conn, trial_id)
            checkpoint_sql.put(conn, trial_id, step, path, value, _now())

    def remove_checkpoint(self, trial_id: int, step: int) -> None:
        with self._write(f"removing a checkpoint of trial {trial_id}") as conn:
            if not checkpoint_sql.remove(conn, trial_id, step):
                raise NotFoundError(f"trial {trial_id} has no checkpoint at step {step} in store {self.display_url}")

    def list_checkpoints(self, trial_id: int) -> list[Checkpoint]:
        with self._read(f"listing checkpoints of trial {trial_id}") as conn:
            self._require_trial(conn, trial_id)
            rows = checkpoint_sql.of_trial(conn, trial_id)
        return [checkpoint_record(row) for row in rows]

    # -- notes -------------------------------------------------------------
    def add_note(self, experiment_id: int, text: str, trial_id: int | None = None) -> Note:
        with self._write(f"adding a note to experiment {experiment_id}") as conn:
            self._require(conn, experiments, experiment_id, "experiment")
            row = note_sql.insert(conn, experiment_id, text, trial_id, _now())
        return note_record(row)

    def list_notes(self, experiment_id: int, trial_id: int | None = None) -> list[Note]:
        return self._notes(experiment_id, trial_id, every_trial=False)

    def list_trial_notes(self, experiment_id: int) -> list[Note]:
        return self._notes(experiment_id, None, every_trial=True)

    def _notes(self, experiment_id: int, trial_id: int | None, every_trial: bool) -> list[Note]:
        with self._read(f"listing notes of experiment {experiment_id}") as conn:
            self._require(conn, experiments, experiment_id, "experiment")
            return [note_record(row) for row in note_sql.select_notes(conn, experiment_id, trial_id, every_trial)]

    # -- launch log --------------------------------------------------------
    def append_launch(self, line: str, entry: Mapping[str, Any], expect_seq: int | None = None) -> LaunchRecord:
        line = launch_sql.check_line(line)
        return launch_sql.append_retrying(lambda: self._write(f"appending to the launch log of line {line!r}"),
                                          line, entry, _now, expect_seq)

    def list_launches(self, line: str) -> list[LaunchRecord]:
        with self._read(f"reading the launch log of line {line!r}") as conn:
            return launch_sql.read_line(conn, line)

    def launch_lines(self) -> list[str]:
        with self._read("listing launch lines") as conn:
            return launch_sql.lines(conn)

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        self._engine.dispose()

