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

from tests.analysis.corpus.case import Case, labels, seeds
from tests.analysis.corpus.cases_more import (
    best_step_cases, charlm_cases, cnn_cases, extra_cases, holdout_cases, late_variance_cases,
)


def _mlp_cases() -> list[Case]:
    cases: list[Case] = []
    for seed, size in ((0, 150), (1, 200), (2, 300)):
        cases.append(Case(
            f"mlp/overfit/n{size}-s{seed}", "overfit",
            f"MLP, Adam 1e-3, no regularization, only {size} training images, 1500 steps: valid/loss turns up "
            "after ~300 steps and keeps rising while train/loss keeps falling.",
            "valid/loss",
            labels(overfitting="fire", training_loss_increasing="silent", instability="silent",
                    still_improving="silent"),
            [dict(train_size=size, steps=1500, eval_every=10, log_every=5, seed=seed)],
            metrics=("train/loss", "valid/loss"),
        ))
    for name, run, pairs in (
        ("adam1e-2-wd", dict(lr=1e-2, batch_size=16, weight_decay=1e-3), ((0, 1), (2, 3))),
        ("adam3e-2", dict(lr=3e-2, batch_size=16), ((0, 1), (2, 3), (4, 5))),
    ):
        for pair in pairs:
            base = dict(valid_size=100, steps=1500, eval_every=5, log_every=5, **run)
            burst = name == "adam1e-2-wd"  # bursts of instability near the end: rise or not is arguable there
            cases.append(Case(
                f"mlp/late-variance/{name}-s{pair[0]}{pair[1]}", "late_variance",
                f"MLP, {name}, batch 16, constant learning rate, valid/error on only 100 images, two seeds: "
                "the error keeps jumping by several images to the end, as much as the seeds differ."
                + (" Bursts of instability in the last ~200 steps." if burst else ""),
                "valid/error",
                labels(late_variance="fire", **({} if burst else {"overfitting": "silent",
                                                                   "training_loss_increasing": "silent"})),
                seeds(base, pair), metrics=("train/loss", "valid/error"),
            ))
            cases.append(Case(
                f"mlp/late-variance-decayed/{name}-s{pair[0]}{pair[1]}", "clean",
                f"As mlp/late-variance/{name} but the learning rate decays to 0 (cosine): the late noise dies out.",
                "valid/error",
                labels(late_variance="silent", overfitting="silent", training_loss_increasing="silent"),
                seeds({**base, "schedule": "cosine"}, pair), metrics=("train/loss", "valid/error"),
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
            labels(instability="fire", training_loss_increasing="silent"),
            [dict(steps=2000, eval_every=10, log_every=5, **run)], metrics=("train/loss", "valid/error"),
        ))
    for seed in (0, 1):
        cases.append(Case(
            f"mlp/instability/lr-jump-s{seed}", "instability",
            "MLP, Adam 1e-3, the learning rate multiplied by 30 at step 700: the training loss jumps from "
            "~0.005 to ~5 at once, then settles at ~0.3.",
            "valid/error",
            labels(instability="fire"),
            [dict(steps=1500, eval_every=10, log_every=5, lr_jump=(700, 30), seed=seed)],
            metrics=("train/loss", "valid/error"),
        ))
    for lr in (0.005, 0.01, 0.02):
        cases.append(Case(
            f"mlp/still-improving/sgd{lr}", "still_improving",
            f"MLP, plain SGD at {lr}, only 600 steps, three seeds: both losses still fall steeply at the end.",
            "valid/loss",
            labels(still_improving="fire", best_step="fire", saturated_early="silent", overfitting="silent",
                    training_loss_increasing="silent", instability="silent"),
            seeds(dict(optimizer="sgd", lr=lr, steps=600, eval_every=5, log_every=2), (0, 1, 2)),
            metrics=("train/loss", "valid/loss"),
        ))
    for seed in (0, 1, 2):
        cases.append(Case(
            f"mlp/clean/cosine-s{seed}", "clean",
            "MLP, Adam 1e-3 decayed to 0 (cosine), weight decay 1e-4, 1000 steps on the full training set.",
            "valid/error",
            labels(overfitting="silent", instability="silent", training_loss_increasing="silent"),
            [dict(schedule="cosine", weight_decay=1e-4, steps=1000, eval_every=10, log_every=4, seed=seed)],
            metrics=("train/loss", "valid/error"),
        ))
    return cases + _mlp_more_cases()


def _mlp_more_cases() -> list[Case]:
    cases: list[Case] = []
    for seed in (0, 1, 2):
        cases.append(Case(
            f"mlp/bug/sign-s{seed}", "bug",
            "MLP, Adam 1e-3, 1500 steps with a sign bug: the update descends the probability of the right "
            "answer for digits 0 and 1. The training loss falls for ~100 steps, then rises steadily from ~1 to "
            "~2.5 (no jump).",
            "valid/loss",
            labels(training_loss_increasing="fire", instability="silent"),
            [dict(bug="sign", steps=1500, eval_every=10, log_every=5, seed=seed)], metrics=("train/loss", "valid/loss"),
        ))
    for seed in (0, 1, 2):
        cases.append(Case(
            f"mlp/unshuffled/sgd0.3-s{seed}", "unshuffled",
            "MLP, SGD 0.3, batch 32, the training images sorted by class and never shuffled (39 steps per "
            "epoch), evaluated every 2 steps: the validation curves swing with the epoch (period 39 steps).",
            "valid/error",
            labels(periodicity="fire", overfitting="silent", training_loss_increasing="silent"),
            [dict(shuffle=False, batch_size=32, optimizer="sgd", lr=0.3, steps=800, eval_every=2, log_every=2,
                  seed=seed)],
        ))
    for seed in (0, 1):
        cases.append(Case(
            f"mlp/shuffled/sgd0.3-s{seed}", "clean",
            "As mlp/unshuffled/sgd0.3 but shuffled every epoch: nothing repeats.",
            "valid/error",
            labels(overfitting="silent", training_loss_increasing="silent"),
            [dict(batch_size=32, optimizer="sgd", lr=0.3, steps=800, eval_every=2, log_every=2, seed=seed)],
        ))
    for size, seed in ((200, 0), (150, 1)):
        cases.append(Case(
            f"mlp/regularizer/weight-decay-n{size}-s{seed}", "regularizer",
            f"MLP, Adam 1e-3, {size} training images, 1500 steps, scientific weight_decay 0 or 0.1: without "
            "weight decay valid/loss turns up after ~300 steps; with 0.1 it stays flat. Overfitting at the weak "
            "setting of a regularizer under study is expected, not a problem.",
            "valid/loss",
            labels(overfitting="expected", training_loss_increasing="silent", instability="silent"),
            [dict(train_size=size, steps=1500, eval_every=10, log_every=5, seed=seed, weight_decay=wd)
             for wd in (0.0, 0.1)],
            scientific={"weight_decay": [0.0, 0.1]}, metrics=("train/loss", "valid/loss"),
        ))
    cases.append(Case(
        "mlp/overfit-sweep/batch-size-n150", "overfit",
        "MLP, Adam 1e-3, 150 training images, 1500 steps, scientific batch_size 32 or 64 (not a regularizer): "
        "both overfit, so the comparison is not to be trusted.",
        "valid/loss",
        labels(overfitting="fire", training_loss_increasing="silent", instability="silent"),
        [dict(train_size=150, steps=1500, eval_every=10, log_every=5, seed=3, batch_size=b) for b in (32, 64)],
        scientific={"batch_size": [32, 64]}, metrics=("train/loss", "valid/loss"),
    ))
    return cases


def _saturated_cases() -> list[Case]:
    return [Case(
        f"mlp/saturated/adam-cosine-s{seed}", "saturated",
        "MLP, Adam 1e-3 decayed to 0 over 2500 steps (cosine), weight decay 1e-4: valid/error reaches its floor "
        "by ~25 % of training and does not move after (at most a one-image step: no overfitting); the training "
        "loss flattens too.",
        "valid/error",
        labels(saturated_early="fire", still_improving="silent", instability="silent",
                training_loss_increasing="silent", overfitting="silent"),
        [dict(schedule="cosine", weight_decay=1e-4, steps=2500, eval_every=10, log_every=5, seed=seed)],
        metrics=("train/loss", "valid/error"),
    ) for seed in (0, 1, 2, 3, 4)]


CASES: list[Case] = (_mlp_cases() + _saturated_cases() + cnn_cases() + charlm_cases() + extra_cases()
                     + late_variance_cases() + best_step_cases() + holdout_cases())
