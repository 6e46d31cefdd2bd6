"""The corpus's cases: which real runs make each entry, and what an expert reading its curves would raise.

Labels (see ``harness``): ``fire`` (the check must report it), ``silent`` (it
must not), ``expected`` (overfitting of a weak setting of a scientific
regularizer: reported as INFO, not a problem). A check not named is not
judged on that entry: the curves do not settle the question either way.
The labels were set by looking at the curves (``python -m
tests.analysis.corpus.view``), not at what the checks said.

Every curve of every entry is silent for ``periodicity`` except the
deliberately unshuffled loaders': nothing else in these runs repeats with the epoch.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence


@dataclasses.dataclass(frozen=True)
class Case:
    """One corpus entry: its runs (``runs.train_run`` configs), objective metric, labels and a note."""

    id: str
    case: str
    note: str
    metric: str
    labels: Mapping[str, str]
    runs: Sequence[Mapping[str, Any]]
    scientific: Mapping[str, list] | None = None
    metrics: tuple[str, ...] = ("train/loss", "valid/loss", "valid/error")


def _labels(**labels: str) -> dict[str, str]:
    return {"periodicity": "silent", **labels}


def _seeds(run: Mapping[str, Any], seeds: Sequence[int]) -> list[dict[str, Any]]:
    return [{**run, "seed": seed} for seed in seeds]


def _mlp_cases() -> list[Case]:
    cases: list[Case] = []
    for seed, size in ((0, 150), (1, 200), (2, 300)):
        cases.append(Case(
            f"mlp/overfit/n{size}-s{seed}", "overfit",
            f"MLP, Adam 1e-3, no regularization, only {size} training images, 1500 steps: valid/loss turns up "
            "after ~300 steps and keeps rising while train/loss keeps falling.",
            "valid/loss",
            _labels(overfitting="fire", training_loss_increasing="silent", instability="silent",
                    still_improving="silent"),
            [dict(train_size=size, steps=1500, eval_every=10, log_every=5, seed=seed)],
            metrics=("train/loss", "valid/loss"),
        ))
    for name, run, seeds in (
        ("adam1e-2-wd", dict(lr=1e-2, batch_size=16, weight_decay=1e-3), ((0, 1), (2, 3))),
        ("adam3e-2", dict(lr=3e-2, batch_size=16), ((0, 1),)),
    ):
        for pair in seeds:
            base = dict(valid_size=100, steps=1500, eval_every=5, log_every=5, **run)
            burst = name == "adam1e-2-wd"  # bursts of instability near the end: rise or not is arguable there
            cases.append(Case(
                f"mlp/late-variance/{name}-s{pair[0]}{pair[1]}", "late_variance",
                f"MLP, {name}, batch 16, constant learning rate, valid/error on only 100 images, two seeds: "
                "the error keeps jumping by several images to the end, as much as the seeds differ."
                + (" Bursts of instability in the last ~200 steps." if burst else ""),
                "valid/error",
                _labels(late_variance="fire", **({} if burst else {"overfitting": "silent",
                                                                   "training_loss_increasing": "silent"})),
                _seeds(base, pair), metrics=("train/loss", "valid/error"),
            ))
            cases.append(Case(
                f"mlp/late-variance-decayed/{name}-s{pair[0]}{pair[1]}", "clean",
                f"As mlp/late-variance/{name} but the learning rate decays to 0 (cosine): the late noise dies out.",
                "valid/error",
                _labels(late_variance="silent", overfitting="silent", training_loss_increasing="silent"),
                _seeds({**base, "schedule": "cosine"}, pair), metrics=("train/loss", "valid/error"),
            ))
    for name, run in (
        ("adam1e-2-wd-s0", dict(lr=1e-2, weight_decay=1e-3, seed=0)),
        ("adam3e-3-wd-s0", dict(lr=3e-3, weight_decay=1e-3, seed=0)),
        ("adam3e-3-wd-s1", dict(lr=3e-3, weight_decay=1e-3, seed=1)),
    ):
        cases.append(Case(
            f"mlp/instability/{name}", "instability",
            f"MLP, {name}, 2000 steps at a constant learning rate above the stable one: after a steady decline "
            "the training loss jumps by two orders of magnitude within a few steps, then recovers.",
            "valid/error",
            _labels(instability="fire", training_loss_increasing="silent"),
            [dict(steps=2000, eval_every=10, log_every=5, **run)], metrics=("train/loss", "valid/error"),
        ))
    for seed in (0, 1):
        cases.append(Case(
            f"mlp/instability/lr-jump-s{seed}", "instability",
            "MLP, Adam 1e-3, the learning rate multiplied by 30 at step 700: the training loss jumps from "
            "~0.005 to ~5 at once, then settles at ~0.3.",
            "valid/error",
            _labels(instability="fire"),
            [dict(steps=1500, eval_every=10, log_every=5, lr_jump=(700, 30), seed=seed)],
            metrics=("train/loss", "valid/error"),
        ))
    for lr in (0.005, 0.01, 0.02):
        cases.append(Case(
            f"mlp/still-improving/sgd{lr}", "still_improving",
            f"MLP, plain SGD at {lr}, only 600 steps, three seeds: both losses still fall steeply at the end.",
            "valid/loss",
            _labels(still_improving="fire", best_step="fire", saturated_early="silent", overfitting="silent",
                    training_loss_increasing="silent", instability="silent"),
            _seeds(dict(optimizer="sgd", lr=lr, steps=600, eval_every=5, log_every=2), (0, 1, 2)),
            metrics=("train/loss", "valid/loss"),
        ))
    for seed in (0, 1, 2):
        cases.append(Case(
            f"mlp/clean/cosine-s{seed}", "clean",
            "MLP, Adam 1e-3 decayed to 0 (cosine), weight decay 1e-4, 1000 steps on the full training set.",
            "valid/error",
            _labels(overfitting="silent", instability="silent", training_loss_increasing="silent"),
            [dict(schedule="cosine", weight_decay=1e-4, steps=1000, eval_every=10, log_every=4, seed=seed)],
            metrics=("train/loss", "valid/error"),
        ))
    return cases


CASES: list[Case] = _mlp_cases()
