"""Samplers: quasi-random (the default), random, grid, and an explicit list.

``make_sampler(experiment, plan)`` gives the sampler of one study;
``sample(experiment, n)`` lists the first ``n`` trials of every study.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tunebook.core.experiment import Experiment, StudyPlan
from tunebook.search.base import Sampler
from tunebook.search.enumerated import ListSampler, explicit_sampler, grid_sampler
from tunebook.search.sequence import QuasiRandomSampler, RandomSampler

__all__ = [
    "ListSampler", "PlannedTrial", "QuasiRandomSampler", "RandomSampler", "Sampler",
    "make_sampler", "sample", "study_budget",
]


def make_sampler(experiment: Experiment, plan: StudyPlan) -> Sampler:
    """The sampler for one study of the experiment, per ``experiment.search``."""
    search = experiment.search
    if search.algorithm == "quasi_random":
        return QuasiRandomSampler(plan.space, search.seed)
    if search.algorithm == "random":
        return RandomSampler(plan.space, search.seed)
    if search.algorithm == "grid":
        return grid_sampler(plan.space, search.resolution)
    if search.algorithm == "explicit":
        return explicit_sampler(plan.space, search.points)
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
    """The first ``n`` trials (default: the budget) of every study, without running anything."""
    planned = []
    for plan in experiment.studies():
        sampler = make_sampler(experiment, plan)
        count = study_budget(experiment, sampler) if n is None else n
        if sampler.size is not None:
            count = min(count, sampler.size)
        planned.extend(PlannedTrial(plan.key, i, sampler.params(i)) for i in range(count))
    return planned
