"""A tiny trial function for plan tests: no torch, a training loss shaped by the learning rate schedule.

The loss falls at a rate set by the learning rate until the rate exceeds a
stability limit that grows as training goes on (``0.3 + 0.01 x step``): there
the loss climbs, so a rate that is too high from step 0 diverges (infeasible)
and a warmup that ramps up slowly enough trains stably. ``train/error`` reaches
0 once the loss is below 0.02; ``grad_norm`` follows the loss.
"""

import math
import random

from tunebook.train.schedules import schedule_from_params


def train(params, trial):
    schedule = schedule_from_params(params)
    rng = random.Random(int(params.get("seed", 0)))
    loss = 2.0
    for step in range(schedule.total_steps):
        lr = schedule(step)
        if lr > 0.3 + 0.01 * step:
            loss *= 1.5
        else:
            loss *= math.exp(-0.05 * min(lr, 1.0))
        noisy = loss * (1 + 0.01 * rng.gauss(0, 1))
        trial.log(step, {"train/loss": noisy, "train/error": 0.0 if loss < 0.02 else min(1.0, loss / 2),
                         "grad_norm": loss * (1 + 0.5 * rng.random())})
