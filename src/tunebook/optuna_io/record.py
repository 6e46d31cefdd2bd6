"""Write an Optuna import into a store, all or nothing, with each trial's state as read from Optuna.

Like ``importing.record.record_import``, but a run's outcome is the one
``outcome.trial_outcome`` read (FAILED crashes included), not one
recomputed from its curve alone.
"""

from __future__ import annotations

from collections import Counter

from tunebook.core.errors import ConflictError, StoreError
from tunebook.importing.record import WORKER, check_absent
from tunebook.optuna_io.read import OptunaImport
from tunebook.storage.base import FinishedStudy, FinishedTrial, Store


def record_optuna(store: Store, imported: OptunaImport) -> dict[str, Counter]:
    """Write the import in one transaction; per study key, a count of trial states written.

    ConflictError if the experiment name is taken (nothing written); a store
    failure or an interrupt leaves nothing behind (StoreError says so).
    """
    experiment = imported.plan.experiment
    check_absent(store, experiment.name)
    studies = []
    for plan in experiment.studies():
        trials = []
        for placed in imported.plan.trials:
            if placed.study.key == plan.key:
                result = imported.outcomes[placed.run.name]
                trials.append(FinishedTrial(placed.params, result.state, placed.run.curves, result.objective,
                                            result.best_step, result.reason))
        if trials:
            studies.append(FinishedStudy(plan.key, plan.scientific, trials))
    try:
        store.import_experiment(experiment.name, experiment.to_dict(), studies, experiment.source, WORKER)
    except ConflictError:  # another writer took the name since check_absent
        check_absent(store, experiment.name)
        raise
    except StoreError as exc:
        raise StoreError(f"{exc} (nothing was written to the store: run the same import again once the "
                         "store is fixed)") from exc
    return {study.key: Counter(trial.state.value for trial in study.trials) for study in studies}
