"""Scoring the search benchmark: normalized regret, wins and losses, divergence shares, targets.

Definitions (the script's docstring repeats them for users):

- best known (per task): the lowest validation error seen for the task in
  this run, by any method on any seed, or in the task's reference sample
  (``REFERENCE_POINTS`` independent uniform points, feasible ones only);
- regret of a run: its best validation error minus the best known (in
  percentage points); a run with no feasible trial has infinite regret;
- normalized regret: regret divided by the median regret of uniform random
  search with 50 trials on the same task, estimated from the reference sample
  (``RANDOM_DRAWS`` draws of 50 of its points). 1 = as good as a typical
  random search with 50 trials, 0 = the best known;
- a win of A over B on a cell (task, seed): A's best error is strictly lower
  (a tie is neither a win nor a loss).
"""

from __future__ import annotations

import math
import statistics
from typing import Iterable, Sequence

import numpy as np

from search_methods import Run

REFERENCE_POINTS = 10_000
REFERENCE_SEED = 20_261_203
RANDOM_DRAWS = 1000
RANDOM_BUDGET = 50


def random_search_regret_scale(errors: Sequence[float | None], best_known: float, seed: int = 0) -> float:
    """Median over ``RANDOM_DRAWS`` draws (without replacement) of 50 reference points of their regret."""
    values = np.array([math.inf if e is None else e for e in errors])
    rng = np.random.default_rng(seed)
    draws = np.array([values[rng.choice(len(values), RANDOM_BUDGET, replace=False)].min()
                      for _ in range(RANDOM_DRAWS)])
    return float(np.median(draws - best_known))


def best_known(task: str, runs: Iterable[Run], reference: Sequence[float | None]) -> float:
    found = [r.best for r in runs if r.task == task and r.best is not None]
    found += [e for e in reference if e is not None]
    return min(found)


def normalized(run: Run, known: float, scale: float) -> float:
    if run.best is None:
        return math.inf
    return (run.best - known) / scale if scale > 0 else math.nan


def label(run: Run) -> str:
    return f"{run.method}-{run.trials}"


def compare(a: Run, b: Run) -> int:
    """+1 when ``a`` found a strictly lower error than ``b``, -1 when higher, 0 on a tie."""
    best_a = math.inf if a.best is None else a.best
    best_b = math.inf if b.best is None else b.best
    return int(best_a < best_b) - int(best_a > best_b)


def by_cell(runs: Iterable[Run]) -> dict[str, dict[tuple[str, int], Run]]:
    """Runs indexed by label, then by (task, seed)."""
    table: dict[str, dict[tuple[str, int], Run]] = {}
    for run in runs:
        table.setdefault(label(run), {})[(run.task, run.seed)] = run
    return table


def wins_losses(a: dict[tuple[str, int], Run], b: dict[tuple[str, int], Run]) -> tuple[int, int, int]:
    """(wins, losses, ties) of ``a`` against ``b`` over the cells both have."""
    outcomes = [compare(a[cell], b[cell]) for cell in a.keys() & b.keys()]
    return outcomes.count(1), outcomes.count(-1), outcomes.count(0)


def wilson_interval(successes: int, count: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95 % by default) of a share ``successes / count``: how far a
    win rate measured on ``count`` cells can sit from the method's true rate (10 cells: about +-25 points)."""
    if count == 0:
        return 0.0, 1.0
    p = successes / count
    centre = (p + z * z / (2 * count)) / (1 + z * z / count)
    half = z * math.sqrt(p * (1 - p) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return max(0.0, centre - half), min(1.0, centre + half)


def diverged_after_initial(runs: Iterable[Run]) -> tuple[int, int]:
    """(diverged, counted): the trials after each run's initial design, pooled over runs."""
    diverged = counted = 0
    for run in runs:
        after = run.diverged[run.initial:]
        diverged += sum(after)
        counted += len(after)
    return diverged, counted


def end_of_run_seconds(runs: Iterable[Run], last: int = 10) -> float | None:
    """Median seconds per suggestion over the last ``last`` suggestions of every run (None without runs)."""
    seconds = [s for run in runs for s in run.suggest_seconds[-last:]]
    return statistics.median(seconds) if seconds else None


def quantiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(25th, 50th, 75th) percentiles; infinities (no feasible trial) sort last."""
    ordered = sorted(values)
    return tuple(float(np.quantile(np.array(ordered), q, method="nearest")) for q in (0.25, 0.5, 0.75))
