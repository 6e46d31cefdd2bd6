"""Read only the curves an analysis reads whole: those of a chosen few trials; of every other curve, its end.

At 10,000 trials of 1,000 steps the report reads the whole curves of only a
few hundred trials: the checks examine a spread of the complete trials
(``checks.curves.examined_trials``) and the best ones, the curves plot draws
the best few and a spread. Of every other trial it needs only whether it
logged a curve and the last step it logged (the best-step check and
histogram): reading every objective curve whole decoded 10 million points
for those two facts.

``read_curves(store, experiment_id, metrics, chooser)`` first reads the last
point of every curve of ``metrics`` (``Store.curve_ends``: 16 bytes per
chunk, no curve decoded), hands that frame to ``chooser`` (so a chooser
asking "which trials have a curve of this metric" gets the answer the whole
frame gives), then reads every curve of the trials ``chooser`` names whole.
The frame returned holds those whole curves and, of every other curve, its
last point (its largest step, and the value logged last there), sorted like
``load_curves``' own: which trial logged which metric, and each curve's last
step and value, read the same as on the whole frame. A chooser must name
every trial whose curves its caller reads beyond their last point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from tunebook.storage.base import Store

__all__ = ["read_curves"]


def read_curves(store: "Store", experiment_id: int, metrics: Sequence[str],
                chooser: Callable[["pd.DataFrame"], Iterable[int]]) -> "pd.DataFrame":
    """The chosen trials' curves of ``metrics`` whole, every other curve's last point (see the module docstring)."""
    ends = store.curve_ends(experiment_id, metrics)
    chosen = sorted({int(t) for t in chooser(ends)})
    whole = store.load_curves(experiment_id=experiment_id, trial_ids=chosen, metrics=metrics)
    return with_ends(whole, ends)


def with_ends(whole: "pd.DataFrame", ends: "pd.DataFrame") -> "pd.DataFrame":
    """``whole`` (a curves frame sorted as ``load_curves``') with each curve of ``ends`` that it lacks: one point
    each, inserted in its sorted place; metric categories are the union of both frames'."""
    import pandas as pd

    names = sorted(set(whole["metric"].cat.categories) | set(ends["metric"].cat.categories))
    whole_key, ends_key = _curve_keys(whole, names), _curve_keys(ends, names)
    missing = np.flatnonzero(~np.isin(ends_key, whole_key))
    at = np.searchsorted(whole_key, ends_key[missing])  # before the next curve's rows: keys stay sorted
    codes = np.insert(_codes(whole, names), at, _codes(ends, names)[missing])
    columns = {
        "trial_id": np.insert(whole["trial_id"].to_numpy(dtype=np.int64), at,
                              ends["trial_id"].to_numpy(dtype=np.int64)[missing]),
        "metric": pd.Categorical.from_codes(codes, categories=names),
        "step": np.insert(whole["step"].to_numpy(dtype=np.int64), at, ends["step"].to_numpy(dtype=np.int64)[missing]),
        "value": np.insert(whole["value"].to_numpy(dtype=float), at, ends["value"].to_numpy(dtype=float)[missing]),
    }
    return pd.DataFrame(columns, columns=list(whole.columns))


def _codes(frame: "pd.DataFrame", names: list[str]) -> np.ndarray:
    """The frame's metric codes in ``names`` (sorted, a superset of the frame's categories)."""
    own = np.searchsorted(names, list(frame["metric"].cat.categories)).astype(np.int32)
    return own[frame["metric"].cat.codes.to_numpy()] if len(frame) else np.zeros(0, dtype=np.int32)


def _curve_keys(frame: "pd.DataFrame", names: list[str]) -> np.ndarray:
    """One int64 per row naming its curve, ordered as the frame's (trial_id, metric) order."""
    return frame["trial_id"].to_numpy(dtype=np.int64) * len(names) + _codes(frame, names)
