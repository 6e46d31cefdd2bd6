"""How the training-curve checks read a curve: which metric, whose trials, smoothing and noise.

Every curve check goes through these helpers so that its thresholds mean the
same thing everywhere:

- A ``Curve`` holds one trial's finite points sorted by step, *oriented* so
  that lower is better (a ``max`` metric is negated): "worse" is always "up".
- ``smooth`` is a centred rolling median over about a tenth of the points: it
  follows the trend and ignores single lucky or unlucky evaluations.
- Noise is the business of ``noise`` (one model per curve, asked about the
  stretch a check judges); ``resolution`` gives a metric's quantum and
  ``median_error`` the standard error of a median, for it and the checks.
- ``best_trials`` picks, for each scientific value, the best complete trial
  (``analysis.best.scientific_groups``, shared by every check): the trials
  an isolation plot compares after optimizing away the nuisance
  hyperparameters.
"""

from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from tunebook.analysis.best import ranked, scientific_groups
from tunebook.analysis.checks.rolling import rolling_medians
from tunebook.analysis.curve_index import curve_index
from tunebook.analysis.data import ExperimentData
from tunebook.analysis.findings import Finding, Severity
from tunebook.core.run_spec import DEFAULT_LOSS_METRICS

TRAIN_LOSS_METRICS = DEFAULT_LOSS_METRICS  # what run.divergence.loss defaults to
MIN_POINTS = 8  # fewer points than this cannot tell a trend from noise: checks skip the curve
EXAMINED = 200  # the most complete trials a check over every trial reads (see examined_trials)
TOP_EXAMINED = 5  # ... always including this many best trials of each scientific value
_MEDIAN_EFFICIENCY = 1.2533  # standard error of a median of n normal points: this * sigma / sqrt(n)


@dataclasses.dataclass(frozen=True)
class Curve:
    """One trial's finite points of one metric, sorted by step, oriented so that lower is better."""

    trial_id: int
    steps: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    def between(self, start: float, stop: float) -> np.ndarray:
        """The values whose step lies in this fraction of the curve's step span, e.g. (0.75, 1.0)."""
        first, last = self.steps[0], self.steps[-1]
        low, high = first + start * (last - first), first + stop * (last - first)
        return self.values[(self.steps >= low) & (self.steps <= high)]


def pick_metric(curves: pd.DataFrame, names: Sequence[str]) -> str | None:
    """The first of ``names`` that some trial logged, or None."""
    present = curve_index(curves).metrics
    return next((name for name in names if name in present), None)


def train_loss_metric(curves: pd.DataFrame) -> str | None:
    """The training-loss metric: ``train/loss``, else ``train_loss``, else ``loss``."""
    return pick_metric(curves, TRAIN_LOSS_METRICS)


def orientation(mode: str) -> float:
    """+1 for a ``min`` objective, -1 for ``max``: multiply values by it so that lower is better."""
    return 1.0 if mode == "min" else -1.0


def trial_curves(curves: pd.DataFrame, metric: str, trial_ids: Iterable[int], sign: float = 1.0) -> dict[int, Curve]:
    """Each listed trial's curve of ``metric`` (finite points only); trials without points are left out."""
    index = curve_index(curves)
    out: dict[int, Curve] = {}
    for trial_id in sorted({int(t) for t in trial_ids}):
        found = index.points(trial_id, metric)
        if found is None:
            continue
        steps, values = found
        keep = np.isfinite(values)
        if keep.all():
            out[trial_id] = Curve(trial_id, steps, sign * values)
        elif keep.any():
            out[trial_id] = Curve(trial_id, steps[keep], sign * values[keep])
    return out


def smoothing_window(n: int) -> int:
    """An odd window of about a tenth of the points, at least 3."""
    return max(3, (n // 10) | 1)


def smooth(values: np.ndarray, window: int | None = None) -> np.ndarray:
    """Centred rolling median over full windows only: NaN for the first and last half window.

    Full windows keep every smoothed point equally noisy, so the smoothed
    minimum and the last smoothed point can be compared fairly (a shrunken
    window at the end would lean towards the last points of a falling curve).
    """
    return smooth_all([values], [window])[0]


def smooth_all(arrays: Sequence[np.ndarray], windows: Sequence[int | None] | None = None) -> list[np.ndarray]:
    """``smooth`` of each array (with ``windows``' window, or its default where None), copies.

    Several checks smooth the same curves: each result is kept by the
    curve's values and window (the last ``SMOOTHED_KEPT``); those not kept
    yet are smoothed in one ``rolling_medians`` call per window, the same
    numbers as one by one.
    """
    arrays = [np.ascontiguousarray(values, dtype=float) for values in arrays]
    keys = [(a.tobytes(), w or smoothing_window(len(a))) for a, w in zip(arrays, windows or [None] * len(arrays))]
    found = {key: _SMOOTHED[key] for key in keys if key in _SMOOTHED}
    todo: dict[int, dict[tuple[bytes, int], np.ndarray]] = {}
    for key, values in zip(keys, arrays):
        if key not in found:
            todo.setdefault(key[1], {})[key] = values
    for window, pending in todo.items():
        found.update(zip(pending, rolling_medians(list(pending.values()), window, center=True)))
    for key in keys:
        _SMOOTHED[key] = found[key]
        _SMOOTHED.move_to_end(key)
    while len(_SMOOTHED) > SMOOTHED_KEPT:
        _SMOOTHED.popitem(last=False)
    return [found[key].copy() for key in keys]


SMOOTHED_KEPT = 512  # smoothed curves kept (the checks of one report smooth the same few hundred)
_SMOOTHED: "OrderedDict[tuple[bytes, int], np.ndarray]" = OrderedDict()


def resolution(values: np.ndarray) -> float:
    """The smallest gap between distinct values: the quantum of a metric such as an error rate.

    An error rate on n validation examples moves in steps of 1/n and can sit
    on one value for long stretches, where a noise estimate reads 0; a change
    of one quantum is then no evidence of anything. For a continuous metric
    the gap is tiny and changes nothing.
    """
    distinct = np.unique(np.asarray(values, dtype=float))
    gaps = np.diff(distinct)
    scale = max(float(np.max(np.abs(distinct))), 1e-300) if len(distinct) else 1.0
    gaps = gaps[gaps > 1e-9 * scale]  # float rounding of equal counts is not a gap
    return float(gaps.min()) if len(gaps) else 0.0


def median_error(sigma: float, count: int) -> float:
    """Standard error of the median of ``count`` points with independent noise ``sigma``."""
    return _MEDIAN_EFFICIENCY * sigma / math.sqrt(max(count, 1))


def complete_trials(data: ExperimentData) -> pd.DataFrame:
    """The complete trials: the only ones whose curves describe a finished training run."""
    return data.trials[data.trials["state"] == "complete"]


def examined_trials(data: ExperimentData, limit: int = EXAMINED) -> list[int]:
    """The complete trials a check over every trial reads: all of them, or a bounded spread of them.

    Up to ``limit`` complete trials: all. Beyond that, the best ``TOP_EXAMINED``
    of each scientific value, then trials evenly spaced over the ranking by
    objective (best to worst), so that the share of trials showing a pattern
    is estimated from every part of the sweep and the cost of a check does
    not grow with the number of trials. Checks say when they examined a spread.
    """
    done = [int(t) for t in complete_trials(data)["trial_id"]]
    if len(done) <= limit:
        return done
    chosen = dict.fromkeys(int(t) for g in scientific_groups(data) for t in g.trials["trial_id"].head(TOP_EXAMINED))
    ordered = ranked(data)["trial_id"].astype(int).tolist()
    ordered += sorted(set(done) - set(ordered))  # complete without a finite objective: ranked last
    rest = [t for t in ordered if t not in chosen]
    room = max(limit - len(chosen), 0)
    if room and rest:
        picks = np.unique(np.linspace(0, len(rest) - 1, min(room, len(rest))).round().astype(int))
        chosen.update(dict.fromkeys(rest[i] for i in picks))
    return sorted(chosen)


def examined_note(checked: int, data: ExperimentData) -> str:
    """`` (a spread of N of the M complete trials was examined)`` when a check read a spread, else ``""``."""
    total = len(complete_trials(data))
    return f" (a spread of {checked} of the {total} complete trials was examined)" if checked < total else ""


def best_trials(data: ExperimentData) -> dict[str, int]:
    """The best complete trial of each scientific value (``analysis.best``): label -> trial id, best first."""
    groups = scientific_groups(data)
    sign = orientation(data.objective.mode)
    groups.sort(key=lambda g: sign * float(g.trials["objective"].iloc[0]))
    return {g.label: int(g.trials["trial_id"].iloc[0]) for g in groups}


def study_of(data: ExperimentData, trial_ids: Iterable[int]) -> str | None:
    """The study these trials share, if they share one; None otherwise."""
    studies = set(data.trials.loc[data.trials["trial_id"].isin(list(trial_ids)), "study"])
    return next(iter(studies)) if len(studies) == 1 else None


def trial_names(data: ExperimentData, evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evidence rows with their ``trial_id`` replaced by ``trial``, the name users read (``STUDY/NUMBER``)."""
    return [{"trial": data.trial_name(row["trial_id"]), **{k: v for k, v in row.items() if k != "trial_id"}}
            for row in evidence]


def rounded(value: float, digits: int = 4) -> float | None:
    """A number for evidence: significant digits kept, NaN as None (evidence is JSON)."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def too_short(check_id: str, metric: str, curves: Iterable[Curve], needed: int, section: str) -> Finding | None:
    """One INFO saying "too few to tell" when curves exist but none has ``needed`` points; else None."""
    lengths = [len(c) for c in curves]
    if not lengths or max(lengths) >= needed:
        return None
    return Finding(
        check_id, Severity.INFO,
        f"Too few evaluations to tell: the {metric} curves read by {check_id} have at most {max(lengths)} points, "
        f"and its test needs at least {needed}.",
        {"metric": metric, "points": max(lengths), "needed": needed},
        "Log the curve more often (at regular step intervals) if you want this checked.", section,
    )
