"""The training-side toolkit: schedules, the playbook's optimizers, clipping, ghost batch norm, seeds.

    from tunebook.train import Seeds, clip_grad_norm, lr_scheduler, optimizer_from_params, schedule_from_params

    seeds = Seeds.for_host(trial.params["seed"], host_index)  # same init seed everywhere, data seed per host
    torch.manual_seed(seeds.init)
    model = build_model()
    schedule = schedule_from_params(trial.params)            # schedule, learning_rate, max_train_steps, ...
    optimizer = optimizer_from_params(model.parameters(), trial.params)   # optimizer, momentum, beta1, ...
    scheduler = lr_scheduler(optimizer, schedule)
    for step in range(schedule.total_steps):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        grad_norm = clip_grad_norm(model.parameters(), trial.params.get("grad_clip_norm"))
        optimizer.step()
        scheduler.step()
        trial.log(step, {"train/loss": loss.item(), "grad_norm": grad_norm})

``tunebook.train.schedules`` and ``tunebook.train.seeds`` are pure Python and
import without torch. The other names need the ``train`` extra
(``pip install 'tunebook[train]'``); they are loaded on first use, and using
one without torch raises MissingExtraError naming the extra.
"""

from __future__ import annotations

import importlib
from typing import Any

from tunebook.train.schedules import (
    Constant,
    CosineDecay,
    LinearDecay,
    Schedule,
    ScheduleError,
    Warmup,
    schedule_from_params,
    with_warmup,
)
from tunebook.train.seeds import SeedError, Seeds, seeds_for_host

# Names that need torch, and the module holding each (imported on first use).
_TORCH_NAMES = {
    "lr_scheduler": "tunebook.train.scheduler",
    "ScheduleLR": "tunebook.train.scheduler",
    "SGD": "tunebook.train.optimizers",
    "Momentum": "tunebook.train.optimizers",
    "Nesterov": "tunebook.train.optimizers",
    "RMSProp": "tunebook.train.optimizers",
    "Adam": "tunebook.train.optimizers",
    "NAdam": "tunebook.train.optimizers",
    "optimizer_from_params": "tunebook.train.optimizers",
    "OptimizerError": "tunebook.train.optimizers",
    "clip_grad_norm": "tunebook.train.gradients",
    "ClippingError": "tunebook.train.gradients",
    "GhostBatchNorm": "tunebook.train.ghost_batch_norm",
    "GhostBatchNorm1d": "tunebook.train.ghost_batch_norm",
    "GhostBatchNorm2d": "tunebook.train.ghost_batch_norm",
    "GhostBatchNormError": "tunebook.train.ghost_batch_norm",
}

__all__ = [
    "Constant",
    "CosineDecay",
    "LinearDecay",
    "Schedule",
    "ScheduleError",
    "SeedError",
    "Seeds",
    "Warmup",
    "schedule_from_params",
    "seeds_for_host",
    "with_warmup",
    *_TORCH_NAMES,
]


def __getattr__(name: str) -> Any:
    """Load a torch-needing name on first use (MissingExtraError naming the extra if torch is absent)."""
    module = _TORCH_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'tunebook.train' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_TORCH_NAMES))
