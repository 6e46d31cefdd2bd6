"""The CNN's and charlm's cases, more seeds and variants, and the multi-seed best_step groupings."""

from __future__ import annotations

from tests.analysis.corpus.case import Case, labels, seeds


def cnn_cases() -> list[Case]:
    cases: list[Case] = []
    for seed in (0, 1):
        cases.append(Case(
            f"cnn/overfit/n200-s{seed}", "overfit",
            "CNN, Adam 1e-3, no regularization, 200 training images, 1000 steps: valid/loss bottoms out near "
            "step 250 and climbs steadily after.",
            "valid/loss",
            labels(overfitting="fire", training_loss_increasing="silent", instability="silent",
                    still_improving="silent"),
            [dict(model="cnn", train_size=200, steps=1000, eval_every=10, log_every=5, seed=seed)],
            metrics=("train/loss", "valid/loss"),
        ))
        cases.append(Case(
            f"cnn/bug/sign-s{seed}", "bug",
            "CNN, Adam 1e-3, 1000 steps with the sign bug of mlp/bug: the training loss falls for ~50 steps, then "
            "rises steadily from ~1.5 to ~4.",
            "valid/loss",
            labels(training_loss_increasing="fire", instability="silent"),
            [dict(model="cnn", bug="sign", steps=1000, eval_every=10, log_every=5, seed=seed)],
            metrics=("train/loss", "valid/loss"),
        ))
        cases.append(Case(
            f"cnn/unshuffled/sgd0.1-s{seed}", "unshuffled",
            "CNN, SGD 0.1, batch 32, images sorted by class and never shuffled, evaluated every 2 steps: both "
            "validation curves swing with the epoch (39 steps).",
            "valid/error",
            labels(periodicity="fire", training_loss_increasing="silent"),
            [dict(model="cnn", shuffle=False, batch_size=32, optimizer="sgd", lr=0.1, steps=800, eval_every=2,
                  log_every=2, seed=seed)],
        ))
    cases.append(Case(
        "cnn/shuffled/sgd0.1-s0", "clean",
        "As cnn/unshuffled/sgd0.1 but shuffled every epoch.",
        "valid/error",
        labels(training_loss_increasing="silent", overfitting="silent"),
        [dict(model="cnn", batch_size=32, optimizer="sgd", lr=0.1, steps=800, eval_every=2, log_every=2)],
    ))
    for lr in (0.01, 0.02):
        cases.append(Case(
            f"cnn/still-improving/sgd{lr}", "still_improving",
            f"CNN, plain SGD at {lr}, only 300 steps, three seeds: the losses still fall steeply at the end.",
            "valid/loss",
            labels(still_improving="fire", best_step="fire", saturated_early="silent", overfitting="silent",
                    training_loss_increasing="silent", instability="silent"),
            seeds(dict(model="cnn", optimizer="sgd", lr=lr, steps=300, eval_every=3, log_every=2), (0, 1, 2)),
            metrics=("train/loss", "valid/loss"),
        ))
    cases.append(Case(
        "cnn/instability/adam1e-2-s0", "instability",
        "CNN, Adam 1e-2, weight decay 1e-3, 1000 steps: near step 570 the training loss jumps from ~1e-3 to ~1 "
        "within a few steps (valid/error with it), then recovers.",
        "valid/error",
        labels(instability="fire", training_loss_increasing="silent"),
        [dict(model="cnn", lr=1e-2, weight_decay=1e-3, steps=1000, eval_every=10, log_every=5)],
        metrics=("train/loss", "valid/error"),
    ))
    cases.append(Case(
        "cnn/instability/lr-jump-s0", "instability",
        "CNN, Adam 1e-3, the learning rate multiplied by 30 at step 500: the training loss jumps by orders of "
        "magnitude at once.",
        "valid/error",
        labels(instability="fire"),
        [dict(model="cnn", steps=1000, eval_every=10, log_every=5, lr_jump=(500, 30))],
        metrics=("train/loss", "valid/error"),
    ))
    cases.append(Case(
        "cnn/regularizer/dropout-n200", "regularizer",
        "CNN, Adam 1e-3, weight decay 1e-2, 200 training images, 1000 steps, scientific dropout 0 or 0.5: the "
        "weight decay alone keeps even dropout 0 from overfitting (both valid/loss curves flat and noisy from "
        "step ~300), so there is nothing to report, expected or not.",
        "valid/loss",
        labels(overfitting="silent", training_loss_increasing="silent"),
        [dict(model="cnn", train_size=200, weight_decay=1e-2, steps=1000, eval_every=10, log_every=5, dropout=d)
         for d in (0.0, 0.5)],
        scientific={"dropout": [0.0, 0.5]}, metrics=("train/loss", "valid/loss"),
    ))
    return cases


def charlm_cases() -> list[Case]:
    lm = dict(model="charlm", lr=3e-3, batch_size=16, eval_every=10, log_every=2)
    metrics = ("train/loss", "valid/loss")
    cases: list[Case] = []
    for seed in (0, 1):
        cases.append(Case(
            f"charlm/still-improving/adam3e-3-s{seed}", "still_improving",
            "charlm (post-LN, d_model 32, context 32, batch 16), Adam 3e-3, only 600 steps: valid/loss still "
            "falls steadily at the end.",
            "valid/loss",
            labels(still_improving="fire", saturated_early="silent", overfitting="silent", instability="silent",
                    training_loss_increasing="silent"),
            [dict(lm, steps=600, seed=seed)], metrics=metrics,
        ))
        cases.append(Case(
            f"charlm/overfit/n5k-s{seed}", "overfit",
            "charlm, Adam 3e-3, only the first 5,000 training characters, 800 steps: valid/loss bottoms out "
            "near step 100 and climbs by more than a nat while train/loss keeps falling.",
            "valid/loss",
            labels(overfitting="fire", training_loss_increasing="silent", instability="silent",
                    still_improving="silent"),
            [dict(lm, train_size=5000, steps=800, seed=seed)], metrics=metrics,
        ))
        cases.append(Case(
            f"charlm/unshuffled/n20k-s{seed}", "unshuffled",
            "charlm, Adam 3e-3, the first 20,000 training characters read in order, the same order every epoch "
            "(39 steps), evaluated every 4 steps on 2,048 held-out characters: valid/loss swings with the epoch "
            "on top of a clear overfitting rise.",
            "valid/loss",
            labels(periodicity="fire", overfitting="fire", training_loss_increasing="silent"),
            [dict(lm, shuffle=False, train_size=20000, valid_size=2048, eval_every=4, steps=600, seed=seed)],
            metrics=metrics,
        ))
    cases.append(Case(
        "charlm/shuffled/n20k-s0", "clean",
        "As charlm/unshuffled/n20k but with random windows: nothing periodic, and no overfitting within "
        "600 steps either (valid/loss flat and noisy from step ~100).",
        "valid/loss",
        labels(training_loss_increasing="silent", overfitting="silent"),
        [dict(lm, train_size=20000, valid_size=2048, eval_every=4, steps=600)], metrics=metrics,
    ))
    cases.append(Case(
        "charlm/instability/lr-jump-s0", "instability",
        "charlm, Adam 3e-3, the learning rate multiplied by 10 at step 300 (post-LN, no warmup): the training "
        "loss jumps at once.",
        "valid/loss",
        labels(instability="fire"),
        [dict(lm, steps=600, lr_jump=(300, 10))], metrics=metrics,
    ))
    return cases


def extra_cases() -> list[Case]:
    cases = [Case(
        f"mlp/overfit/n150-s{seed}", "overfit",
        "MLP, Adam 1e-3, no regularization, 150 training images, 1500 steps: valid/loss turns up early and keeps "
        "rising.",
        "valid/loss",
        labels(overfitting="fire", training_loss_increasing="silent", instability="silent", still_improving="silent"),
        [dict(train_size=150, steps=1500, eval_every=10, log_every=5, seed=seed)], metrics=("train/loss", "valid/loss"),
    ) for seed in (3, 4)]
    cases.append(Case(
        "mlp/bug/sign-sgd", "bug",
        "MLP, SGD 0.05, 1500 steps with the sign bug of mlp/bug: the training loss falls to ~1 by step 200, then "
        "rises steadily to ~2.",
        "valid/loss",
        labels(training_loss_increasing="fire", instability="silent"),
        [dict(bug="sign", optimizer="sgd", lr=0.05, steps=1500, eval_every=10, log_every=5)],
        metrics=("train/loss", "valid/loss"),
    ))
    cases.append(Case(
        "mlp/regularizer/weight-decay-n300-s2", "regularizer",
        "As mlp/regularizer/weight-decay-n200 with 300 training images.",
        "valid/loss",
        labels(overfitting="expected", training_loss_increasing="silent", instability="silent"),
        [dict(train_size=300, steps=1500, eval_every=10, log_every=5, seed=2, weight_decay=wd) for wd in (0.0, 0.1)],
        scientific={"weight_decay": [0.0, 0.1]}, metrics=("train/loss", "valid/loss"),
    ))
    cases.append(Case(
        "cnn/clean/cosine-s0", "clean",
        "CNN, Adam 1e-3 decayed to 0 (cosine), dropout 0.3, 800 steps on the full training set.",
        "valid/error",
        labels(overfitting="silent", instability="silent", training_loss_increasing="silent"),
        [dict(model="cnn", schedule="cosine", dropout=0.3, steps=800, eval_every=10, log_every=4)],
        metrics=("train/loss", "valid/error"),
    ))
    return cases


def late_variance_cases() -> list[Case]:
    """A high constant learning rate and a small validation set on the CNN and charlm, two seeds; and decayed."""
    cnn = dict(model="cnn", lr=1e-2, batch_size=16, valid_size=100, steps=1000, eval_every=5, log_every=5)
    lm = dict(model="charlm", lr=1e-2, batch_size=16, valid_size=512, steps=400, eval_every=4, log_every=2)
    return [
        Case("cnn/late-variance/lr0.01-s01", "late_variance",
             "CNN, Adam 1e-2 constant, batch 16, valid/error on 100 images, two seeds: to the end the error jumps "
             "between 0 and 8 images from one evaluation to the next; both seeds touch 0.",
             "valid/error", labels(late_variance="fire", training_loss_increasing="silent"),
             seeds(cnn, (0, 1)), metrics=("train/loss", "valid/error")),
        Case("cnn/late-variance-decayed/lr0.01-s01", "clean",
             "As cnn/late-variance but the learning rate decays to 0 (cosine): both seeds sit at 0 errors from "
             "step ~500.",
             "valid/error", labels(late_variance="silent", training_loss_increasing="silent"),
             seeds({**cnn, "schedule": "cosine"}, (0, 1)), metrics=("train/loss", "valid/error")),
        Case("charlm/still-improving/lr0.01-small-valid-s01", "still_improving",
             "charlm, Adam 1e-2 constant, valid/loss on 512 held-out characters, 400 steps, two seeds: meant "
             "for late variance, but the wiggles (~0.03 nats) are small next to the gap between the seeds "
             "(~0.1) and the curves still fall steadily at the end (not labeled for late_variance).",
             "valid/loss", labels(still_improving="fire", training_loss_increasing="silent", instability="silent"),
             seeds(lm, (0, 1)), metrics=("train/loss", "valid/loss")),
        Case("charlm/clean/lr0.01-cosine-s01", "clean",
             "As charlm/still-improving/lr0.01-small-valid with the learning rate decayed to 0 (cosine): smooth "
             "and flat at the end.",
             "valid/loss", labels(late_variance="silent", training_loss_increasing="silent", instability="silent"),
             seeds({**lm, "schedule": "cosine"}, (0, 1)), metrics=("train/loss", "valid/loss")),
    ]


def best_step_cases() -> list[Case]:
    """Three seeds of one configuration in one study, labeled for best_step only (their curves also appear,
    one seed each, in single-run entries, so no other check is counted twice)."""
    def case(name: str, label: str, note: str, run: dict, chosen: tuple[int, ...], metric: str) -> Case:
        return Case(f"{name}-3seeds", "best_step", note, metric, {"best_step": label}, seeds(run, chosen),
                    metrics=("train/loss", metric))

    return [
        case("mlp/best-step/overfit-n150", "fire",
             "The runs of mlp/overfit/n150 (seeds 0, 3, 4) in one study: every best step at 8-10 % of training.",
             dict(train_size=150, steps=1500, eval_every=10, log_every=5), (0, 3, 4), "valid/loss"),
        case("mlp/best-step/clean-cosine", "silent",
             "The runs of mlp/clean/cosine (seeds 0-2) in one study: best steps at 29-41 % of training.",
             dict(schedule="cosine", weight_decay=1e-4, steps=1000, eval_every=10, log_every=4), (0, 1, 2),
             "valid/error"),
        case("mlp/best-step/shuffled-sgd0.3", "silent",
             "SGD 0.3, batch 32, shuffled (mlp/shuffled/sgd0.3, seeds 0-2) in one study: best steps mid-training.",
             dict(batch_size=32, optimizer="sgd", lr=0.3, steps=800, eval_every=2, log_every=2), (0, 1, 2),
             "valid/error"),
        case("cnn/best-step/overfit-n200", "silent",
             "The runs of cnn/overfit/n200 (seeds 0-2) in one study: best steps near 17 % of training, neither "
             "always in the first 10 % nor in the last 25 %.",
             dict(model="cnn", train_size=200, steps=1000, eval_every=10, log_every=5), (0, 1, 2), "valid/loss"),
    ]


def holdout_cases() -> list[Case]:
    """New seeds and nearby settings of the recipes above, added after the checks were tuned on the rest:
    their first score measures how the checks carry over to curves they were not tuned on."""
    vl, ve = ("train/loss", "valid/loss"), ("train/loss", "valid/error")
    no_rise = dict(training_loss_increasing="silent", instability="silent")
    return [
        Case("mlp/overfit/n250-s5", "overfit", "MLP, Adam 1e-3, 250 training images, 1500 steps (held out).",
             "valid/loss", labels(overfitting="fire", still_improving="silent", **no_rise),
             [dict(train_size=250, steps=1500, eval_every=10, log_every=5, seed=5)], metrics=vl),
        Case("cnn/overfit/n150-s2", "overfit", "CNN, Adam 1e-3, 150 training images, 1000 steps (held out).",
             "valid/loss", labels(overfitting="fire", still_improving="silent", **no_rise),
             [dict(model="cnn", train_size=150, steps=1000, eval_every=10, log_every=5, seed=2)], metrics=vl),
        Case("mlp/bug/sign-s5", "bug", "The sign bug of mlp/bug, seed 5, Adam 1e-3, 1200 steps (held out).",
             "valid/loss", labels(training_loss_increasing="fire", instability="silent"),
             [dict(bug="sign", steps=1200, eval_every=10, log_every=4, seed=5)], metrics=vl),
        Case("cnn/bug/sign-s2", "bug", "The sign bug on the CNN, seed 2, 1000 steps (held out).",
             "valid/loss", labels(training_loss_increasing="fire", instability="silent"),
             [dict(model="cnn", bug="sign", steps=1000, eval_every=10, log_every=5, seed=2)], metrics=vl),
        Case("mlp/unshuffled/sgd0.2-s5", "unshuffled",
             "MLP, SGD 0.2, batch 32, sorted by class, never shuffled, evaluated every 3 steps (held out).",
             "valid/error", labels(periodicity="fire", training_loss_increasing="silent"),
             [dict(shuffle=False, batch_size=32, optimizer="sgd", lr=0.2, steps=900, eval_every=3, log_every=3,
                   seed=5)]),
        Case("cnn/unshuffled/sgd0.05-s2", "unshuffled",
             "CNN, SGD 0.05, batch 32, sorted by class, never shuffled, evaluated every 2 steps (held out).",
             "valid/error", labels(periodicity="fire", training_loss_increasing="silent"),
             [dict(model="cnn", shuffle=False, batch_size=32, optimizer="sgd", lr=0.05, steps=800, eval_every=2,
                   log_every=2, seed=2)]),
        Case("mlp/instability/lr-jump-at900-s5", "instability",
             "MLP, Adam 1e-3, the learning rate x20 at step 900 of 1500 (held out).",
             "valid/error", labels(instability="fire"),
             [dict(steps=1500, eval_every=10, log_every=5, lr_jump=(900, 20), seed=5)], metrics=ve),
        Case("mlp/late-variance/adam3e-2-s67", "late_variance",
             "MLP, Adam 3e-2 constant, batch 16, valid/error on 100 images, seeds 6 and 7 (held out).",
             "valid/error", labels(late_variance="fire", overfitting="silent", training_loss_increasing="silent"),
             seeds(dict(lr=3e-2, batch_size=16, valid_size=100, steps=1500, eval_every=5, log_every=5), (6, 7)),
             metrics=ve),
        Case("mlp/late-variance-decayed/adam3e-2-s67", "clean",
             "As mlp/late-variance/adam3e-2-s67 with the learning rate decayed to 0 (held out).",
             "valid/error", labels(late_variance="silent", overfitting="silent", training_loss_increasing="silent"),
             seeds(dict(lr=3e-2, batch_size=16, valid_size=100, steps=1500, eval_every=5, log_every=5,
                        schedule="cosine"), (6, 7)), metrics=ve),
        Case("mlp/still-improving/sgd0.0075", "still_improving",
             "MLP, plain SGD at 0.0075, 500 steps, seeds 5-7 (held out).",
             "valid/loss", labels(still_improving="fire", best_step="fire", saturated_early="silent",
                                  overfitting="silent", **no_rise),
             seeds(dict(optimizer="sgd", lr=0.0075, steps=500, eval_every=5, log_every=2), (5, 6, 7)), metrics=vl),
        Case("mlp/saturated/adam-cosine-s5", "saturated",
             "MLP, Adam 1e-3 decayed to 0 over 2500 steps, weight decay 1e-4, seed 5 (held out): flat from ~20 % "
             "of training, 3 images above a lucky low near step 300 (not labeled for overfitting: arguable).",
             "valid/error", labels(saturated_early="fire", still_improving="silent", **no_rise),
             [dict(schedule="cosine", weight_decay=1e-4, steps=2500, eval_every=10, log_every=5, seed=5)],
             metrics=ve),
        Case("mlp/regularizer/weight-decay-n250-s5", "regularizer",
             "MLP, 250 training images, scientific weight_decay 0 or 0.1, seed 5 (held out).",
             "valid/loss", labels(overfitting="expected", **no_rise),
             [dict(train_size=250, steps=1500, eval_every=10, log_every=5, seed=5, weight_decay=wd)
              for wd in (0.0, 0.1)], scientific={"weight_decay": [0.0, 0.1]}, metrics=vl),
        Case("charlm/overfit/n8k-s2", "overfit",
             "charlm, Adam 3e-3, the first 8,000 training characters, 800 steps, seed 2 (held out).",
             "valid/loss", labels(overfitting="fire", still_improving="silent", **no_rise),
             [dict(model="charlm", lr=3e-3, batch_size=16, eval_every=10, log_every=2, train_size=8000, steps=800,
                   seed=2)], metrics=vl),
        Case("mlp/clean/cosine-s5", "clean",
             "MLP, Adam 1e-3 decayed to 0 (cosine), weight decay 1e-4, 1000 steps, seed 5 (held out).",
             "valid/error", labels(overfitting="silent", **no_rise),
             [dict(schedule="cosine", weight_decay=1e-4, steps=1000, eval_every=10, log_every=4, seed=5)],
             metrics=ve),
    ]
