"""The in-training API: params in; curves, checkpoints and outcome out.

    import tunebook

    trial = tunebook.trial({"learning_rate": 1e-3, "batch_size": 256})
    model, opt = build(trial.params)
    if trial.resume_from:
        load(trial.resume_from)              # the latest checkpoint of an earlier attempt
    for step in range(trial.resume_step or 0, num_steps):
        loss = train_step(model, opt)
        trial.log(step, {"train/loss": loss})
        if step % 1000 == 0:
            trial.log(step, {"valid/error": evaluate(model)})
            with trial.checkpoint(step) as path:
                save(model, opt, path)       # a file or a folder

Under tunebook the points go to the store and only the N best checkpoints
(by the objective) plus the latest are kept. A NaN or exploding loss ends
the trial as infeasible by raising ``Diverged``. Run without tunebook, the
same script works: ``log`` keeps nothing, checkpoints go to
``./tunebook-checkpoints/``.

Importing this package is cheap (standard library only, well under 100 ms):
no SQLAlchemy, numpy, torch, pandas or plotly.
"""

from __future__ import annotations

from tunebook.tracking.divergence import Diverged
from tunebook.tracking.process import trial
from tunebook.tracking.trial import Trial

__all__ = ["Diverged", "Trial", "trial"]
