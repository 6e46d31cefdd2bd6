"""A synthetic problem for the Bayesian-optimization tests: known optimum, planted infeasible region.

``loss(params)`` over (learning_rate log [1e-4, 1], momentum [0, 0.99],
weight_decay [0, 0.1]): its minimum 0 is at learning_rate 1e-2, momentum 0.9,
weight_decay 0.03; a trial diverges (None) when ``learning_rate / (1 -
momentum) > 0.3``, about a quarter of the space. The optimum's neighbourhood:
loss < ``NEAR_OPTIMUM``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from tunebook.core.experiment import Experiment
from tunebook.core.states import TrialState
from tunebook.search import Observed, Sampler, make_sampler

NEAR_OPTIMUM = 0.05
DIVERGES_ABOVE = 0.3

SPACE = {
    "learning_rate": {"low": 1e-4, "high": 1.0, "scale": "log"},
    "momentum": {"low": 0.0, "high": 0.99},
    "weight_decay": {"low": 0.0, "high": 0.1},
}


def diverges(params: dict[str, Any]) -> bool:
    return params["learning_rate"] / (1.0 - params["momentum"]) > DIVERGES_ABOVE


def loss(params: dict[str, Any]) -> float | None:
    if diverges(params):
        return None
    return ((math.log10(params["learning_rate"]) + 2.0) ** 2 / 4 + (params["momentum"] - 0.9) ** 2 * 4
            + (params["weight_decay"] - 0.03) ** 2 * 100)


def experiment(algorithm: str = "bayesian", seed: int = 0, trials: int = 30, **search: Any) -> Experiment:
    return Experiment.from_dict({
        "name": "bo", "objective": {"metric": "loss", "mode": "min"}, "nuisance": SPACE,
        "search": {"algorithm": algorithm, "trials": trials, "seed": seed, **search},
    })


def sampler_of(experiment_: Experiment, prior: Sequence[Observed] = ()) -> Sampler:
    (plan,) = experiment_.studies()
    return make_sampler(experiment_, plan, prior)


def observe(number: int, params: dict[str, Any], value: float | None) -> Observed:
    state = TrialState.INFEASIBLE if value is None else TrialState.COMPLETE
    return Observed(number, params, state, value)


def run_sequentially(sampler: Sampler, trials: int) -> list[Observed]:
    """Suggest, evaluate ``loss``, observe, one trial at a time."""
    history: list[Observed] = []
    for number in range(trials):
        params = dict(sampler.suggest(number, history).params)
        history.append(observe(number, params, loss(params)))
    return history
