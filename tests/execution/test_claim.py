"""claim_next: a sampler that reads the history is asked outside the store's write lock, and loses no race."""

from __future__ import annotations

from typing import Sequence

import pytest

from tunebook.core.errors import NotFoundError, SpecError
from tunebook.core.experiment import Objective
from tunebook.core.states import TrialState
from tunebook.execution.claim import claim_next, prior_trials
from tunebook.core.domains import Range
from tunebook.core.space import Hyperparameter, SearchSpace
from tunebook.search import Observed, QuasiRandomSampler, Sampler, Suggestion
from tunebook.storage import SQLStore


class Recording(Sampler):
    """Suggests x = number / 10 and says what it saw; ``during`` runs inside each suggest."""

    def __init__(self, during=lambda: None):
        self.seen: list[tuple[int, list[tuple[int, TrialState]]]] = []
        self.during = during

    def suggest(self, number: int, history: Sequence[Observed]) -> Suggestion:
        self.seen.append((number, [(o.number, o.state) for o in history]))
        self.during()
        pending = [o.number for o in history if o.state is TrialState.RUNNING]
        return Suggestion({"x": number / 10}, {"by": "test", "pending": pending})


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'store.db'}"


def new_study(store: SQLStore, budget: int = 5, name: str = "exp", objective=("loss", "min")):
    spec = {"objective": {"metric": objective[0], "mode": objective[1]}}
    record = store.ensure_experiment(name, spec)
    return store.ensure_study(record.id, "default", {}, budget)


def test_history_reaches_the_sampler_and_its_info_is_stored(url):
    store = SQLStore(url)
    study = new_study(store)
    sampler = Recording()
    first = claim_next(store, study.id, "w", sampler, budget=5)
    second = claim_next(store, study.id, "w", sampler, budget=5)
    assert (first.number, second.number) == (0, 1)
    assert sampler.seen == [(0, []), (1, [(0, TrialState.RUNNING)])]
    assert second.params == {"x": 0.1} and second.suggestion == {"by": "test", "pending": [0]}


def test_the_sampler_runs_outside_the_write_lock_and_a_lost_race_suggests_again(url):
    """Another runner claims while ours is suggesting: with the lock held that claim would block."""
    store, other = SQLStore(url), SQLStore(url)
    study = new_study(store)
    raced = []

    def other_runner_claims_once():
        if not raced:
            raced.append(other.claim_trial(study.id, "other", lambda n: {"x": -1.0}))

    sampler = Recording(during=other_runner_claims_once)
    ours = claim_next(store, study.id, "ours", sampler, budget=5)
    assert raced[0].number == 0
    # suggested for 0, lost it; suggested again for 1 with the other runner's trial pending
    assert sampler.seen == [(0, []), (1, [(0, TrialState.RUNNING)])]
    assert (ours.number, ours.worker, ours.suggestion["pending"]) == (1, "ours", [0])


def test_waiting_trials_and_full_budgets_cost_no_suggestion(url):
    store = SQLStore(url)
    study = new_study(store, budget=1)
    sampler = Recording()
    trial = claim_next(store, study.id, "w", sampler, budget=1)
    store.finish_trial(trial.id, TrialState.WAITING, reason="preempted")
    again = claim_next(store, study.id, "w", sampler, budget=1)
    assert (again.id, again.attempt) == (trial.id, 1)
    assert claim_next(store, study.id, "w", sampler, budget=1) is None
    assert len(sampler.seen) == 1


def test_a_budget_raised_elsewhere_still_gets_its_suggestion(url):
    store = SQLStore(url)
    study = new_study(store, budget=1)
    sampler = Recording()
    claim_next(store, study.id, "w", sampler, budget=1)
    store.ensure_study(study.experiment_id, "default", {}, budget=2)  # another runner raised it
    assert claim_next(store, study.id, "w", sampler, budget=1).number == 1
    assert sampler.seen[-1][0] == 1


def test_a_history_free_sampler_keeps_its_sequence(url):
    store = SQLStore(url)
    study = new_study(store)
    space = SearchSpace([Hyperparameter("lr", "nuisance", Range(1e-3, 1.0, "log"))])
    sampler = QuasiRandomSampler(space, seed=0)
    claimed = [claim_next(store, study.id, "w", sampler) for _ in range(3)]
    assert [dict(t.params) for t in claimed] == [sampler.params(i) for i in range(3)]
    assert all(t.suggestion is None for t in claimed)


def test_prior_trials_are_the_finished_trials_of_named_experiments(url):
    store = SQLStore(url)
    study = new_study(store, name="explore")
    states = [TrialState.COMPLETE, TrialState.INFEASIBLE, TrialState.FAILED, None]
    for state in states:
        trial = store.claim_trial(study.id, "w", lambda n: {"x": n})
        if state is not None:
            store.finish_trial(trial.id, state, objective=0.5 if state is TrialState.COMPLETE else None)
    prior = prior_trials(store, ["explore"], Objective("loss", "min"))
    assert [(o.origin, o.state, o.objective) for o in prior] == [
        ("explore/default/0", TrialState.COMPLETE, 0.5),
        ("explore/default/1", TrialState.INFEASIBLE, None),
        ("explore/default/2", TrialState.FAILED, None),
    ]
    with pytest.raises(NotFoundError, match="explor"):
        prior_trials(store, ["explor"], Objective("loss", "min"))
    with pytest.raises(SpecError, match="optimizes 'loss' \\(min\\), this one 'acc' \\(max\\)"):
        prior_trials(store, ["explore"], Objective("acc", "max"))
