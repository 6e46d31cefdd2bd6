"""A finished round written through the real Store API: quasi-random trials of a toy objective with a known truth.

Seven hyperparameters; the truth (``loss``):

- ``lr`` (log, [1e-4, 1]): best near 0.01; every trial above 0.3 diverges
  (an infeasible region whose edge the best trials do not crowd: cut);
- ``momentum`` ([0, 0.9]): the higher the better, up to the range's end (the
  best trials crowd its high edge: expanded), and it interacts with ``lr``;
- ``width`` (int, log, [16, 256]): a small effect;
- ``wd``, ``dropout``, ``act``: no effect at all (insensitive: fixed);
- ``batch_size`` is fixed at 128.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tunebook.search import sample
from tunebook.core import Experiment

from tests.plans.stored import store_experiment, trial

SPACE = {
    "lr": {"low": 1e-4, "high": 1.0, "scale": "log"},
    "momentum": {"low": 0.0, "high": 0.9},
    "width": {"low": 16, "high": 256, "scale": "log", "type": "int"},
    "wd": {"low": 1e-6, "high": 1e-2, "scale": "log"},
    "dropout": {"low": 0.0, "high": 0.5},
    "act": ["relu", "gelu", "tanh"],
}


def round_spec(name: str = "toy-round", trials: int = 120, seed: int = 0, batch_size: int = 128) -> dict[str, Any]:
    return {"name": name, "objective": {"metric": "valid/loss", "mode": "min"}, "nuisance": dict(SPACE),
            "fixed": {"batch_size": batch_size}, "search": {"algorithm": "quasi_random", "trials": trials, "seed": seed},
            "run": {"function": "toy_train:train"}}


def loss(params: dict[str, Any], rng: np.random.Generator) -> float | None:
    """The truth; None: the trial diverged."""
    if params["lr"] > 0.3:
        return None
    a = math.log10(params["lr"]) + 2  # 0 at lr = 0.01
    m = params["momentum"] / 0.9  # 1 at the range's high end
    w = math.log2(params["width"] / 64) / 2
    return 1.0 + a ** 2 + 1.5 * (1 - m) + 1.2 * a * (m - 0.5) + 0.1 * w ** 2 + rng.normal(0, 0.02)


def store_round(url: str, name: str = "toy-round", trials: int = 120, seed: int = 0, batch_size: int = 128) -> None:
    """Sample the round with tunebook's own quasi-random search and store each trial's outcome as a curve."""
    spec = round_spec(name, trials, seed, batch_size)
    rng = np.random.default_rng(seed)
    rows = []
    for point in sample(Experiment.from_dict(spec)):
        value = loss(point.params, rng)
        if value is None:
            rows.append(trial(point.params, {"valid/loss": [(0, 3.0), (10, math.inf)]}, state="infeasible",
                              study=point.study, reason="diverged"))
        else:
            rows.append(trial(point.params, {"valid/loss": [(0, value + 1.0), (10, value)]}, study=point.study))
    store_experiment(url, spec, rows)
