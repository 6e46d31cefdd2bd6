"""Read only the curves an analysis reads: the objective's of every trial, the other metrics' of a chosen few.

At 10,000 trials the report reads the objective's curve of every trial (the
last step each logged, for the best-step check and histogram) but the
training loss of only a few hundred: the checks examine a spread of the
complete trials (``checks.curves.examined_trials``) and the best ones, the
curves plot draws the best few and a spread. Reading the training loss of
every trial doubled the load for points nobody looks at.

``read_curves(store, experiment_id, metrics, objective, chooser)`` returns
the frame ``store.load_curves`` would, cut to every curve of the
``objective`` metric and, of the other ``metrics``, the curves of the trials
``chooser(owners)`` names, and of every trial without an objective curve.
``owners`` is a curves frame holding one placeholder point (step 0, NaN)
per curve the store has: which trial logged which metric, read without a
point, so that a chooser asking "which trials have a curve of this metric"
gets the answer the whole frame gives; the trials without an objective
curve (a run that diverged before its first evaluation) are read so that
"which trials have any curve" reads the same on the frame returned. A
metric that none of the chosen trials logged is read whole (whether a
metric was logged at all reads the same as on the whole frame too). Every
curve read is whole, and the frame is sorted like ``load_curves``' own.
A chooser must name every trial whose other curves its caller will read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from tunebook.storage.base import Store

__all__ = ["read_curves"]


def read_curves(store: "Store", experiment_id: int, metrics: Sequence[str], objective: str,
                chooser: Callable[["pd.DataFrame"], Iterable[int]]) -> "pd.DataFrame":
    """The curves of ``metrics`` that the caller reads (see the module docstring), sorted as ``load_curves``'."""
    owners = store.curve_owners(experiment_id, metrics)
    logged: dict[str, set[int]] = {}
    for trial_id, metric in owners:
        logged.setdefault(metric, set()).add(trial_id)
    without_objective = {t for t, _ in owners} - logged.get(objective, set())
    chosen = {int(t) for t in chooser(owners_frame(owners))} | without_objective
    # metrics no chosen trial logged stay whole (absent from ``only``)
    only = {m: chosen for m, trials in logged.items() if m != objective and trials & chosen}
    return store.load_curves(experiment_id=experiment_id, metrics=metrics, only=only or None)


def owners_frame(owners: Sequence[tuple[int, str]]) -> "pd.DataFrame":
    """A curves frame with one point (step 0, value NaN) per (trial, metric) curve, sorted by trial and metric."""
    import pandas as pd

    pairs = sorted(set(owners))
    names = sorted({m for _, m in pairs})
    code_of = {m: code for code, m in enumerate(names)}
    codes = np.array([code_of[m] for _, m in pairs], dtype=np.int32)
    return pd.DataFrame({
        "trial_id": np.array([t for t, _ in pairs], dtype=np.int64),
        "metric": pd.Categorical.from_codes(codes, categories=names),
        "step": np.zeros(len(pairs), dtype=np.int64), "value": np.full(len(pairs), np.nan),
    })
