"""Experiments with planted trial variance, built without a store.

``planted(gap, seed_std, ...)``: two scientific values ``depth=2`` and
``depth=3`` (per-value studies), each searched over a log ``lr`` with
``trials`` quasi-random trials whose objective (lower is better) is
``mean[depth] + curvature * (log-position of lr - 0.5)**2 + N(0, seed_std)``,
``mean = {2: 0, 3: gap}``; then, when ``retrains`` > 0, one retrain study
per value (``retrain:depth=D:N``, linked to its source in
``retrain_sources``) that reruns that value's best trial with seeds 1..retrains
(the source trial's seed is 0). The truth: ``depth=2`` is better by ``gap``
(a tie when 0). ``lost`` repeats of the winner's retrain study diverge.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tests.analysis import synthetic
from tunebook.analysis.best import scientific_groups
from tunebook.analysis.data import ExperimentData

DEPTHS = (2, 3)


def planted(gap: float, seed_std: float, retrains: int = 5, trials: int = 12, seed: int = 0,
            curvature: float = 1.0, mode: str = "min", lost: int = 0) -> ExperimentData:
    rng = np.random.default_rng(seed)
    exp = synthetic.experiment(scientific={"depth": list(DEPTHS)}, trials=trials,
                               objective=f"loss:{mode}", seed=seed)
    sign = 1.0 if mode == "min" else -1.0

    def value(params: dict[str, Any]) -> float:
        bowl = curvature * (synthetic.log_position(params["lr"]) - 0.5) ** 2
        return sign * ({2: 0.0, 3: gap}[params["depth"]] + bowl + seed_std * float(rng.normal()))

    rows = [(p.study, p.params, value(p.params)) for p in synthetic.sample(exp)]
    search = synthetic.frames(exp, rows)
    seeds = [0] * len(rows)
    sources = {}
    for group in scientific_groups(search):
        best = group.trials.iloc[0]
        params = {"depth": int(best["depth"]), "lr": float(best["lr"])}
        key = f"retrain:{group.study}:{int(best['number'])}"
        if retrains:
            sources[key] = int(best["trial_id"])
        for i in range(retrains):
            diverged = group.study == "depth=2" and i < lost
            rows.append((key, params, None if diverged else value(params)))
            seeds.append(i + 1)
    data = synthetic.frames(exp, rows)
    trials = data.trials.copy()
    trials["seed"] = seeds
    return dataclasses.replace(data, trials=trials, retrain_sources=sources)


def imported_repeats(gap: float, seed_std: float, repeats: int = 5, trials: int = 12, seed: int = 0) -> ExperimentData:
    """Like ``planted`` but the reruns sit inside the search studies (an imported history with seeds), unlinked."""
    data = planted(gap, seed_std, retrains=repeats, trials=trials, seed=seed)
    trials_frame = data.trials.copy()
    for key in data.retrain_sources:
        trials_frame.loc[trials_frame["study"] == key, "study"] = key.split(":")[1]
    numbers = trials_frame.groupby("study").cumcount()
    trials_frame["number"] = numbers
    return dataclasses.replace(data, trials=trials_frame, retrain_sources={})
