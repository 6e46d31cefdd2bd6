"""The digits task shared by ``train.py`` and ``train_script.py``: data, model, optimizer.

Data: scikit-learn's bundled copy of the UCI optical recognition of handwritten
digits test set (1,797 8x8 images, 10 classes; no download). The validation
split is fixed (stratified 70/30, split seed 0) so every trial is judged on the
same held-out images; features are standardized with train statistics only.

Nothing here knows about tunebook.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch
from torch import nn

HIDDEN_WIDTH = 128
SPLIT_SEED = 0
VALID_FRACTION = 0.3


def load_split() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_valid, y_valid): a fixed stratified split, standardized on train."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(
        x, y, test_size=VALID_FRACTION, stratify=y, random_state=SPLIT_SEED
    )
    mean = x_train.mean(axis=0)
    # pixels run 0..16; one grey level as the floor keeps a border pixel that
    # barely varies in train from turning a validation image into a huge feature
    std = np.maximum(x_train.std(axis=0), 1.0)
    as_x = lambda a: torch.tensor((a - mean) / std, dtype=torch.float32)  # noqa: E731
    as_y = lambda a: torch.tensor(a, dtype=torch.long)  # noqa: E731
    return as_x(x_train), as_y(y_train), as_x(x_valid), as_y(y_valid)


def build_model(num_layers: int, width: int = HIDDEN_WIDTH) -> nn.Module:
    """An MLP with ``num_layers`` hidden ReLU layers of ``width`` units (0 = logistic regression)."""
    layers: list[nn.Module] = []
    fan_in = 64
    for _ in range(num_layers):
        layers += [nn.Linear(fan_in, width), nn.ReLU()]
        fan_in = width
    layers.append(nn.Linear(fan_in, 10))
    return nn.Sequential(*layers)


def build_optimizer(model: nn.Module, params: dict) -> torch.optim.Optimizer:
    """Adam (``beta1``) or SGD with heavy-ball ``momentum``, at ``learning_rate``."""
    name = params.get("optimizer", "adam")
    lr = float(params["learning_rate"])
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, betas=(float(params.get("beta1", 0.9)), 0.999))
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=float(params.get("momentum", 0.0)))
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {name!r}")


def batches(n: int, batch_size: int, seed: int, start_step: int = 1) -> Iterator[tuple[int, torch.Tensor]]:
    """(step, indices) from ``start_step`` on, forever; one shuffle per epoch, partial batch dropped.

    The order is a pure function of (seed, step), so a run resumed at any step
    sees exactly the batches the uninterrupted run would have seen.
    """
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be between 1 and the {n} training examples, got {batch_size}")
    per_epoch = n // batch_size
    step = start_step
    while True:
        epoch, offset = divmod(step - 1, per_epoch)
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
        for k in range(offset, per_epoch):
            yield step, order[k * batch_size:(k + 1) * batch_size]
            step += 1


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean cross-entropy, error rate) on the whole set, in eval mode.

    A model whose outputs are not finite has no defined prediction: its error is NaN.
    """
    model.eval()
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, y).item()
    if torch.isfinite(logits).all():
        error = (logits.argmax(dim=1) != y).float().mean().item()
    else:
        error = float("nan")
    model.train()
    return loss, error
