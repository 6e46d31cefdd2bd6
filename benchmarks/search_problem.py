"""What the search benchmark optimizes: the LCBench surrogate, or a synthetic stand-in.

A problem maps a list of configurations (dicts over ``SPACE``) to validation
errors in % (``None`` for a diverged trial), one call for many points.

- ``LCBench``: YAHPO Gym's LCBench surrogate (``yahpo-gym``, imported only
  here), one OpenML task, the validation error at the last epoch (52):
  ``100 - val_accuracy``. Data is read at run time from the folder holding
  ``lcbench/`` (never copied into the repository).
- ``Synthetic``: a cheap function on the same space with a known minimum
  (0 % at ``SYNTHETIC_OPTIMUM``), for tests and smoke runs without yahpo.

Divergence (``--diverge T``): a trial diverges when its effective learning
rate ``learning_rate / (1 - momentum)`` exceeds ``T``; the problem returns
``None`` for it without asking the surrogate. At ``T = 0.1`` that is about a
fifth of the space (``divergent_share`` measures it on the reference sample).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import zlib
from pathlib import Path
from typing import Any, Sequence

import numpy as np

# The 7 hyperparameters of LCBench, as config_space.json states them (bounds
# to the last digit: yahpo checks configurations against them).
SPACE: dict[str, dict[str, Any]] = {
    "batch_size": {"low": 16, "high": 512, "type": "int", "scale": "log"},
    "learning_rate": {"low": 0.00010000000000000009, "high": 0.10000000000000002, "scale": "log"},
    "max_dropout": {"low": 0.0, "high": 1.0},
    "max_units": {"low": 64, "high": 1024, "type": "int", "scale": "log"},
    "momentum": {"low": 0.1, "high": 0.99},
    "num_layers": {"low": 1, "high": 5, "type": "int"},
    "weight_decay": {"low": 1e-05, "high": 0.1},
}
LAST_EPOCH = 52
DEFAULT_TASKS = ("3945", "7593", "34539", "126025", "126026", "126029", "146212", "167104", "167149", "167152")
SYNTHETIC_OPTIMUM = {"batch_size": 64, "learning_rate": 0.01, "max_dropout": 0.2, "max_units": 512,
                     "momentum": 0.6, "num_layers": 3, "weight_decay": 0.01}


def unit(name: str, value: float) -> float:
    """``value`` of hyperparameter ``name`` mapped to [0, 1] on its own scale (log or linear)."""
    r = SPACE[name]
    if r.get("scale") == "log":
        return (math.log(value) - math.log(r["low"])) / (math.log(r["high"]) - math.log(r["low"]))
    return (value - r["low"]) / (r["high"] - r["low"])


def from_unit(name: str, u: float) -> float | int:
    """The inverse of ``unit``: an integer hyperparameter is rounded and kept in its bounds."""
    r = SPACE[name]
    if r.get("scale") == "log":
        value = math.exp(math.log(r["low"]) + u * (math.log(r["high"]) - math.log(r["low"])))
    else:
        value = r["low"] + u * (r["high"] - r["low"])
    if r.get("type") == "int":
        return int(min(max(round(value), r["low"]), r["high"]))
    return float(min(max(value, r["low"]), r["high"]))


def uniform_sample(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` independent uniform points of ``SPACE`` (log ranges uniform in log)."""
    units = np.random.default_rng(seed).random((n, len(SPACE)))
    return [{name: from_unit(name, float(u)) for name, u in zip(SPACE, row)} for row in units]


def diverges(config: dict[str, Any], threshold: float | None) -> bool:
    """The divergence rule: ``learning_rate / (1 - momentum) > threshold`` (never when None)."""
    if threshold is None:
        return False
    return config["learning_rate"] / (1.0 - config["momentum"]) > threshold


class Problem:
    """One task: ``errors(configs)`` gives validation error (%) per config, None when diverged."""

    name = "problem"

    def __init__(self, task: str, diverge: float | None):
        self.task = task
        self.diverge = diverge

    def errors(self, configs: Sequence[dict[str, Any]]) -> list[float | None]:
        feasible = [c for c in configs if not diverges(c, self.diverge)]
        values = iter(self.evaluate(feasible)) if feasible else iter(())
        return [None if diverges(c, self.diverge) else next(values) for c in configs]

    def evaluate(self, configs: Sequence[dict[str, Any]]) -> list[float]:
        raise NotImplementedError


class Synthetic(Problem):
    """A smooth bowl with its minimum (0 %) at ``SYNTHETIC_OPTIMUM``, shifted per task.

    error = 100 * mean over dims of (unit(x) - unit(optimum))^2 * weight, with
    weights 1..7 so some dims matter more; the task id moves the optimum a
    little (deterministically) so tasks differ.
    """

    name = "synthetic"

    def __init__(self, task: str, diverge: float | None):
        super().__init__(task, diverge)
        shift = np.random.default_rng(zlib.crc32(task.encode())).uniform(-0.1, 0.1, len(SPACE))
        self.centre = {n: min(max(unit(n, SYNTHETIC_OPTIMUM[n]) + float(s), 0.0), 1.0)
                       for n, s in zip(SPACE, shift)}

    def evaluate(self, configs: Sequence[dict[str, Any]]) -> list[float]:
        weights = range(1, len(SPACE) + 1)
        return [100.0 * sum(w * (unit(n, c[n]) - self.centre[n]) ** 2 for w, n in zip(weights, SPACE)) / len(SPACE)
                for c in configs]


_BENCHMARKS: dict[str, Any] = {}  # one loaded surrogate per process and data folder


class LCBench(Problem):
    """YAHPO Gym's LCBench surrogate for one OpenML task, validation error at epoch 52."""

    name = "lcbench"

    def __init__(self, task: str, diverge: float | None, data: Path):
        super().__init__(task, diverge)
        self.bench = load_lcbench(data)
        if task not in self.bench.instances:
            raise ValueError(f"--tasks: {task!r} is not an LCBench task; known: {', '.join(self.bench.instances)}")

    def evaluate(self, configs: Sequence[dict[str, Any]]) -> list[float]:
        self.bench.set_instance(self.task)
        full = [{**c, "OpenML_task_id": self.task, "epoch": LAST_EPOCH} for c in configs]
        return [100.0 - float(r["val_accuracy"]) for r in self.bench.objective_function(full)]


def load_lcbench(data: Path) -> Any:
    """The surrogate, loaded once per process; checks ``SPACE`` against the data's config_space.json."""
    data = Path(data).resolve()
    if not (data / "lcbench" / "model.onnx").is_file():
        raise FileNotFoundError(f"--data: {data} holds no lcbench/model.onnx (expected the folder holding lcbench/)")
    check_space(data / "lcbench" / "config_space.json")
    if str(data) not in _BENCHMARKS:
        with contextlib.redirect_stdout(io.StringIO()):  # yahpo prints its citation on import
            from yahpo_gym import BenchmarkSet, local_config

            local_config.init_config()
            local_config.set_data_path(str(data))
            _BENCHMARKS[str(data)] = BenchmarkSet("lcbench")
    return _BENCHMARKS[str(data)]


def check_space(path: Path) -> None:
    """Fails when the surrogate's space differs from ``SPACE`` (bounds, log scale, integer type)."""
    stated = {hp["name"]: hp for hp in json.loads(path.read_text())["hyperparameters"]}
    for name, r in SPACE.items():
        hp = stated.get(name, {})
        same = (hp.get("lower") == r["low"] and hp.get("upper") == r["high"]
                and bool(hp.get("log")) == (r.get("scale") == "log")
                and (hp.get("type") == "uniform_int") == (r.get("type") == "int"))
        if not same:
            raise ValueError(f"{path}: {name} is {hp or 'missing'}, the benchmark expects {r}")


def make_problem(kind: str, task: str, diverge: float | None, data: Path) -> Problem:
    """``kind`` is ``lcbench`` or ``synthetic``."""
    if kind == "synthetic":
        return Synthetic(task, diverge)
    return LCBench(task, diverge, data)
