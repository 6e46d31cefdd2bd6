"""A tunebook trial function: a character-level transformer LM on the playbook's text.

Run by tunebook (``run: {function: train:train}`` in the specs here), or on
its own with the defaults below (overridden by ``TUNEBOOK_PARAMS`` JSON if set)::

    python examples/charlm/train.py
    TUNEBOOK_PARAMS='{"learning_rate": 0.1, "warmup_steps": 100}' python examples/charlm/train.py

Reads the shared trial vocabulary: ``learning_rate``, ``schedule``,
``max_train_steps``, ``warmup_steps``, ``decay_steps``, ``grad_clip_norm``,
``eval_every``, ``batch_size``, ``seed``, ``optimizer`` (``beta1``,
``beta2``, ``eps``, ``momentum``, ``rho``), ``dropout``; and the model's
own ``context``, ``d_model``, ``num_layers``, ``num_heads``, ``norm``.

Step ``s`` (1-based) is the ``s``-th update. Logs ``train/loss`` (the loss of
the batch that update used), ``grad_norm`` (its unclipped gradient norm) and
``lr`` (its learning rate) every step, and ``valid/loss`` every
``eval_every`` steps and at the last one; checkpoints at each evaluation and
resumes from ``trial.resume_from``. A run whose loss turns NaN or explodes is
stopped by ``trial.log`` raising ``tunebook.tracking.Diverged``: tunebook
records it as infeasible.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from charlm import batch_at, build_model, evaluate, load_corpus, loss_of
from tunebook.train import clip_grad_norm, lr_scheduler, optimizer_from_params, schedule_from_params

DEFAULTS: dict[str, Any] = {
    # the model (fixed in the specs here)
    "context": 64,
    "d_model": 64,
    "num_layers": 2,
    "num_heads": 4,
    "norm": "post",
    "dropout": 0.0,
    # the optimizer and its schedule (the shared vocabulary)
    "optimizer": "adam",
    "learning_rate": 0.01,
    "beta1": 0.9,
    "beta2": 0.95,
    "eps": 1e-8,
    "schedule": "constant",
    "warmup_steps": 0,
    "grad_clip_norm": 0,
    "batch_size": 32,
    "max_train_steps": 1000,
    "eval_every": 50,
    "seed": 0,
}


def train(params: dict, trial) -> None:
    """Train one configuration to ``max_train_steps``, reporting to ``trial``."""
    torch.set_num_threads(1)  # tunebook runs trials side by side, one core each
    params = {**DEFAULTS, **params}
    seed = int(params["seed"])
    torch.manual_seed(seed)
    corpus = load_corpus()
    model = build_model(corpus.vocab_size, params)
    optimizer = optimizer_from_params(model.parameters(), params)  # optimizer, learning_rate, beta1, beta2, eps
    scheduler = lr_scheduler(optimizer, schedule_from_params(params))  # update s uses schedule(s - 1)
    max_steps, eval_every = int(params["max_train_steps"]), int(params["eval_every"])
    batch_size, context = int(params["batch_size"]), int(params["context"])

    start = 1
    if trial.resume_from is not None:
        start = _restore(trial.resume_from, model, optimizer, scheduler) + 1

    began = time.perf_counter()
    model.train()
    for step in range(start, max_steps + 1):
        lr = optimizer.param_groups[0]["lr"]
        loss = loss_of(model, *batch_at(corpus.train, step, batch_size, context, seed))
        optimizer.zero_grad()
        loss.backward()
        norm = clip_grad_norm(model.parameters(), params.get("grad_clip_norm"))  # unclipped
        optimizer.step()
        scheduler.step()
        metrics = {"train/loss": loss.item(), "grad_norm": norm, "lr": lr}
        evaluating = step % eval_every == 0 or step == max_steps
        if evaluating:
            metrics["valid/loss"] = evaluate(model, corpus.valid, context)
        trial.log(step, metrics)  # raises Diverged on NaN/inf or an exploding loss
        if evaluating:
            print(f"step {step}: train/loss {metrics['train/loss']:.4f} valid/loss {metrics['valid/loss']:.4f} "
                  f"lr {lr:.3g} ({time.perf_counter() - began:.1f} s)", flush=True)
            with trial.checkpoint(step) as path:
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(), "step": step}, path)


def _restore(path: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any) -> int:
    """Load a checkpoint written by ``train``; the step it was taken at."""
    state = torch.load(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    return int(state["step"])


if __name__ == "__main__":
    import tunebook.tracking as tt

    standalone = tt.trial(defaults=DEFAULTS)
    train(standalone.params, standalone)
