"""The runner loop: claim trials, start them on an executor, record how they end.

Any number of runners (on this or other machines, sharing one store) may
work on one experiment: claims are atomic, and trial ``i`` of a study has
the same params whoever runs it. The loop returns when every study has
reached its budget and no trial is left RUNNING, or raises Interrupted
after handing its running trials back (Ctrl-C).
"""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from tunebook.core.errors import StoreError, TunebookError
from tunebook.core.experiment import Experiment
from tunebook.core.records import Trial, trial_name
from tunebook.core.run_spec import RunConfig
from tunebook.core.states import TrialState
from tunebook.execution.base import STALE_AFTER_S, Executor, Exit
from tunebook.execution.claim import claim_next, prior_trials
from tunebook.execution.code_version import record_code_version
from tunebook.execution.identity import ensure_experiment
from tunebook.execution.prepare import check_command, prepare_launch, trial_dir
from tunebook.execution.progress import StudyProgress
from tunebook.execution.settle import settle
from tunebook.execution.workers import dead_here, worker_name
from tunebook.search import make_sampler, study_budget
from tunebook.search.base import Sampler
from tunebook.storage.base import Store


class Interrupted(TunebookError):
    """The run was stopped (Ctrl-C, or SIGTERM under `tunebook run`); its running trials went back to WAITING."""


@dataclasses.dataclass
class _Study:
    id: int
    key: str
    sampler: Sampler
    progress: StudyProgress


@dataclasses.dataclass(frozen=True)
class PlannedStudy:
    """A study to run: its key, scientific values, sampler and budget, and the trial it reruns (if any).

    ``tunebook run`` plans one per ``experiment.studies()``; a caller may
    pass its own (e.g. ``tunebook retrain``'s study of one configuration).
    """

    key: str
    scientific: Mapping[str, Any]
    sampler: Sampler
    budget: int
    source_trial_id: int | None = None


@dataclasses.dataclass(frozen=True)
class Timing:
    """How often the loop looks around, and when a silent trial counts as lost."""

    poll: float = 0.02
    heartbeat: float = 5.0
    stale_after: float = STALE_AFTER_S
    wait_for_others: float = 1.0


class Runner:
    """Runs one experiment's studies to their budgets on one executor.

    The studies are the spec's (``trials`` overriding its budget) unless
    ``studies`` names others; ``workdir`` overrides where trials run (the
    spec's ``run.workdir``, or the spec's folder). Trials get the code
    version captured from the run's files, or ``code_version_id`` when the
    caller knows it (a rerun on a rebuilt tree of that version).
    """

    def __init__(
        self, experiment: Experiment, store: Store, executor: Executor, runs_dir: Path,
        trials: int | None = None, timing: Timing = Timing(), on_tick: Callable[["Runner"], None] | None = None,
        studies: Sequence[PlannedStudy] | None = None, workdir: Path | None = None,
        code_version_id: int | None = None,
    ):
        self.experiment = experiment
        self.config: RunConfig = experiment.run_config()
        self.store = store
        self.executor = executor
        self.runs_dir = Path(runs_dir).resolve()
        self.workdir = Path(workdir).resolve() if workdir else run_workdir(experiment, self.config)
        self.worker = worker_name()
        self.timing = timing
        self.on_tick = on_tick or (lambda runner: None)
        self._running: dict[int, tuple[Trial, _Study]] = {}
        self._next_study = 0
        self._exhausted = False
        self.started = time.monotonic()
        self.notices: list[str] = []  # what the user should hear about, in order (budgets, re-queues)
        self.ended: list[tuple[str, Trial]] = []  # (study key, trial) for each trial this runner ended
        self.studies = self._open_studies(trials, studies)
        self.code_version_id = code_version_id or record_code_version(
            self.store, experiment, self.config, self.workdir, self.runs_dir, self.notices
        )

    def _open_studies(self, trials: int | None, planned: Sequence[PlannedStudy] | None) -> list[_Study]:
        names = {hp.name for hp in self.experiment.space}
        check_command(self.config, names)
        if planned is None:  # read before anything is written: an absent warm-start experiment leaves the store untouched
            planned = self._spec_studies(trials)
        self.record = ensure_experiment(self.store, self.experiment)
        studies = []
        existing = self._trials_so_far()
        for plan in planned:
            budget, had = plan.budget, existing.get(plan.key, 0)
            if had > budget:  # a budget never shrinks below the trials a study has: they exist and count
                self.notices.append(
                    f"study {plan.key} already has {had} trials, more than the {budget} asked for: its budget "
                    f"stays {had}, nothing new to run (raise --trials or search.trials above {had} to extend it)"
                )
                budget = had
            record = self.store.ensure_study(
                self.record.id, plan.key, plan.scientific, budget, source_trial_id=plan.source_trial_id
            )
            progress = StudyProgress(plan.key, budget, self.experiment.objective.mode)
            studies.append(_Study(record.id, plan.key, plan.sampler, progress))
        return studies

    def _spec_studies(self, trials: int | None) -> list[PlannedStudy]:
        """The spec's studies, each with its sampler and budget (``trials`` overriding ``search.trials``).

        Samplers that learn from results start from the finished trials of the ``search.warm_start``
        experiments (NotFoundError names an absent one).
        """
        prior = prior_trials(self.store, self.experiment.search.warm_start, self.experiment.objective)
        planned = []
        for plan in self.experiment.studies():
            sampler = make_sampler(self.experiment, plan, prior)
            budget = study_budget(self.experiment, sampler) if trials is None else _capped(trials, sampler)
            planned.append(PlannedStudy(plan.key, plan.scientific, sampler, budget))
        return planned

    def _trials_so_far(self) -> dict[str, int]:
        """Study key -> how many trials it has in the store (its next trial number)."""
        counts = {}
        for study in self.store.list_studies(self.record.id):
            numbers = [t.number for t in self.store.list_trials(study_id=study.id)]
            counts[study.key] = max(numbers) + 1 if numbers else 0
        return counts

    def running_trials(self) -> list[tuple[str, Trial]]:
        """(study key, trial) for each trial this runner has running now."""
        return [(study.key, trial) for trial, study in self._running.values()]

    def progress(self) -> list[StudyProgress]:
        return [s.progress for s in self.studies]

    def run(self) -> list[StudyProgress]:
        """Run until done; Interrupted on Ctrl-C (after releasing running trials)."""
        try:
            self._loop()
        except KeyboardInterrupt:
            released = self._release_all()
            raise Interrupted(
                f"stopped; {released} running trial(s) handed back. Run the same command again to resume"
            ) from None
        except StoreError:
            self._release_after_store_failure()
            raise
        finally:
            self.executor.close()
        return self.progress()

    def _loop(self) -> None:
        self._recover()
        last_beat = time.monotonic()
        while True:
            for trial_id, exit in self.executor.poll():
                self._settle(trial_id, exit)
            self._fill_slots()  # right after a settle: a freed slot does not wait for the next look around
            if time.monotonic() - last_beat >= self.timing.heartbeat:
                self._heartbeat()
                last_beat = time.monotonic()
            self.on_tick(self)
            # settled trials may have been re-queued: only an empty claim ends the run
            if not self._running and self._fill_slots() and not self._running:
                if not self._others_running():
                    self._reload_progress()  # another runner's trial may have ended since the last recount
                    return
                time.sleep(self.timing.wait_for_others)
                self._recover()
            self.executor.wait(self.timing.poll)  # wakes at a trial's end where the executor can tell

    def _fill_slots(self) -> bool:
        """Start trials while there is room; True once a claim comes back empty.

        An empty claim is remembered until something can change it (a trial of
        ours re-queued, or a recovery pass), so an idle loop does not keep
        opening write transactions on the store.
        """
        while len(self._running) < self.executor.capacity:
            if self._exhausted:
                return True
            claimed = self._claim()
            if claimed is None:
                self._exhausted = True
                return True
            trial, study = claimed
            try:
                launch = prepare_launch(trial, study.key, self.experiment, self.config, self.store, self.runs_dir, self.workdir)
            except TunebookError as exc:  # e.g. the command names a branch this trial is not in
                failed = self.store.finish_trial(trial.id, TrialState.FAILED, reason=str(exc))
                study.progress.record(failed)
                self.ended.append((study.key, failed))
                continue
            self.executor.start(launch)
            self._running[trial.id] = (trial, study)
            study.progress.running += 1
        return False

    def _claim(self) -> tuple[Trial, _Study] | None:
        """The next trial, taking studies in turn so they advance together."""
        for offset in range(len(self.studies)):
            study = self.studies[(self._next_study + offset) % len(self.studies)]
            trial = claim_next(self.store, study.id, self.worker, study.sampler, study.progress.budget,
                               code_version_id=self.code_version_id)
            if trial is not None:
                self._next_study = (self._next_study + offset + 1) % len(self.studies)
                return trial, study
        return None

    def _settle(self, trial_id: int, exit: Exit) -> None:
        trial, study = self._running.pop(trial_id)
        folder = trial_dir(self.runs_dir, self.experiment.name, study.key, trial.number)
        try:
            done = settle(self.store, trial, exit, self.experiment.objective, folder, self.config.retries)
        except StoreError as exc:
            raise StoreError(f"trial {trial_name(study.key, trial.number)}: {exc}") from exc
        if done.state is TrialState.WAITING:
            self._exhausted = False  # a retry to claim
        study.progress.running -= 1
        study.progress.record(done)
        self.ended.append((study.key, done))

    def _release_after_store_failure(self) -> None:
        """Stop our trials and hand them back if the store still takes writes; else the next run does."""
        try:
            self._release_all()
        except StoreError:
            pass  # they stay RUNNING under a dead runner's name: the next run on this host re-queues them

    def _heartbeat(self) -> None:
        for trial_id in self._running:
            self.store.heartbeat(trial_id)

    def _recover(self) -> None:
        """Take back trials whose runner is gone: dead here at once, elsewhere once silent."""
        stale = timedelta(seconds=self.timing.stale_after)
        self._exhausted = False
        dead = silent = 0
        for study in self.studies:
            for trial in self.store.list_trials(study_id=study.id):
                if trial.state is TrialState.RUNNING and trial.id not in self._running and dead_here(trial.worker):
                    self.store.release_trial(trial.id, reason=f"its runner {trial.worker} is gone; re-queued")
                    dead += 1
            silent += self.store.reclaim_stale(study.id, stale, max_attempts=self.config.retries + 1)
        self._reload_progress()
        if dead:
            self.notices.append(f"re-queued {dead} trial(s) left RUNNING by a runner on this machine that is gone")
        if silent:
            self.notices.append(
                f"took back {silent} trial(s) whose runner sent no heartbeat for {self.timing.stale_after:g} s "
                "(re-queued, or failed if that was their last attempt)"
            )

    def _reload_progress(self) -> None:
        for study in self.studies:
            study.progress.reload(self.store.list_trials(study_id=study.id), set(self._running))

    def _others_running(self) -> bool:
        return any(
            t.state is TrialState.RUNNING
            for study in self.studies
            for t in self.store.list_trials(study_id=study.id)
        )

    def _release_all(self) -> int:
        stopped = self.executor.stop_all()
        for trial_id in stopped:
            self.store.release_trial(trial_id, reason="interrupted; resumes on the next run")
            self._running.pop(trial_id, None)
        # Ctrl-C may land between a claim and the trial's start, or between a
        # trial's end and its settling: the executor does not know those, the store does
        orphans = [
            t.id for study in self.studies for t in self.store.list_trials(study_id=study.id)
            if t.state is TrialState.RUNNING and t.worker == self.worker and t.id not in stopped
        ]
        for trial_id in orphans:
            self.store.release_trial(trial_id, reason="interrupted; resumes on the next run")
        self._running.clear()
        return len(stopped) + len(orphans)


def run_workdir(experiment: Experiment, config: RunConfig) -> Path:
    """Where trials run: the spec's ``run.workdir`` (relative to the spec file), or the spec's folder."""
    base = Path(experiment.source).parent if experiment.source else Path.cwd()
    return (base / config.workdir).resolve() if config.workdir else base.resolve()


def _capped(trials: int, sampler: Sampler) -> int:
    return trials if sampler.size is None else min(trials, sampler.size)
