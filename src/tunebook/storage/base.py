"""The one interface every store implements.

Contract for every implementation:

- Thread and process safety: many processes (and machines, on PostgreSQL) may
  use stores opened on the same URL at once. Each method is one transaction;
  ``claim_trial`` is atomic: two callers never receive the same trial.
- Durability: once a method returns, what it wrote survives a kill -9 of the
  caller.
- Curves keep NaN and +/-inf values exactly as logged.
- Records returned are frozen snapshots; call the store again for fresh state.
- Unknown names or ids raise ``NotFoundError``; creating something that exists
  with different content raises ``ConflictError``.
"""

from __future__ import annotations

import abc
import dataclasses
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Collection, Mapping, Sequence

from tunebook.core.records import (
    Checkpoint, CodeVersion, ExperimentRecord, LaunchRecord, Note, StudyRecord, Suggestion, Trial,
)
from tunebook.core.states import FINISHED_STATES, TrialState

if TYPE_CHECKING:
    import pandas as pd

# metric name -> (steps, values); sequences of equal length
CurvePoints = Mapping[str, tuple[Sequence[int], Sequence[float]]]


@dataclasses.dataclass(frozen=True)
class FinishedTrial:
    """A trial that ran outside tunebook, to be stored finished: params, curves and outcome.

    ``state`` must be a finished state (ValueError otherwise). ``started_at``
    and ``finished_at`` are when the run really ran (timezone-aware), where
    its source recorded it; None stores the time of the import.
    """

    params: Mapping[str, Any]
    state: TrialState
    curves: CurvePoints = dataclasses.field(default_factory=dict)
    objective: float | None = None
    best_step: int | None = None
    reason: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def __post_init__(self) -> None:
        state = TrialState(self.state)
        if state not in FINISHED_STATES:
            raise ValueError(f"a finished trial's state must be one of "
                             f"{sorted(s.value for s in FINISHED_STATES)}, got {state.value!r}")
        object.__setattr__(self, "state", state)


@dataclasses.dataclass(frozen=True)
class FinishedStudy:
    """A study of finished trials; they get numbers 0, 1, ... in this order."""

    key: str
    scientific: Mapping[str, Any]
    trials: Sequence[FinishedTrial]


@dataclasses.dataclass(frozen=True)
class StudySummary:
    """One study's trials as a spreadsheet row needs them (``Store.summarize_studies``)."""

    counts: Mapping[TrialState, int]  # trials by state (states without trials absent)
    best: Trial | None  # the COMPLETE trial of the best objective (ties: the lowest number); None if none
    last_activity: datetime | None  # the latest start, finish or heartbeat of its trials; None if none
    running: tuple[Trial, ...]  # its RUNNING trials, by number (to tell which are stale)


class Store(abc.ABC):
    """Persistent home of experiments, studies, trials, curves, checkpoints and notes."""

    url: str

    # -- experiments -------------------------------------------------------
    @abc.abstractmethod
    def ensure_experiment(self, name: str, spec: Mapping[str, Any], source: str | None = None) -> ExperimentRecord:
        """Create the experiment, or return it if it exists with an equal spec.

        ``source`` (the spec file) is recorded on creation. Raises
        ConflictError if ``name`` exists with a different spec.
        """

    @abc.abstractmethod
    def replace_spec(self, experiment_id: int, spec: Mapping[str, Any], source: str | None = None) -> ExperimentRecord:
        """Store a new spec (and its file) for an existing experiment.

        The caller has judged the new spec compatible with the trials run so far.
        """

    @abc.abstractmethod
    def import_experiment(self, name: str, spec: Mapping[str, Any], studies: Sequence[FinishedStudy],
                          source: str | None = None, worker: str | None = None) -> ExperimentRecord:
        """Create an experiment with its studies and finished trials, in one transaction.

        For runs done elsewhere: either everything is stored, or (any error,
        interrupt or lost connection) nothing is. Each study's budget is its
        number of trials; ``worker`` is recorded on every trial. ConflictError
        if ``name`` exists, whatever its spec: an existing experiment is never
        touched. ValueError if two studies share a key.
        """

    @abc.abstractmethod
    def get_experiment(self, name: str) -> ExperimentRecord:
        """The experiment called ``name``; NotFoundError if there is none."""

    @abc.abstractmethod
    def list_experiments(self) -> list[ExperimentRecord]:
        """All experiments, oldest first."""

    # -- studies -----------------------------------------------------------
    @abc.abstractmethod
    def ensure_study(
        self, experiment_id: int, key: str, scientific: Mapping[str, Any], budget: int,
        source_trial_id: int | None = None,
    ) -> StudyRecord:
        """Create the study or return the existing one with that key.

        An existing study keeps its scientific values and its source trial
        (ConflictError if either differs) and takes the new ``budget``, so a
        user may raise it and resume. ``source_trial_id`` links a retrain
        study to the trial whose configuration it reruns (None: a search study).
        """

    @abc.abstractmethod
    def list_studies(self, experiment_id: int) -> list[StudyRecord]:
        """The experiment's studies in creation order."""

    # -- trials ------------------------------------------------------------
    @abc.abstractmethod
    def claim_trial(
        self,
        study_id: int,
        worker: str,
        params_for: Callable[[int], "Mapping[str, Any] | Suggestion"],
        code_version_id: int | None = None,
    ) -> Trial | None:
        """Atomically hand ``worker`` the next trial of the study, marked RUNNING.

        A WAITING trial (re-queued after a crash) is handed out first, lowest
        number first. Otherwise, while the study has fewer trials than its
        budget, a new trial is created with the next number ``n`` and params
        ``params_for(n)`` (a mapping, or a Suggestion whose ``info`` becomes
        ``Trial.suggestion``). Returns None when there is nothing left to claim.
        The claimed trial's ``code_version_id`` becomes the one given (None:
        unknown), also for a re-queued trial: the code that runs it now is the
        code that produces its result.

        ``params_for`` runs inside the write transaction: keep it quick. An
        exception it raises rolls the claim back and reaches the caller (the
        runner uses that to claim optimistically: execution/claim.py).
        """

    @abc.abstractmethod
    def heartbeat(self, trial_id: int) -> None:
        """Record that the trial's worker is alive (now)."""

    @abc.abstractmethod
    def finish_trial(
        self,
        trial_id: int,
        state: TrialState,
        objective: float | None = None,
        best_step: int | None = None,
        reason: str | None = None,
    ) -> Trial:
        """Move a trial to a finished state (or back to WAITING, for a retry).

        Going back to WAITING increments the trial's attempt counter.
        """

    @abc.abstractmethod
    def release_trial(self, trial_id: int, reason: str | None = None) -> Trial:
        """Hand a RUNNING trial back as WAITING without counting an attempt.

        For runs stopped from outside the trial (Ctrl-C, a dead runner): the
        trial did not fail, so its retries are not spent. ConflictError if the
        trial is not RUNNING.
        """

    @abc.abstractmethod
    def reclaim_stale(self, study_id: int, older_than: timedelta, max_attempts: int) -> int:
        """Re-queue RUNNING trials whose heartbeat is older than ``older_than``.

        A trial that has already used ``max_attempts`` attempts is marked
        FAILED with a reason instead. Returns the number of trials changed.
        """

    @abc.abstractmethod
    def get_trial(self, trial_id: int) -> Trial:
        """One trial; NotFoundError if absent."""

    def trial_by_number(self, study_id: int, number: int) -> Trial | None:
        """Trial ``number`` of the study (``STUDY/NUMBER``), None if it has none. Stores may answer it
        without reading the study's other trials."""
        return next((t for t in self.list_trials(study_id=study_id) if t.number == number), None)

    @abc.abstractmethod
    def list_trials(self, *, study_id: int | None = None, experiment_id: int | None = None) -> list[Trial]:
        """Trials of one study or one experiment, by study then number."""

    @abc.abstractmethod
    def page_trials(self, experiment_id: int, *, sort: str = "trial", descending: bool = False,
                    states: Sequence[str] = (), studies: Sequence[str] = (),
                    ranges: Mapping[str, tuple[float | None, float | None]] | None = None,
                    offset: int = 0, limit: int = 50, numeric_params: Sequence[str] = ()) -> tuple[list[Trial], int]:
        """(one page of the experiment's trials, how many match): those in ``states`` (values) and
        ``studies`` (keys) when given, with ``ranges`` column -> (low, high) inclusive (None: open);
        sorted by ``sort`` (``trial``: study key then number, a column of ``trial_pages.SORTABLE``, or one
        of ``numeric_params``, parameter ids whose values are numbers), missing values last; ``limit`` from
        ``offset``. The database does the work (``trial_pages``). ValueError naming an unknown sort or
        range column."""

    def trial_columns(self, experiment_id: int) -> dict[str, list[Any]]:
        """The experiment's trials column by column (``storage.trial_columns.FIELDS``), in ``list_trials``' order:
        what ``analysis.load`` reads, without a ``Trial`` record per row where a store can (this default makes them)."""
        from tunebook.storage.trial_columns import from_trials

        return from_trials(self.list_trials(experiment_id=experiment_id))

    def list_trials_changed(self, experiment_id: int, since: datetime) -> list[Trial]:
        """The experiment's trials created, started, heartbeating or finished after ``since`` (aware UTC), by
        study then number: what a live view polls for. Stores may answer it without reading every trial."""
        return [t for t in self.list_trials(experiment_id=experiment_id)
                if any(moment and moment > since for moment in (t.created_at, t.started_at, t.heartbeat_at,
                                                                t.finished_at))]

    def count_trials(self, experiment_id: int) -> dict[TrialState, int]:
        """How many of the experiment's trials are in each state (states without trials absent)."""
        counts: dict[TrialState, int] = {}
        for trial in self.list_trials(experiment_id=experiment_id):
            counts[trial.state] = counts.get(trial.state, 0) + 1
        return counts

    def summarize_studies(self, experiment_id: int, mode: str = "min") -> dict[int, StudySummary]:
        """Study id -> ``StudySummary`` for every study of the experiment (one without trials too);
        ``mode`` (``min``/``max``) picks the best objective. Stores may aggregate in the database
        (``SQLStore`` does: ``study_summary``); this reads every trial."""
        by_study: dict[int, list[Trial]] = {s.id: [] for s in self.list_studies(experiment_id)}
        for trial in self.list_trials(experiment_id=experiment_id):
            by_study[trial.study_id].append(trial)
        out = {}
        for study_id, found in by_study.items():
            counts: dict[TrialState, int] = {}
            for trial in found:
                counts[trial.state] = counts.get(trial.state, 0) + 1
            scored = [t for t in found if t.state is TrialState.COMPLETE and t.objective is not None]
            best = (min if mode == "min" else max)(scored, key=lambda t: t.objective) if scored else None
            moments = [m for t in found for m in (t.started_at, t.finished_at, t.heartbeat_at) if m is not None]
            out[study_id] = StudySummary(counts, best, max(moments, default=None),
                                         tuple(t for t in found if t.state is TrialState.RUNNING))
        return out

    # -- code versions -----------------------------------------------------
    @abc.abstractmethod
    def add_code_version(self, info: Mapping[str, Any], diff: str | None) -> int:
        """Store a code version (``execution.code_version.capture``'s output); its id.

        Identical ``(info, diff)`` pairs share one row, also when processes on
        several machines add the same version at once.
        """

    @abc.abstractmethod
    def get_code_version(self, version_id: int) -> CodeVersion:
        """One code version; NotFoundError if absent."""

    # -- curves ------------------------------------------------------------
    @abc.abstractmethod
    def log_curves(self, trial_id: int, points: CurvePoints) -> None:
        """Append points to the trial's named curves, in one transaction."""

    @abc.abstractmethod
    def load_curves(
        self, *, experiment_id: int | None = None, trial_ids: Sequence[int] | None = None,
        metrics: Sequence[str] | None = None, only: "Mapping[str, Collection[int]] | None" = None,
    ) -> "pd.DataFrame":
        """Curves in long form: columns trial_id, metric, step, value.

        Of an experiment, of some trials, or (neither given) of all; only the
        named ``metrics`` when given; ``only`` (metric -> trial ids, with
        ``experiment_id``): of those metrics, only those trials' curves.
        Sorted by trial_id, metric, step; metric is a pandas categorical.
        """

    @abc.abstractmethod
    def curve_ends(self, experiment_id: int, metrics: Sequence[str] | None = None) -> "pd.DataFrame":
        """The last point (largest step) of every curve of the experiment (of ``metrics`` if given), one row
        each, without reading the curves' other points; columns and order as ``load_curves``'."""

    @abc.abstractmethod
    def curve_owners(self, experiment_id: int, metrics: Sequence[str] | None = None) -> list[tuple[int, str]]:
        """(trial id, metric) of every curve with points in the experiment (of ``metrics`` if given)."""

    # -- checkpoints -------------------------------------------------------
    @abc.abstractmethod
    def add_checkpoint(self, trial_id: int, step: int, path: str, value: float | None) -> None:
        """Record a checkpoint file the trial wrote (replaces one at the same step)."""

    @abc.abstractmethod
    def remove_checkpoint(self, trial_id: int, step: int) -> None:
        """Forget the checkpoint at ``step`` (its file is the caller's business)."""

    @abc.abstractmethod
    def list_checkpoints(self, trial_id: int) -> list[Checkpoint]:
        """The trial's checkpoints by step."""

    # -- notes -------------------------------------------------------------
    @abc.abstractmethod
    def add_note(self, experiment_id: int, text: str, trial_id: int | None = None) -> Note:
        """Attach a timestamped note to an experiment, or (``trial_id``) to one of its trials
        (NotFoundError when that trial is not the experiment's)."""

    @abc.abstractmethod
    def list_notes(self, experiment_id: int, trial_id: int | None = None) -> list[Note]:
        """The experiment's own notes (not its trials'), or (``trial_id``) that trial's; oldest first."""

    @abc.abstractmethod
    def list_trial_notes(self, experiment_id: int) -> list[Note]:
        """Every note on a trial of the experiment, oldest first (``Note.trial_id`` says which)."""

    # -- launch log --------------------------------------------------------
    @abc.abstractmethod
    def append_launch(self, line: str, entry: Mapping[str, Any], expect_seq: int | None = None) -> LaunchRecord:
        """Append ``entry`` (plain JSON data) to ``line``'s launch log as its next seq, hash-chained.

        Atomic: concurrent appends to one line each get their own seq, each
        chained to the one before it. Raises ``storage.launches.BrokenChainError``
        (appending nothing) if the line's log does not verify, and ConflictError
        (appending nothing) if ``expect_seq`` is given and is not the next seq:
        someone launched since the caller read the line.
        """

    @abc.abstractmethod
    def list_launches(self, line: str) -> list[LaunchRecord]:
        """``line``'s launch log, oldest first (empty for an unknown line), as stored: verify with
        ``storage.launches.verify_chain`` before trusting it."""

    @abc.abstractmethod
    def launch_lines(self) -> list[str]:
        """The lines that have launches, the one first launched first."""

    # -- lifecycle ---------------------------------------------------------
    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. The store must not be used afterwards."""

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
