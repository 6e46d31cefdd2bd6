"""Experiments written through the real Store API, for advice tests: a SQLite file, trials and curves."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable, Mapping

from tunebook.core import Experiment, TrialState
from tunebook.core.objective import reduce_curve
from tunebook.storage import SQLStore


def spec(name: str, *, objective: str = "train/loss", **sections: Any) -> dict[str, Any]:
    """A small spec: objective ``objective`` (min), the given role sections, a trial function to run."""
    out: dict[str, Any] = {"name": name, "objective": {"metric": objective, "mode": "min"},
                           "search": {"algorithm": "grid"}, "run": {"function": "toy_train:train"}}
    out.update(sections)
    return out


def trial(params: Mapping[str, Any], curves: Mapping[str, Iterable[tuple[int, float]]] | None = None,
          state: str = "complete", study: str = "default", reason: str | None = None) -> dict[str, Any]:
    return {"params": dict(params), "curves": {m: list(c) for m, c in (curves or {}).items()}, "state": state,
            "study": study, "reason": reason}


def store_experiment(url: str, spec_data: Mapping[str, Any], trials: list[dict[str, Any]],
                     source: Path | None = None) -> None:
    """Store the experiment and its finished trials, objectives reduced from their curves as the runner does."""
    experiment = Experiment.from_dict(spec_data)
    metric = experiment.objective.metric
    with SQLStore(url) as store:
        record = store.ensure_experiment(experiment.name, experiment.to_dict(), source=str(source) if source else None)
        studies: dict[str, Any] = {}
        for t in trials:
            if t["study"] not in studies:
                studies[t["study"]] = store.ensure_study(record.id, t["study"], {}, budget=1000)
            claimed = store.claim_trial(studies[t["study"]].id, "tests", lambda n, p=t["params"]: p)
            if t["curves"]:
                store.log_curves(claimed.id, {m: ([s for s, _ in c], [v for _, v in c]) for m, c in t["curves"].items()})
            objective = best_step = None
            if t["state"] == "complete" and metric in t["curves"]:
                curve = t["curves"][metric]
                objective, best_step = reduce_curve([s for s, _ in curve], [v for _, v in curve], "min", "best")
            store.finish_trial(claimed.id, TrialState(t["state"]), objective, best_step, t["reason"])


def falling(steps: int, start: float = 2.0, rate: float = 0.01, noise: float = 0.0, seed: int = 0) -> list[tuple[int, float]]:
    """A loss that falls steadily: start x exp(-rate x step), times (1 + noise x N(0, 1))."""
    import random

    rng = random.Random(seed)
    return [(s, start * math.exp(-rate * s) * (1 + noise * rng.gauss(0, 1))) for s in range(steps)]


def spiking(steps: int, at: int, seed: int = 0) -> list[tuple[int, float]]:
    """A steady decline, then a sudden sustained rise at step ``at`` (the playbook's Figure 7b)."""
    curve = falling(steps, noise=0.01, seed=seed)
    return [(s, v if s < at else 1.5) for s, v in curve]


def collapsing(steps: int, start: float = 4.2, level: float = 3.2, within: int = 10, noise: float = 0.01,
               seed: int = 0) -> list[tuple[int, float]]:
    """A loss that drops from ``start`` to a plateau at ``level`` in its first ``within`` steps and stays there."""
    import random

    rng = random.Random(seed)
    return [(s, (start + (level - start) * min(s, within) / within) * (1 + noise * rng.gauss(0, 1)))
            for s in range(steps)]
