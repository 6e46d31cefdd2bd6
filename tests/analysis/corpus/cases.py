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
        ("adam3e-2", dict(lr=3e-2, batch_size=16), ((0, 1), (2, 3), (4, 5))),
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
            _labels(training_loss_increasing="fire", instability="silent"),
            [dict(bug="sign", steps=1500, eval_every=10, log_every=5, seed=seed)], metrics=("train/loss", "valid/loss"),
        ))
    for seed in (0, 1, 2):
        cases.append(Case(
            f"mlp/unshuffled/sgd0.3-s{seed}", "unshuffled",
            "MLP, SGD 0.3, batch 32, the training images sorted by class and never shuffled (39 steps per "
            "epoch), evaluated every 2 steps: the validation curves swing with the epoch (period 39 steps).",
            "valid/error",
            _labels(periodicity="fire", overfitting="silent", training_loss_increasing="silent"),
            [dict(shuffle=False, batch_size=32, optimizer="sgd", lr=0.3, steps=800, eval_every=2, log_every=2,
                  seed=seed)],
        ))
    for seed in (0, 1):
        cases.append(Case(
            f"mlp/shuffled/sgd0.3-s{seed}", "clean",
            "As mlp/unshuffled/sgd0.3 but shuffled every epoch: nothing repeats.",
            "valid/error",
            _labels(overfitting="silent", training_loss_increasing="silent"),
            [dict(batch_size=32, optimizer="sgd", lr=0.3, steps=800, eval_every=2, log_every=2, seed=seed)],
        ))
    for size, seed in ((200, 0), (150, 1)):
        cases.append(Case(
            f"mlp/regularizer/weight-decay-n{size}-s{seed}", "regularizer",
            f"MLP, Adam 1e-3, {size} training images, 1500 steps, scientific weight_decay 0 or 0.1: without "
            "weight decay valid/loss turns up after ~300 steps; with 0.1 it stays flat. Overfitting at the weak "
            "setting of a regularizer under study is expected, not a problem.",
            "valid/loss",
            _labels(overfitting="expected", training_loss_increasing="silent", instability="silent"),
            [dict(train_size=size, steps=1500, eval_every=10, log_every=5, seed=seed, weight_decay=wd)
             for wd in (0.0, 0.1)],
            scientific={"weight_decay": [0.0, 0.1]}, metrics=("train/loss", "valid/loss"),
        ))
    cases.append(Case(
        "mlp/overfit-sweep/batch-size-n150", "overfit",
        "MLP, Adam 1e-3, 150 training images, 1500 steps, scientific batch_size 32 or 64 (not a regularizer): "
        "both overfit, so the comparison is not to be trusted.",
        "valid/loss",
        _labels(overfitting="fire", training_loss_increasing="silent", instability="silent"),
        [dict(train_size=150, steps=1500, eval_every=10, log_every=5, seed=3, batch_size=b) for b in (32, 64)],
        scientific={"batch_size": [32, 64]}, metrics=("train/loss", "valid/loss"),
    ))
    return cases


def _cnn_cases() -> list[Case]:
    cases: list[Case] = []
    for seed in (0, 1):
        cases.append(Case(
            f"cnn/overfit/n200-s{seed}", "overfit",
            "CNN, Adam 1e-3, no regularization, 200 training images, 1000 steps: valid/loss bottoms out near "
            "step 250 and climbs steadily after.",
            "valid/loss",
            _labels(overfitting="fire", training_loss_increasing="silent", instability="silent",
                    still_improving="silent"),
            [dict(model="cnn", train_size=200, steps=1000, eval_every=10, log_every=5, seed=seed)],
            metrics=("train/loss", "valid/loss"),
        ))
        cases.append(Case(
            f"cnn/bug/sign-s{seed}", "bug",
            "CNN, Adam 1e-3, 1000 steps with the sign bug of mlp/bug: the training loss falls for ~50 steps, then "
            "rises steadily from ~1.5 to ~4.",
            "valid/loss",
            _labels(training_loss_increasing="fire", instability="silent"),
            [dict(model="cnn", bug="sign", steps=1000, eval_every=10, log_every=5, seed=seed)],
            metrics=("train/loss", "valid/loss"),
        ))
        cases.append(Case(
            f"cnn/unshuffled/sgd0.1-s{seed}", "unshuffled",
            "CNN, SGD 0.1, batch 32, images sorted by class and never shuffled, evaluated every 2 steps: both "
            "validation curves swing with the epoch (39 steps).",
            "valid/error",
            _labels(periodicity="fire", training_loss_increasing="silent"),
            [dict(model="cnn", shuffle=False, batch_size=32, optimizer="sgd", lr=0.1, steps=800, eval_every=2,
                  log_every=2, seed=seed)],
        ))
    cases.append(Case(
        "cnn/shuffled/sgd0.1-s0", "clean",
        "As cnn/unshuffled/sgd0.1 but shuffled every epoch.",
        "valid/error",
        _labels(training_loss_increasing="silent", overfitting="silent"),
        [dict(model="cnn", batch_size=32, optimizer="sgd", lr=0.1, steps=800, eval_every=2, log_every=2)],
    ))
    for lr in (0.01, 0.02):
        cases.append(Case(
            f"cnn/still-improving/sgd{lr}", "still_improving",
            f"CNN, plain SGD at {lr}, only 300 steps, three seeds: the losses still fall steeply at the end.",
            "valid/loss",
            _labels(still_improving="fire", best_step="fire", saturated_early="silent", overfitting="silent",
                    training_loss_increasing="silent", instability="silent"),
            _seeds(dict(model="cnn", optimizer="sgd", lr=lr, steps=300, eval_every=3, log_every=2), (0, 1, 2)),
            metrics=("train/loss", "valid/loss"),
        ))
    cases.append(Case(
        "cnn/instability/adam1e-2-s0", "instability",
        "CNN, Adam 1e-2, weight decay 1e-3, 1000 steps: near step 570 the training loss jumps from ~1e-3 to ~1 "
        "within a few steps (valid/error with it), then recovers.",
        "valid/error",
        _labels(instability="fire", training_loss_increasing="silent"),
        [dict(model="cnn", lr=1e-2, weight_decay=1e-3, steps=1000, eval_every=10, log_every=5)],
        metrics=("train/loss", "valid/error"),
    ))
    cases.append(Case(
        "cnn/instability/lr-jump-s0", "instability",
        "CNN, Adam 1e-3, the learning rate multiplied by 30 at step 500: the training loss jumps by orders of "
        "magnitude at once.",
        "valid/error",
        _labels(instability="fire"),
        [dict(model="cnn", steps=1000, eval_every=10, log_every=5, lr_jump=(500, 30))],
        metrics=("train/loss", "valid/error"),
    ))
    cases.append(Case(
        "cnn/regularizer/dropout-n200", "regularizer",
        "CNN, Adam 1e-3, weight decay 1e-2, 200 training images, 1000 steps, scientific dropout 0 or 0.5: the "
        "weight decay alone keeps even dropout 0 from overfitting (both valid/loss curves flat and noisy from "
        "step ~300), so there is nothing to report, expected or not.",
        "valid/loss",
        _labels(overfitting="silent", training_loss_increasing="silent"),
        [dict(model="cnn", train_size=200, weight_decay=1e-2, steps=1000, eval_every=10, log_every=5, dropout=d)
         for d in (0.0, 0.5)],
        scientific={"dropout": [0.0, 0.5]}, metrics=("train/loss", "valid/loss"),
    ))
    return cases


def _saturated_cases() -> list[Case]:
    return [Case(
        f"mlp/saturated/adam-cosine-s{seed}", "saturated",
        "MLP, Adam 1e-3 decayed to 0 over 2500 steps (cosine), weight decay 1e-4: valid/error reaches its floor "
        "by ~25 % of training and does not move after (at most a one-image step: no overfitting); the training "
        "loss flattens too.",
        "valid/error",
        _labels(saturated_early="fire", still_improving="silent", instability="silent",
                training_loss_increasing="silent", overfitting="silent"),
        [dict(schedule="cosine", weight_decay=1e-4, steps=2500, eval_every=10, log_every=5, seed=seed)],
        metrics=("train/loss", "valid/error"),
    ) for seed in (0, 1, 2, 3, 4)]


def _charlm_cases() -> list[Case]:
    lm = dict(model="charlm", lr=3e-3, batch_size=16, eval_every=10, log_every=2)
    metrics = ("train/loss", "valid/loss")
    cases: list[Case] = []
    for seed in (0, 1):
        cases.append(Case(
            f"charlm/still-improving/adam3e-3-s{seed}", "still_improving",
            "charlm (post-LN, d_model 32, context 32, batch 16), Adam 3e-3, only 600 steps: valid/loss still "
            "falls steadily at the end.",
            "valid/loss",
            _labels(still_improving="fire", saturated_early="silent", overfitting="silent", instability="silent",
                    training_loss_increasing="silent"),
            [dict(lm, steps=600, seed=seed)], metrics=metrics,
        ))
        cases.append(Case(
            f"charlm/overfit/n5k-s{seed}", "overfit",
            "charlm, Adam 3e-3, only the first 5,000 training characters, 800 steps: valid/loss bottoms out "
            "near step 100 and climbs by more than a nat while train/loss keeps falling.",
            "valid/loss",
            _labels(overfitting="fire", training_loss_increasing="silent", instability="silent",
                    still_improving="silent"),
            [dict(lm, train_size=5000, steps=800, seed=seed)], metrics=metrics,
        ))
        cases.append(Case(
            f"charlm/unshuffled/n20k-s{seed}", "unshuffled",
            "charlm, Adam 3e-3, the first 20,000 training characters read in order, the same order every epoch "
            "(39 steps), evaluated every 4 steps on 2,048 held-out characters: valid/loss swings with the epoch "
            "on top of a clear overfitting rise.",
            "valid/loss",
            _labels(periodicity="fire", overfitting="fire", training_loss_increasing="silent"),
            [dict(lm, shuffle=False, train_size=20000, valid_size=2048, eval_every=4, steps=600, seed=seed)],
            metrics=metrics,
        ))
    cases.append(Case(
        "charlm/shuffled/n20k-s0", "clean",
        "As charlm/unshuffled/n20k but with random windows: nothing periodic, and no overfitting within "
        "600 steps either (valid/loss flat and noisy from step ~100).",
        "valid/loss",
        _labels(training_loss_increasing="silent", overfitting="silent"),
        [dict(lm, train_size=20000, valid_size=2048, eval_every=4, steps=600)], metrics=metrics,
    ))
    cases.append(Case(
        "charlm/instability/lr-jump-s0", "instability",
        "charlm, Adam 3e-3, the learning rate multiplied by 10 at step 300 (post-LN, no warmup): the training "
        "loss jumps at once.",
        "valid/loss",
        _labels(instability="fire"),
        [dict(lm, steps=600, lr_jump=(300, 10))], metrics=metrics,
    ))
    return cases


def _extra_cases() -> list[Case]:
    cases = [Case(
        f"mlp/overfit/n150-s{seed}", "overfit",
        "MLP, Adam 1e-3, no regularization, 150 training images, 1500 steps: valid/loss turns up early and keeps "
        "rising.",
        "valid/loss",
        _labels(overfitting="fire", training_loss_increasing="silent", instability="silent", still_improving="silent"),
        [dict(train_size=150, steps=1500, eval_every=10, log_every=5, seed=seed)], metrics=("train/loss", "valid/loss"),
    ) for seed in (3, 4)]
    cases.append(Case(
        "mlp/bug/sign-sgd", "bug",
        "MLP, SGD 0.05, 1500 steps with the sign bug of mlp/bug: the training loss falls to ~1 by step 200, then "
        "rises steadily to ~2.",
        "valid/loss",
        _labels(training_loss_increasing="fire", instability="silent"),
        [dict(bug="sign", optimizer="sgd", lr=0.05, steps=1500, eval_every=10, log_every=5)],
        metrics=("train/loss", "valid/loss"),
    ))
    cases.append(Case(
        "mlp/regularizer/weight-decay-n300-s2", "regularizer",
        "As mlp/regularizer/weight-decay-n200 with 300 training images.",
        "valid/loss",
        _labels(overfitting="expected", training_loss_increasing="silent", instability="silent"),
        [dict(train_size=300, steps=1500, eval_every=10, log_every=5, seed=2, weight_decay=wd) for wd in (0.0, 0.1)],
        scientific={"weight_decay": [0.0, 0.1]}, metrics=("train/loss", "valid/loss"),
    ))
    cases.append(Case(
        "cnn/clean/cosine-s0", "clean",
        "CNN, Adam 1e-3 decayed to 0 (cosine), dropout 0.3, 800 steps on the full training set.",
        "valid/error",
        _labels(overfitting="silent", instability="silent", training_loss_increasing="silent"),
        [dict(model="cnn", schedule="cosine", dropout=0.3, steps=800, eval_every=10, log_every=4)],
        metrics=("train/loss", "valid/error"),
    ))
    return cases


def _late_variance_cases() -> list[Case]:
    """A high constant learning rate and a small validation set on the CNN and charlm, two seeds; and decayed."""
    cnn = dict(model="cnn", lr=1e-2, batch_size=16, valid_size=100, steps=1000, eval_every=5, log_every=5)
    lm = dict(model="charlm", lr=1e-2, batch_size=16, valid_size=512, steps=400, eval_every=4, log_every=2)
    return [
        Case("cnn/late-variance/lr0.01-s01", "late_variance",
             "CNN, Adam 1e-2 constant, batch 16, valid/error on 100 images, two seeds: to the end the error jumps "
             "between 0 and 8 images from one evaluation to the next; both seeds touch 0.",
             "valid/error", _labels(late_variance="fire", training_loss_increasing="silent"),
             _seeds(cnn, (0, 1)), metrics=("train/loss", "valid/error")),
        Case("cnn/late-variance-decayed/lr0.01-s01", "clean",
             "As cnn/late-variance but the learning rate decays to 0 (cosine): both seeds sit at 0 errors from "
             "step ~500.",
             "valid/error", _labels(late_variance="silent", training_loss_increasing="silent"),
             _seeds({**cnn, "schedule": "cosine"}, (0, 1)), metrics=("train/loss", "valid/error")),
        Case("charlm/still-improving/lr0.01-small-valid-s01", "still_improving",
             "charlm, Adam 1e-2 constant, valid/loss on 512 held-out characters, 400 steps, two seeds: meant "
             "for late variance, but the wiggles (~0.03 nats) are small next to the gap between the seeds "
             "(~0.1) and the curves still fall steadily at the end (not labeled for late_variance).",
             "valid/loss", _labels(still_improving="fire", training_loss_increasing="silent", instability="silent"),
             _seeds(lm, (0, 1)), metrics=("train/loss", "valid/loss")),
        Case("charlm/clean/lr0.01-cosine-s01", "clean",
             "As charlm/still-improving/lr0.01-small-valid with the learning rate decayed to 0 (cosine): smooth "
             "and flat at the end.",
             "valid/loss", _labels(late_variance="silent", training_loss_increasing="silent", instability="silent"),
             _seeds({**lm, "schedule": "cosine"}, (0, 1)), metrics=("train/loss", "valid/loss")),
    ]


CASES: list[Case] = (_mlp_cases() + _saturated_cases() + _cnn_cases() + _charlm_cases() + _extra_cases()
                     + _late_variance_cases())
