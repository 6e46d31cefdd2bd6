"""How long one Bayesian-optimization suggestion takes, by the number of finished trials.

A 7-dimensional space (log, linear and integer ranges), a synthetic objective
with an infeasible fifth (``learning_rate / (1 - momentum) > 0.1``: the
divergence rule of benchmarks/search.py), three pending trials. For each
history size, the median over ``--repeats`` suggestions (each for a new trial
number, so each fits its models afresh) of wall-clock and CPU seconds, in one
process after one warm-up suggestion (imports). The issue's bar: median
<= 1 s at 100 finished trials and <= 5 s at 500, on 2 cores.

    python benchmarks/bo_speed.py [--sizes 100 500] [--repeats 5]

``suggestion_seconds(n_finished, repeats)`` is the function other benchmarks call.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any

from tunebook.core.experiment import Experiment
from tunebook.core.states import TrialState
from tunebook.search import Observed, QuasiRandomSampler, make_sampler

SPACE = {
    "learning_rate": {"low": 1e-4, "high": 1.0, "scale": "log"},
    "momentum": {"low": 0.0, "high": 0.99},
    "weight_decay": {"low": 1e-5, "high": 1e-1, "scale": "log"},
    "batch_size": {"low": 16, "high": 512, "scale": "log", "type": "int"},
    "max_dropout": {"low": 0.0, "high": 1.0},
    "max_units": {"low": 64, "high": 1024, "scale": "log", "type": "int"},
    "num_layers": {"low": 1, "high": 5, "type": "int"},
}


def _objective(p: dict[str, Any]) -> float | None:
    if p["learning_rate"] / (1.0 - p["momentum"]) > 0.1:
        return None  # diverged
    return ((math.log10(p["learning_rate"]) + 2.5) ** 2 + (p["momentum"] - 0.9) ** 2
            + (math.log10(p["weight_decay"]) + 3) ** 2 / 4 + p["max_dropout"] / 5 + abs(p["num_layers"] - 3) / 10)


def _history(n_finished: int, pending: int = 3) -> list[Observed]:
    spec = {"name": "speed", "objective": "loss", "nuisance": SPACE, "search": {"trials": 10}}
    (plan,) = Experiment.from_dict(spec).studies()
    points = QuasiRandomSampler(plan.space, seed=1)
    history = []
    for i in range(n_finished + pending):
        params = points.params(i)
        if i >= n_finished:
            history.append(Observed(i, params, TrialState.RUNNING))
            continue
        value = _objective(params)
        history.append(Observed(i, params, TrialState.INFEASIBLE if value is None else TrialState.COMPLETE, value))
    return history


def suggestion_seconds(n_finished: int, repeats: int = 5) -> dict[str, float]:
    """Median wall and CPU seconds of one model suggestion after ``n_finished`` trials (+3 pending)."""
    spec = {"name": "speed", "objective": "loss", "nuisance": SPACE,
            "search": {"algorithm": "bayesian", "trials": n_finished + repeats + 10}}
    experiment = Experiment.from_dict(spec)
    (plan,) = experiment.studies()
    sampler = make_sampler(experiment, plan)
    history = _history(n_finished)
    sampler.suggest(len(history), history)  # warm-up: imports
    walls, cpus, by = [], [], set()
    for k in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        by.add(sampler.suggest(len(history) + 1 + k, history).info["by"])
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    if by != {"model"}:
        raise RuntimeError(f"expected model suggestions, got {sorted(by)}")
    return {"finished": n_finished, "wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for size in args.sizes:
        result = suggestion_seconds(size, args.repeats)
        print(f"{size:5d} finished trials: median {result['wall_s']:.2f} s wall, {result['cpu_s']:.2f} s CPU "
              f"per suggestion ({args.repeats} suggestions)", flush=True)


if __name__ == "__main__":
    main()
