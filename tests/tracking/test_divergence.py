"""``DivergenceCheck``: which values end a trial, and the reasons it gives."""

from __future__ import annotations

import math

from tunebook.tracking.divergence import DivergenceCheck
from tunebook.tracking.protocol import Divergence


def test_nan_and_inf_in_watched_metrics_only() -> None:
    check = DivergenceCheck(Divergence(), "valid/error")
    assert check.watched == {"valid/error", "train/loss", "train_loss", "loss"}
    assert check.reason(4, "valid/error", math.nan) == "valid/error is nan at step 4"
    assert check.reason(5, "loss", -math.inf) == "loss is -inf at step 5"
    assert check.reason(5, "train_loss", math.inf) == "train_loss is inf at step 5"
    assert check.reason(6, "train/loss", 1.0) is None
    assert check.reason(6, "valid/error", 0.2) is None
    assert check.reason(7, "train/accuracy", math.nan) is None  # not watched


def test_explosion_relative_to_the_first_value() -> None:
    check = DivergenceCheck(Divergence(factor=10.0), "valid/error")
    assert check.reason(0, "train/loss", 2.3) is None
    assert check.reason(10, "train/loss", 23.0) is None  # exactly 10x is not above it
    assert check.reason(50, "train/loss", 3.1e4) == (
        "train/loss 3.1e+04 exceeds 10x its first value 2.3 at step 50"
    )
    assert check.reason(60, "valid/error", 1e9) is None  # the objective has no explosion check


def test_explosion_needs_a_positive_first_value_and_a_factor() -> None:
    negative = DivergenceCheck(Divergence(factor=10.0), None)
    assert negative.reason(0, "loss", -1.0) is None
    assert negative.reason(1, "loss", 1e9) is None
    zero = DivergenceCheck(Divergence(factor=10.0), None)
    assert zero.reason(0, "loss", 0.0) is None
    assert zero.reason(1, "loss", 1e9) is None
    off = DivergenceCheck(Divergence(factor=None), None)
    assert off.reason(0, "loss", 1.0) is None
    assert off.reason(1, "loss", 1e9) is None
    assert off.reason(2, "loss", math.nan) == "loss is nan at step 2"


def test_custom_loss_metrics_and_factor() -> None:
    check = DivergenceCheck(Divergence(loss_metrics=("train/xent",), factor=2.5), "valid/acc")
    assert check.watched == {"train/xent", "valid/acc"}
    assert check.reason(0, "train/xent", 1.0) is None
    assert check.reason(0, "loss", math.nan) is None  # 'loss' is not watched here
    assert check.reason(1, "train/xent", 2.6) == "train/xent 2.6 exceeds 2.5x its first value 1 at step 1"
