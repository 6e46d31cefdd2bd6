"""advise instability on a labeled set of stored sweeps: precision and recall of the unstable-lr call.

A call is the ``unstable_lr`` the advice names (or none). Precision: of the
sweeps where it names one, the share where that is the true first unstable
rate; recall: of the sweeps that have one, the share where it names it.
Both must be at least 0.95; the table is printed (``pytest -s``) and quoted
in the README.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tunebook.plans import instability_advice

from .labeled_sweeps import FAMILIES, Sweep, labeled
from .stored import spec, store_experiment, trial

SEEDS = 4
LEVEL = 0.95


def _store(url: str, sweep: Sweep) -> None:
    rows = []
    for lr, curve in zip(sweep.rates, sweep.curves):
        study = f"learning_rate={lr:g}"
        if curve is None:
            rows.append(trial({"learning_rate": lr}, {"train/loss": [(0, 2.3), (1, 2.2), (2, 50.0), (3, float("nan"))]},
                              state="infeasible", study=study, reason="train/loss is nan at step 3"))
        else:
            rows.append(trial({"learning_rate": lr}, {"train/loss": curve}, study=study))
    store_experiment(url, spec(sweep.name, scientific={"learning_rate": [float(f"{r:g}") for r in sweep.rates]}), rows)


def calls(tmp_path: Path) -> list[tuple[Sweep, float | None]]:
    url = f"sqlite:///{tmp_path / 'labeled.db'}"
    sweeps = labeled(SEEDS)
    for sweep in sweeps:
        _store(url, sweep)
    results = []
    for sweep in sweeps:
        numbers = instability_advice(sweep.name, url).numbers
        assert numbers["reference"]["learning_rate"] == sweep.rates[0], sweep.name  # lr*: the best stable trial
        results.append((sweep, numbers.get("unstable_lr")))
    return results


def scores(results: list[tuple[Sweep, float | None]]) -> tuple[float, float, dict[str, Counter]]:
    """(precision, recall, per family: right / named wrong / missed / false alarm counts)."""
    table: dict[str, Counter] = {family: Counter() for family in FAMILIES}
    for sweep, called in results:
        family = sweep.name.rsplit("-", 1)[0]
        truth = sweep.unstable_lr
        right = truth is not None and called is not None and called == pytest.approx(truth)
        outcome = ("right" if right or (truth is None and called is None) else
                   "false alarm" if truth is None else "missed" if called is None else "named wrong")
        table[family][outcome] += 1
    named = [(s, c) for s, c in results if c is not None]
    real = [(s, c) for s, c in results if s.unstable_lr is not None]
    precision = sum(s.unstable_lr is not None and c == pytest.approx(s.unstable_lr) for s, c in named) / len(named)
    recall = sum(c is not None and c == pytest.approx(s.unstable_lr) for s, c in real) / len(real)
    return precision, recall, table


def test_the_unstable_rate_is_named_with_precision_and_recall_of_at_least_095(tmp_path: Path):
    precision, recall, table = scores(calls(tmp_path))
    print(f"\nadvise instability on {SEEDS * len(FAMILIES)} labeled sweeps: precision {precision:.2f}, "
          f"recall {recall:.2f}")
    for family, counts in table.items():
        print(f"  {family:16} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    assert precision >= LEVEL and recall >= LEVEL, table
    assert table["blip"]["right"] == SEEDS  # a blip near 0 is never named unstable
