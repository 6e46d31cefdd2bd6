"""ExperimentData with a known truth, built without a store.

``experiment(...)`` validates a small spec; ``sweep(experiment, outcome)``
samples its studies with tunebook's own quasi-random search and asks
``outcome(params)`` what each trial gave:

- a number: a complete trial whose objective-metric curve falls from a worse
  value at step 0 to that number at ``STEPS`` (so its best step is ``STEPS``);
- a mapping ``{metric: [(step, value), ...]}``: a complete trial with those
  curves, its objective and best step reduced from them as the executor does;
- ``None`` or ``"infeasible"``: an infeasible trial (diverged); ``"failed"``:
  a failed one (crashed, out of retries).

``frames(experiment, rows)`` builds the same from explicit
``(study, params, outcome)`` rows. Trial ids count from 1.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from tunebook.analysis.data import TRIAL_COLUMNS, ExperimentData
from tunebook.core.experiment import Experiment
from tunebook.core.objective import reduce_curve
from tunebook.search import sample

STEPS = 1000
LR = {"low": 1e-4, "high": 1.0, "scale": "log"}

Outcome = Any  # float | None | str | Mapping[str, Sequence[tuple[int, float]]]


def experiment(
    nuisance: Mapping[str, Any] | None = None, scientific: Mapping[str, Any] | None = None,
    fixed: Mapping[str, Any] | None = None, objective: str = "loss:min", trials: int = 20,
    studies: str = "per_scientific_value", seed: int = 0, reduce: str = "best",
) -> Experiment:
    """A validated experiment; by default one log-scaled nuisance ``lr`` in [1e-4, 1]."""
    metric, _, mode = objective.partition(":")
    spec: dict[str, Any] = {
        "name": "synthetic", "objective": {"metric": metric, "mode": mode or "min", "reduce": reduce},
        "nuisance": dict(nuisance if nuisance is not None else {"lr": LR}),
        "search": {"trials": trials, "studies": studies, "seed": seed},
    }
    if scientific:
        spec["scientific"] = dict(scientific)
    if fixed:
        spec["fixed"] = dict(fixed)
    return Experiment.from_dict(spec)


def sweep(exp: Experiment, outcome: Callable[[dict[str, Any]], Outcome], n: int | None = None) -> ExperimentData:
    """The first ``n`` (default: the budget) quasi-random trials of every study, each given ``outcome(params)``."""
    rows = [(p.study, p.params, outcome(p.params)) for p in sample(exp, n)]
    return frames(exp, rows)


def frames(exp: Experiment, rows: Iterable[tuple[str, Mapping[str, Any], Outcome]]) -> ExperimentData:
    """ExperimentData of explicit ``(study, params by id, outcome)`` rows, numbered per study in order."""
    trials, points, numbers = [], [], {}
    for trial_id, (study, params, result) in enumerate(rows, start=1):
        number = numbers[study] = numbers.get(study, -1) + 1
        state, objective, best_step, reason, curves = _settle(exp, result)
        trials.append({
            "trial_id": trial_id, "study": study, "number": number, "state": state, "objective": objective,
            "best_step": best_step, "attempt": 0, "reason": reason, "started_at": None, "finished_at": None,
            "duration": None, **params,
        })
        points += [(trial_id, m, int(s), float(v)) for m, curve in curves.items() for s, v in curve]
    param_ids = [hp.id for hp in exp.space if any(hp.id in row for row in trials)]
    trial_frame = pd.DataFrame(trials, columns=list(TRIAL_COLUMNS) + param_ids)
    for column in ("objective", "best_step"):
        trial_frame[column] = trial_frame[column].astype(float)
    curve_frame = pd.DataFrame(points, columns=["trial_id", "metric", "step", "value"])
    curve_frame = curve_frame.sort_values(["trial_id", "metric", "step"], kind="stable").reset_index(drop=True)
    return ExperimentData(exp, trial_frame, curve_frame)


def _settle(exp: Experiment, result: Outcome) -> tuple[str, float, float, str | None, dict]:
    objective = exp.objective
    if result is None or (isinstance(result, str) and result == "infeasible"):
        return "infeasible", math.nan, math.nan, "loss is nan at step 10", {}
    if isinstance(result, str) and result == "failed":
        return "failed", math.nan, math.nan, "exit code 1", {}
    if isinstance(result, Mapping):
        curve = result.get(objective.metric, [])
        reduced = reduce_curve([s for s, _ in curve], [v for _, v in curve], objective.mode, objective.reduce)
        value, step = reduced if reduced is not None else (math.nan, math.nan)
        return "complete", value, step, None, dict(result)
    value = float(result)
    worse = value + 1.0 if objective.mode == "min" else value - 1.0
    return "complete", value, float(STEPS), None, {objective.metric: [(0, worse), (STEPS, value)]}


def log_position(value: float, low: float = LR["low"], high: float = LR["high"]) -> float:
    """Where ``value`` sits in [low, high] on a log scale: 0 at low, 1 at high."""
    return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))


def quadratic(optimum: float, param: str = "lr", noise: float = 0.0, seed: int = 0) -> Callable[[dict], float]:
    """An objective (lower is better) quadratic in the log-position of ``param``, optimum at ``optimum``
    (a position: < 0 or > 1 lies outside the range), plus seeded normal noise."""
    rng = np.random.default_rng(seed)
    return lambda p: (log_position(p[param]) - optimum) ** 2 + noise * float(rng.normal())
