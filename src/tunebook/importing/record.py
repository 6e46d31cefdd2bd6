"""Write an import plan into a store: the experiment, its studies, one finished trial per run.

Everything the user gave was validated before this runs (``plan_import``),
so the only failures left here are the store's own. Each run becomes a
finished trial: COMPLETE with the objective reduced from its curve,
INFEASIBLE with the reason when that curve holds NaN/inf or is missing, or
FAILED when its source says it crashed (``outcome`` says which wins). The
store writes the experiment, its studies, trials and curves in one
transaction (``Store.import_experiment``): a store failure, a lost
connection or Ctrl-C midway leaves nothing, so the import can be run again.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from typing import Sequence

from tunebook.core.errors import ConflictError, NotFoundError, StoreError
from tunebook.core.experiment import Objective, StudyPlan
from tunebook.core.objective import reduce_curve
from tunebook.core.states import TrialState
from tunebook.importing.plan import ImportedTrial, ImportPlan
from tunebook.storage.base import FinishedStudy, FinishedTrial, Store

WORKER = "tunebook-import"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a run ends up: its state, objective and best step, or why it is infeasible."""

    state: TrialState
    objective: float | None = None
    best_step: int | None = None
    reason: str | None = None


def outcome(trial: ImportedTrial, objective: Objective) -> Outcome:
    """COMPLETE with the reduced objective, else INFEASIBLE or FAILED saying why.

    INFEASIBLE when the objective curve holds NaN/inf (the configuration
    diverged: an outcome of the search, whether or not the script then
    crashed on it) or is missing. FAILED when the run's source says it
    crashed (``run.failed``) and its curve shows no divergence: a crash says
    nothing about the configuration, so it is told apart from one.
    """
    curve = trial.run.curves.get(objective.metric)
    if curve is not None:
        steps, values = curve
        for step, value in zip(steps, values):
            if not math.isfinite(value):
                return Outcome(TrialState.INFEASIBLE, reason=f"{objective.metric} is {value!r} at step {step} "
                                                              f"({trial.run.curve_file})")
    if trial.run.failed:
        return Outcome(TrialState.FAILED, reason=trial.run.failed)
    if curve is None:
        return Outcome(TrialState.INFEASIBLE, reason=f"no {objective.metric!r} curve in {trial.run.curve_file}")
    reduced = reduce_curve(steps, values, objective.mode, objective.reduce)
    if reduced is None:  # unreachable with finite values, kept for safety
        return Outcome(TrialState.INFEASIBLE, reason=f"no finite {objective.metric} value")
    return Outcome(TrialState.COMPLETE, reduced[0], reduced[1])


def check_absent(store: Store, name: str) -> None:
    """ConflictError if the store already holds an experiment called ``name``."""
    try:
        store.get_experiment(name)
    except NotFoundError:
        return
    raise _taken(name)


def record_import(store: Store, plan: ImportPlan) -> dict[str, Counter]:
    """Write ``plan`` all or nothing; returns per study key a count of trial states written.

    ConflictError if the experiment name is taken (the existing experiment is
    left as it is). Any other failure of the store, or an interrupt, leaves
    no part of the experiment behind: StoreError says the import can simply
    be run again.
    """
    experiment = plan.experiment
    check_absent(store, experiment.name)
    studies = [_finished_study(study, plan.trials, experiment.objective) for study in experiment.studies()]
    studies = [study for study in studies if study.trials]
    try:
        store.import_experiment(experiment.name, experiment.to_dict(), studies, experiment.source, WORKER)
    except ConflictError:  # another writer took the name since check_absent
        raise _taken(experiment.name) from None
    except StoreError as exc:
        raise StoreError(f"{exc} (nothing was written to the store: run the same import again once the "
                         "store is fixed)") from exc
    return {study.key: Counter(trial.state.value for trial in study.trials) for study in studies}


def _finished_study(study: StudyPlan, planned: Sequence[ImportedTrial], objective: Objective) -> FinishedStudy:
    trials = []
    for imported in planned:
        if imported.study.key == study.key:
            result = outcome(imported, objective)
            run = imported.run
            trials.append(FinishedTrial(imported.params, result.state, run.curves, result.objective,
                                        result.best_step, result.reason, run.started_at, run.finished_at))
    return FinishedStudy(study.key, study.scientific, trials)


def _taken(name: str) -> ConflictError:
    return ConflictError(f"experiment {name!r} already exists in this store; nothing was imported. "
                         "Import under another --name (runs already imported stay as they are)")
