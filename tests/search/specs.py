"""Specs and helpers shared by the sampler tests (plain data, as a user writes them)."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from tunebook.core.experiment import Experiment
from tunebook.search import Sampler, make_sampler

# Nuisance optimizer with one branch per value: the shape that branch-local
# sequences exist for. ``beta1``/``eps`` live only in adam trials.
OPTIMIZER_BRANCHES: dict[str, Any] = {
    "name": "branches",
    "objective": {"metric": "valid/error", "mode": "min"},
    "nuisance": {
        "learning_rate": {"low": 1e-4, "high": 1.0, "scale": "log"},
        "weight_decay": {"low": 0.0, "high": 0.1},
        "optimizer": ["adam", "sgd"],
        "optimizer=adam": {
            "beta1": {"low": 0.8, "high": 0.99},
            "eps": {"low": 1e-9, "high": 1e-6, "scale": "log"},
        },
        "optimizer=sgd": {"momentum": {"low": 0.0, "high": 0.99}},
    },
    "fixed": {"batch_size": 128},
    "search": {"algorithm": "quasi_random", "trials": 64, "seed": 0},
}


def spec(base: dict[str, Any] | None = None, **search: Any) -> dict[str, Any]:
    """A deep copy of ``base`` (default: OPTIMIZER_BRANCHES) with search fields overridden."""
    out = copy.deepcopy(OPTIMIZER_BRANCHES if base is None else base)
    out.setdefault("search", {}).update(search)
    return out


def nuisance_spec(nuisance: dict[str, Any], **search: Any) -> dict[str, Any]:
    """A spec with only these nuisance hyperparameters."""
    base = {"name": "s", "objective": "loss", "nuisance": nuisance, "search": {"trials": 10}}
    return spec(base, **search)


def only_sampler(spec_data: dict[str, Any]) -> Sampler:
    """The sampler of the one study of a spec."""
    experiment = Experiment.from_dict(spec_data)
    (plan,) = experiment.studies()
    return make_sampler(experiment, plan)


def trials(spec_data: dict[str, Any], n: int) -> list[dict[str, Any]]:
    sampler = only_sampler(spec_data)
    return [sampler.params(i) for i in range(n)]


def trial_slice(spec_data: dict[str, Any], start: int, stop: int) -> list[dict[str, Any]]:
    """Trials start..stop-1 from a fresh sampler (run in worker processes)."""
    sampler = only_sampler(spec_data)
    return [sampler.params(i) for i in range(start, stop)]


def to_unit(value: float, low: float, high: float, log: bool = False) -> float:
    """Where ``value`` lies in [low, high] on its scale, as a fraction."""
    if log:
        value, low, high = math.log(value), math.log(low), math.log(high)
    return (value - low) / (high - low)


def adam_unit_points(params: list[dict[str, Any]]) -> np.ndarray:
    """The adam branch's (beta1, eps) of the adam trials, mapped back to [0, 1]^2."""
    return np.array([
        [to_unit(p["beta1[optimizer=adam]"], 0.8, 0.99),
         to_unit(p["eps[optimizer=adam]"], 1e-9, 1e-6, log=True)]
        for p in params if p["optimizer"] == "adam"
    ])
