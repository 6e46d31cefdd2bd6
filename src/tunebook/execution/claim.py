"""Claiming a study's next trial from a sampler that may read the study's history.

``Store.claim_trial`` asks for the new trial's params inside its write
transaction. A history-free sampler answers there (a lookup). A sampler that
reads the history may take seconds (a model fit); holding the write lock that
long would stall every running trial's curve logging (SQLite has one lock for
the whole file). So such a claim is optimistic:

1. read the study's trials, without a lock: the history (running and waiting
   trials are pending), and the next number ``n`` (one past the highest);
2. ask the sampler for trial ``n``, outside any transaction;
3. claim: if the study's next number is still ``n`` the trial is inserted
   with that suggestion; if another runner took ``n`` meanwhile, the claim
   rolls back and we start again at 1 (its trial is now a pending point).

A re-queued (WAITING) trial is claimed first, without asking the sampler,
and a study at its budget is not asked at all. After ``_TRIES`` claims lost
to other runners, the sampler is asked inside the transaction with the last
history read: correct, only slower for the others.
"""

from __future__ import annotations

from typing import Sequence

from tunebook.core.errors import SpecError
from tunebook.core.experiment import Objective
from tunebook.core.records import Suggestion, Trial, trial_name
from tunebook.core.states import TrialState
from tunebook.search.base import Observed, Sampler, observed
from tunebook.storage.base import Store

_TRIES = 8


class _NumberMoved(Exception):
    """The study's next number is not the one the suggestion was made for."""

    def __init__(self, number: int):
        super().__init__(number)
        self.number = number


def claim_next(
    store: Store, study_id: int, worker: str, sampler: Sampler, budget: int | None = None,
    code_version_id: int | None = None,
) -> Trial | None:
    """The study's next trial, claimed for ``worker``; None when nothing is left.

    ``budget``: the study's budget as the caller knows it, so that a study
    already at it costs no suggestion (a raised budget in the store still
    wins: the claim then asks the sampler). ``code_version_id``: as
    ``Store.claim_trial`` takes it.
    """
    def claim(params_for) -> Trial | None:  # noqa: ANN001
        return store.claim_trial(study_id, worker, params_for, code_version_id=code_version_id)

    if not sampler.uses_history:
        return claim(lambda number: sampler.suggest(number, ()))
    least_number = 0
    for _ in range(_TRIES):
        history = [observed(t) for t in store.list_trials(study_id=study_id)]
        number = max(_next_number(history), least_number)
        waiting = any(o.state is TrialState.WAITING for o in history)
        at_budget = budget is not None and number >= budget
        suggestion = None if waiting or at_budget else sampler.suggest(number, history)
        try:
            return claim(_only_for(number, suggestion))
        except _NumberMoved as moved:
            least_number, budget = moved.number, None
    return claim(lambda number: sampler.suggest(number, history))


def _next_number(history: Sequence[Observed]) -> int:
    return max((o.number for o in history), default=-1) + 1


def _only_for(expected: int, suggestion: Suggestion | None):
    def params_for(number: int) -> Suggestion:
        if number != expected or suggestion is None:
            raise _NumberMoved(number)
        return suggestion

    return params_for


def prior_trials(store: Store, names: Sequence[str], objective: Objective) -> list[Observed]:
    """The finished trials of the named experiments (``search.warm_start``), for a sampler to start from.

    Each is named ``EXPERIMENT/STUDY/NUMBER`` in ``origin``. NotFoundError
    names an experiment the store lacks; SpecError one whose objective
    (metric or direction) differs, as its values could not be compared.
    """
    prior: list[Observed] = []
    for name in names:
        record = store.get_experiment(name)
        theirs = record.spec.get("objective", {})
        if (theirs.get("metric"), theirs.get("mode")) != (objective.metric, objective.mode):
            raise SpecError([(
                "search.warm_start",
                f"experiment {name!r} optimizes {theirs.get('metric')!r} ({theirs.get('mode')}), this one "
                f"{objective.metric!r} ({objective.mode}): their trials cannot inform each other",
            )])
        keys = {study.id: study.key for study in store.list_studies(record.id)}
        prior.extend(
            observed(trial, f"{name}/{trial_name(keys[trial.study_id], trial.number)}")
            for trial in store.list_trials(experiment_id=record.id)
            if trial.state.is_finished
        )
    return prior
