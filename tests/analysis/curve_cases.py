"""Synthetic curves with a known truth, and the ExperimentData that holds them, for the curve checks.

A curve is a function of the training fraction ``t`` in (0, 1] sampled at
``points`` evaluation steps; noise is added by the caller's seeded generator,
so every case is reproducible and can be run over many seeds.
``train_digits`` gives real curves: the digits example's MLP, trained here.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from tunebook.analysis.data import TRIAL_COLUMNS, ExperimentData
from tunebook.core import Experiment
from tunebook.core.objective import reduce_curve

MAX_STEPS = 10_000


def steps(points: int) -> np.ndarray:
    """``points`` evenly spaced evaluation steps ending at ``MAX_STEPS``."""
    return np.linspace(MAX_STEPS / points, MAX_STEPS, points).round().astype(int)


def decay(points: int, start: float = 2.0, floor: float = 0.3, tau: float = 0.15) -> np.ndarray:
    """An exponential approach from ``start`` to ``floor`` with time constant ``tau`` (share of training)."""
    t = steps(points) / MAX_STEPS
    return floor + (start - floor) * np.exp(-t / tau)


def u_shape(points: int, turn: float = 0.4, rise: float = 0.5, **kw: float) -> np.ndarray:
    """``decay`` plus a linear rise of ``rise`` from the ``turn`` fraction of training to the end."""
    t = steps(points) / MAX_STEPS
    return decay(points, **kw) + rise * np.clip((t - turn) / (1 - turn), 0, None)


def power_law(points: int, start: float = 2.0, floor: float = 0.1, alpha: float = 0.5) -> np.ndarray:
    """A curve still falling at the end: ``floor + (start - floor) * (1 + 50 t) ** -alpha``."""
    t = steps(points) / MAX_STEPS
    return floor + (start - floor) * (1 + 50 * t) ** -alpha


def noisy(values: np.ndarray, sigma: float, rng: np.random.Generator, relative: bool = False) -> np.ndarray:
    """``values`` plus independent normal noise (``sigma`` times the value itself if ``relative``)."""
    scale = sigma * np.abs(values) if relative else sigma
    return values + rng.normal(0.0, 1.0, len(values)) * scale


def spec(metric: str = "valid/loss", mode: str = "min", studies: str = "per_scientific_value",
         depths: Sequence[int] = (1, 2)) -> dict[str, Any]:
    """A small experiment: scientific ``depth``, nuisance ``lr``."""
    return {
        "name": "curves", "objective": {"metric": metric, "mode": mode, "reduce": "best"},
        "scientific": {"depth": list(depths)},
        "nuisance": {"lr": {"low": 1e-4, "high": 1.0, "scale": "log"}},
        "fixed": {"max_train_steps": MAX_STEPS},
        "search": {"trials": 8, "studies": studies},
    }


def make_data(trials: Sequence[Mapping[str, Any]], **spec_args: Any) -> ExperimentData:
    """ExperimentData of ``trials``: each a mapping with ``depth``, ``curves`` {metric: values or
    (steps, values)}, and optionally ``state`` (default complete) and ``lr``.

    Trial ids count from 1 in order; the objective is the best (or final) value
    of the objective metric's curve, as the executor stores it.
    """
    experiment = Experiment.from_dict(spec(**spec_args))
    objective = experiment.objective
    rows, points = [], []
    numbers: dict[str, int] = {}
    for trial_id, trial in enumerate(trials, start=1):
        study = "joint" if experiment.search.studies == "joint" else f"depth={trial['depth']}"
        numbers[study] = numbers.get(study, -1) + 1
        for metric, curve in trial["curves"].items():
            at, values = curve if isinstance(curve, tuple) else (steps(len(curve)), curve)
            points += [(trial_id, metric, int(s), float(v)) for s, v in zip(at, values)]
        reduced = None
        if objective.metric in trial["curves"]:
            curve = trial["curves"][objective.metric]
            at, values = curve if isinstance(curve, tuple) else (steps(len(curve)), curve)
            reduced = reduce_curve(list(at), list(values), objective.mode, objective.reduce)
        state = trial.get("state", "complete")
        rows.append({
            "trial_id": trial_id, "study": study, "number": numbers[study], "state": state,
            "objective": reduced[0] if reduced and state == "complete" else math.nan,
            "best_step": reduced[1] if reduced else None, "attempt": 1, "reason": None,
            "started_at": None, "finished_at": None, "duration": None,
            "depth": trial["depth"], "lr": trial.get("lr", 1e-3), "max_train_steps": MAX_STEPS,
        })
    frame = pd.DataFrame(rows, columns=list(TRIAL_COLUMNS) + ["depth", "lr", "max_train_steps"])
    curves = pd.DataFrame(points, columns=["trial_id", "metric", "step", "value"])
    curves = curves.sort_values(["trial_id", "metric", "step"]).reset_index(drop=True)
    return ExperimentData(experiment, frame, curves)


def fire_rate(check, case, seeds: int = 50) -> float:
    """The share of ``seeds`` for which ``check(case(rng))`` returns any finding."""
    fired = sum(bool(check(case(np.random.default_rng(seed)))) for seed in range(seeds))
    return fired / seeds


DIGITS_MLP = Path(__file__).resolve().parents[2] / "examples" / "digits" / "digits_mlp.py"


@functools.lru_cache(maxsize=8)  # tests share runs; callers must not modify the arrays
def train_digits(steps_: int, lr: float, train_size: int | None = None, batch_size: int = 64,
                 eval_every: int = 10, seed: int = 0, lr_from: tuple[int, float] | None = None,
                 ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train the digits example's MLP (2 hidden layers, Adam) and return its curves.

    Real training, no regularization: ``train/loss`` and ``grad_norm`` every
    step, ``valid/loss`` and ``valid/error`` every ``eval_every`` steps on the
    example's fixed 30 % validation split. ``train_size`` keeps only that many
    training images (full-batch when it is at most ``batch_size``);
    ``lr_from=(step, lr)`` switches the learning rate at that step.
    """
    import torch
    from torch import nn

    mlp = _load_module("digits_mlp", DIGITS_MLP)
    x_train, y_train, x_valid, y_valid = _digits_split()
    if train_size is not None:
        x_train, y_train = x_train[:train_size], y_train[:train_size]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: threads cost more than they give
    try:
        torch.manual_seed(seed)
        model = mlp.build_model(2)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        logged: dict[str, list[tuple[int, float]]] = {m: [] for m in ("train/loss", "grad_norm", "valid/loss",
                                                                      "valid/error")}
        for step, index in mlp.batches(len(x_train), min(batch_size, len(x_train)), seed):
            if step > steps_:
                break
            if lr_from is not None and step == lr_from[0]:
                for group in optimizer.param_groups:
                    group["lr"] = lr_from[1]
            loss = nn.functional.cross_entropy(model(x_train[index]), y_train[index])
            optimizer.zero_grad()
            loss.backward()
            norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
            optimizer.step()
            logged["train/loss"].append((step, loss.item()))
            logged["grad_norm"].append((step, norm.item()))
            if step % eval_every == 0:
                with torch.no_grad():
                    logits = model(x_valid)
                logged["valid/loss"].append((step, nn.functional.cross_entropy(logits, y_valid).item()))
                logged["valid/error"].append((step, (logits.argmax(1) != y_valid).float().mean().item()))
    finally:
        torch.set_num_threads(threads)
    return {metric: (np.array([s for s, _ in points]), np.array([v for _, v in points]))
            for metric, points in logged.items()}


def _digits_split():
    """The example's stratified 70/30 split (seed 0), pixels scaled by 1/16.

    Not ``digits_mlp.load_split``: it standardizes with the training std plus
    1e-6, and a pixel that is always 0 in the training split but not in the
    validation split gives two validation images a feature of 1e6, so their
    cross-entropy dominates valid/loss.
    """
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(x / 16.0, y, test_size=0.3, stratify=y, random_state=0)
    as_x = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return as_x(x_train), torch.tensor(y_train), as_x(x_valid), torch.tensor(y_valid)


def _load_module(name: str, path: Path):
    import importlib.util

    spec_ = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    return module
