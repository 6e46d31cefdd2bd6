"""Samplers: quasi-random (the default), random, grid, an explicit list, and Bayesian optimization.

``make_sampler(experiment, plan, prior)`` gives the sampler of one study;
``sample(experiment, n)`` lists the first ``n`` trials of every study (those
that do not depend on results). The interface is ``search.base``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from tunebook.core.experiment import Experiment, StudyPlan
from tunebook.search.base import HistoryFreeSampler, Observed, Sampler, Suggestion, observed
from tunebook.search.enumerated import ListSampler, explicit_sampler, grid_sampler
from tunebook.search.sequence import QuasiRandomSampler, RandomSampler

__all__ = [
    "HistoryFreeSampler", "ListSampler", "Observed", "PlannedTrial", "QuasiRandomSampler", "RandomSampler",
    "Sampler", "Suggestion", "make_sampler", "observed", "sample", "study_budget",
]


def make_sampler(experiment: Experiment, plan: StudyPlan, prior: Sequence[Observed] = ()) -> Sampler:
    """The sampler for one study of the experiment, per ``experiment.search``.

    ``prior``: finished trials from elsewhere (``search.warm_start``) that a
    sampler which learns from results may start from; the others ignore it.
    """
    search = experiment.search
    if search.algorithm == "quasi_random":
        return QuasiRandomSampler(plan.space, search.seed)
    if search.algorithm == "random":
        return RandomSampler(plan.space, search.seed)
    if search.algorithm == "grid":
        return grid_sampler(plan.space, search.resolution)
    if search.algorithm == "explicit":
        return explicit_sampler(plan.space, search.points)
    if search.algorithm == "bayesian":
        from tunebook.search.bayesian import BayesianSampler  # imports torch and botorch when used

        return BayesianSampler(plan.space, search.seed, experiment.objective.mode, search.initial, prior)
    raise ValueError(f"unknown search algorithm {search.algorithm!r}")


def study_budget(experiment: Experiment, sampler: Sampler) -> int:
    """How many trials a study runs: ``search.trials``, capped by a finite sampler."""
    trials = experiment.search.trials
    if sampler.size is None:
        return int(trials or 0)
    return sampler.size if trials is None else min(trials, sampler.size)


@dataclasses.dataclass(frozen=True)
class PlannedTrial:
    study: str
    number: int
    params: dict[str, Any]


def sample(experiment: Experiment, n: int | None = None) -> list[PlannedTrial]:
    """The first ``n`` trials (default: the budget) of every study, without running anything.

    Only trials that do not depend on results (``Sampler.history_free_trials``)
    are listed: for a sampler that learns from results, its initial design.
    """
    planned = []
    for plan in experiment.studies():
        sampler = make_sampler(experiment, plan)
        count = study_budget(experiment, sampler) if n is None else n
        for bound in (sampler.size, sampler.history_free_trials):
            if bound is not None:
                count = min(count, bound)
        planned.extend(PlannedTrial(plan.key, i, dict(sampler.suggest(i, ()).params)) for i in range(count))
    return planned
