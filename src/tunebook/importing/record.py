"""Write an import plan into a store: the experiment, its studies, one finished trial per run.

Everything the user gave was validated before this runs (``plan_import``),
so the only failures left here are the store's own. Each trial is claimed
(so the store numbers it and records its params), its curves logged, and it
is finished COMPLETE with the objective reduced from its stored curve, or
INFEASIBLE with the reason when that curve holds NaN/inf or is missing.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from typing import Sequence

from tunebook.core.errors import ConflictError, NotFoundError
from tunebook.core.experiment import Objective
from tunebook.core.objective import reduce_curve
from tunebook.core.states import TrialState
from tunebook.importing.plan import ImportedTrial, ImportPlan
from tunebook.storage.base import Store

WORKER = "tunebook-import"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a run ends up: its state, objective and best step, or why it is infeasible."""

    state: TrialState
    objective: float | None = None
    best_step: int | None = None
    reason: str | None = None


def outcome(trial: ImportedTrial, objective: Objective) -> Outcome:
    """COMPLETE with the reduced objective, or INFEASIBLE saying what is wrong with the curve."""
    curve = trial.run.curves.get(objective.metric)
    if curve is None:
        return Outcome(TrialState.INFEASIBLE, reason=f"no {objective.metric!r} curve in {trial.run.curve_file}")
    steps, values = curve
    for step, value in zip(steps, values):
        if not math.isfinite(value):
            return Outcome(TrialState.INFEASIBLE, reason=f"{objective.metric} is {value!r} at step {step} "
                                                          f"({trial.run.curve_file})")
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
    raise ConflictError(f"experiment {name!r} already exists in this store; nothing was imported. "
                        "Import under another --name (runs already imported stay as they are)")


def record_import(store: Store, plan: ImportPlan) -> dict[str, Counter]:
    """Write ``plan``; returns per study key a count of trial states written.

    ConflictError (nothing written) if the experiment name is taken.
    """
    experiment = plan.experiment
    check_absent(store, experiment.name)
    record = store.ensure_experiment(experiment.name, experiment.to_dict(), source=experiment.source)
    counts: dict[str, Counter] = {}
    for study in experiment.studies():
        trials = [t for t in plan.trials if t.study.key == study.key]
        if not trials:
            continue
        study_record = store.ensure_study(record.id, study.key, study.scientific, len(trials))
        counts[study.key] = Counter(_write_trials(store, study_record.id, trials, experiment.objective))
    return counts


def _write_trials(store: Store, study_id: int, trials: Sequence[ImportedTrial], objective: Objective) -> list[str]:
    states = []
    for imported in trials:
        trial = store.claim_trial(study_id, WORKER, lambda number: trials[number].params)
        if trial is None:  # another writer took the study's budget: not ours to fill
            raise ConflictError(f"study {imported.study.key!r} was filled by another writer during the import")
        if imported.run.curves:
            store.log_curves(trial.id, dict(imported.run.curves))
        result = outcome(imported, objective)
        store.finish_trial(trial.id, result.state, result.objective, result.best_step, result.reason)
        states.append(result.state.value)
    return states
