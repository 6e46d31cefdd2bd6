"""A real SQLite store holding an experiment with every case an Optuna export must carry.

Two studies (scientific ``num_layers`` 2 and 4), a conditional space
(``learning_rate`` under each optimizer, ``momentum`` under sgd only), a log
int range, a fixed value, and per study complete, infeasible (a NaN loss)
and failed (a crash) trials with loss and accuracy curves.
"""

from __future__ import annotations

import math
import random
from typing import Any

from tunebook.cli.main import main
from tunebook.core.experiment import Experiment
from tunebook.core.objective import reduce_curve
from tunebook.core.states import TrialState
from tunebook.storage import open_store
from tunebook.storage.base import FinishedStudy, FinishedTrial

SPEC: dict[str, Any] = {
    "name": "depth",
    "objective": {"metric": "valid_loss", "mode": "min", "reduce": "best"},
    "scientific": {"num_layers": [2, 4]},
    "nuisance": {
        "optimizer": ["adam", "sgd"],
        "warmup": {"low": 10, "high": 1000, "scale": "log", "type": "int"},
        "optimizer=adam": {"learning_rate": {"low": 1e-4, "high": 1e-1, "scale": "log"}},
        "optimizer=sgd": {"learning_rate": {"low": 1e-3, "high": 1.0, "scale": "log"},
                          "momentum": {"low": 0.8, "high": 0.99}},
    },
    "fixed": {"batch_size": 128},
    "search": {"algorithm": "quasi_random", "trials": 8},
}
STEPS = list(range(0, 500, 50))


def tunebook(*args: str) -> int:
    return main(list(args))


def trial_params(rng: random.Random, num_layers: int) -> dict[str, Any]:
    optimizer = rng.choice(["adam", "sgd"])
    params: dict[str, Any] = {"num_layers": num_layers, "optimizer": optimizer, "batch_size": 128,
                              "warmup": int(round(10 ** rng.uniform(1, 3)))}
    if optimizer == "adam":
        params["learning_rate[optimizer=adam]"] = 10 ** rng.uniform(-4, -1)
    else:
        params["learning_rate[optimizer=sgd]"] = 10 ** rng.uniform(-3, 0)
        params["momentum[optimizer=sgd]"] = rng.uniform(0.8, 0.99)
    return params


def finished_trial(rng: random.Random, params: dict[str, Any], kind: str, steps: list[int] = STEPS) -> FinishedTrial:
    """A trial of ``kind`` complete|infeasible|failed with its loss and accuracy curves."""
    floor = rng.uniform(0.1, 1.0) / params["num_layers"]
    loss = [floor + 2.0 / (1 + s / 50) + rng.gauss(0, 0.01) for s in steps]
    accuracy = [1 - v / 3 for v in loss]
    if kind == "infeasible":
        loss[len(loss) // 2:] = [math.nan] * (len(loss) - len(loss) // 2)
        return FinishedTrial(params, TrialState.INFEASIBLE, {"valid_loss": (steps, loss)},
                             reason=f"valid_loss is nan at step {steps[len(loss) // 2]}")
    if kind == "failed":
        cut = len(steps) // 3
        return FinishedTrial(params, TrialState.FAILED, {"valid_loss": (steps[:cut], loss[:cut])},
                             reason="RuntimeError: CUDA out of memory")
    objective, best_step = reduce_curve(steps, loss, "min", "best")
    return FinishedTrial(params, TrialState.COMPLETE, {"valid_loss": (steps, loss), "accuracy": (steps, accuracy)},
                         objective, best_step)


def write_experiment(store_url: str, per_study: int = 5, seed: int = 0, steps: list[int] = STEPS,
                     layout: str = "per_scientific_value") -> Experiment:
    """Store experiment ``depth``: per study ``per_study`` trials, the 3rd infeasible and the 5th failed
    (``layout`` joint: one study whose trials vary num_layers)."""
    rng = random.Random(seed)
    experiment = Experiment.from_dict({**SPEC, "search": {**SPEC["search"], "studies": layout}})
    studies = []
    for plan in experiment.studies():
        kinds = ["infeasible" if i == 2 else "failed" if i == 4 else "complete" for i in range(per_study)]
        trials = [finished_trial(rng, trial_params(rng, plan.scientific.get("num_layers", rng.choice([2, 4]))), kind,
                                 steps) for kind in kinds]
        studies.append(FinishedStudy(plan.key, plan.scientific, trials))
    with open_store(store_url) as store:
        store.import_experiment(experiment.name, experiment.to_dict(), studies, None, "test")
    return experiment
