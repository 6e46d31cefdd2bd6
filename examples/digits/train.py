"""A tunebook trial function: an MLP on scikit-learn's digits, reporting through ``trial``.

Run by tunebook (``run: {function: train:train}`` in spec.yaml), or on its own
with the defaults below (overridden by ``TUNEBOOK_PARAMS`` JSON if set)::

    python examples/digits/train.py
    TUNEBOOK_PARAMS='{"num_layers": 3}' python examples/digits/train.py

Logs ``train/loss`` every step and ``valid/loss``, ``valid/error`` every
``eval_every`` steps (and at the last step), checkpoints at each evaluation and
resumes from ``trial.resume_from`` when an earlier attempt left a checkpoint.
A run whose loss turns NaN or explodes is stopped by ``trial.log`` raising
``tunebook.tracking.Diverged``: tunebook records it as infeasible.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from digits_mlp import HIDDEN_WIDTH, batches, build_model, build_optimizer, evaluate, load_split

DEFAULTS: dict[str, Any] = {
    "num_layers": 2,
    "hidden_width": HIDDEN_WIDTH,
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "beta1": 0.9,
    "batch_size": 64,
    "max_train_steps": 1000,
    "eval_every": 100,
}


def train(params: dict, trial) -> None:
    """Train one configuration to ``max_train_steps``, reporting to ``trial``."""
    torch.set_num_threads(1)  # tunebook runs trials side by side, one core each
    seed = int(params.get("seed", 0))
    torch.manual_seed(seed)
    x_train, y_train, x_valid, y_valid = load_split()
    model = build_model(int(params["num_layers"]), width=int(params.get("hidden_width", HIDDEN_WIDTH)))
    optimizer = build_optimizer(model, params)
    max_steps, eval_every = int(params["max_train_steps"]), int(params["eval_every"])

    start = 1
    if trial.resume_from is not None:
        state = torch.load(trial.resume_from)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        start = state["step"] + 1

    model.train()
    for step, index in batches(len(x_train), int(params["batch_size"]), seed, start):
        if step > max_steps:
            break
        loss = nn.functional.cross_entropy(model(x_train[index]), y_train[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        metrics = {"train/loss": loss.item()}
        evaluating = step % eval_every == 0 or step == max_steps
        if evaluating:
            metrics["valid/loss"], metrics["valid/error"] = evaluate(model, x_valid, y_valid)
        trial.log(step, metrics)  # raises Diverged on NaN/inf or an exploding loss
        if evaluating:
            print(f"step {step}: train/loss {metrics['train/loss']:.4f} valid/error {metrics['valid/error']:.4f}",
                  flush=True)
            with trial.checkpoint(step) as path:
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "rng": torch.get_rng_state(), "step": step}, path)


if __name__ == "__main__":
    import tunebook.tracking as tt

    standalone = tt.trial(defaults=DEFAULTS)
    train(standalone.params, standalone)
