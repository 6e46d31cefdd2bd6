"""Real learning-rate sweeps of the digits example's MLP, trained here and stored as tunebook stores trials.

``train`` runs ``examples/digits/digits_mlp.py`` (its data split, model,
optimizers and batch order) in this process for a few hundred steps, logging
``train/loss`` every step and ``valid/error`` every 10; a NaN or a loss past
10x its first value ends the run as infeasible, as ``tunebook.Diverged`` does.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path
from typing import Any, Mapping

DIGITS_MLP = Path(__file__).resolve().parents[2] / "examples" / "digits" / "digits_mlp.py"
DIVERGED = 10.0  # a loss past 10x its first value diverged (run.divergence's default factor)


@functools.lru_cache(maxsize=1)
def _mlp():
    spec = importlib.util.spec_from_file_location("digits_mlp", DIGITS_MLP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.load_split()


@functools.lru_cache(maxsize=32)
def _train(items: tuple[tuple[str, Any], ...], steps: int, seed: int) -> tuple[dict[str, list], str | None]:
    import torch
    from torch import nn

    mlp, (x_train, y_train, x_valid, y_valid) = _mlp()
    params = dict(items)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: threads cost more than they give
    try:
        torch.manual_seed(seed)
        model = mlp.build_model(int(params.get("num_layers", 2)))
        optimizer = mlp.build_optimizer(model, params)
        curves: dict[str, list] = {"train/loss": [], "valid/error": []}
        for step, index in mlp.batches(len(x_train), 64, seed):
            if step > steps:
                return curves, None
            loss = nn.functional.cross_entropy(model(x_train[index]), y_train[index])
            value = loss.item()
            curves["train/loss"].append((step, value))
            if not math.isfinite(value) or value > DIVERGED * curves["train/loss"][0][1]:
                return curves, f"train/loss is {value:.3g} at step {step}"
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 10 == 0:
                with torch.no_grad():
                    wrong = (model(x_valid).argmax(1) != y_valid).float().mean().item()
                curves["valid/error"].append((step, wrong))
    finally:
        torch.set_num_threads(threads)
    return curves, None


def train(params: Mapping[str, Any], steps: int = 300, seed: int = 0) -> dict[str, Any]:
    """One real trial as ``tests.plans.stored.trial`` takes it: params, curves, state (infeasible if diverged)."""
    curves, diverged = _train(tuple(sorted(params.items())), steps, seed)
    return {"params": dict(params), "curves": {m: list(c) for m, c in curves.items() if c},
            "state": "infeasible" if diverged else "complete", "study": "default", "reason": diverged}
