"""Check ``periodicity``: periodic structure in the validation (or test) curve.

The playbook ("Examining the training curves"): "Periodicity in valid/test
metrics (when using a shuffled train/validation/test split) can indicate
implementation bugs such as test data having overlap with training data, or
training data not being properly shuffled."

Rule, on the objective metric's curve of the best trial of each scientific
value (``periodic_evidence``):

- the curve is put on an even grid of its points (steps interpolated), its
  first ``SKIP`` (10 %) dropped (the fast early descent is all trend);
- detrended: minus a centred moving average over ``W`` = max(9, n / 4) points
  (odd, ``WINDOW_SHARE``), keeping the points with a full window; periods
  from 3 points to W / 2 points (and at most a third of what is left: three
  full cycles) are the candidates: the moving average passes longer ones to
  the trend, so periods over ~12 % of the curve are not examined;
- the periodogram of the residual (Hann taper, read on a grid ``PAD`` times
  finer than the FFT's) at each candidate frequency is compared with its
  *local background*, the median of the periodogram over ``BACKGROUND`` bins
  on each side (the peak's own ``GUARD`` neighbours left out): a ratio of
  powers, so noise whose spectrum is not flat (drift, correlated batches)
  sets its own background;
- periodic when the largest ratio exceeds ``K_PEAK`` (40). Measured
  false-alarm rate per curve on simulated aperiodic curves (an exponential
  decay plus white, AR(1) phi 0.5 and 0.9, heteroscedastic or Student-t(2)
  noise; 60, 120, 250 and 500 points; 300 curves each): at most 0.7 % for
  any kind and length, under 0.1 % over all (the tests check <= 2 % for four
  kinds at 200 points). Power, 200 points, a sine of 1.5 noise units: period
  8 points found 95 % of the time, period 20 points 69 %; of 1.0 noise unit:
  38 % and 15 %; of 2 noise units, period 8: over 95 % (tests).
- Too few to tell: curves with fewer than ``MIN_PERIOD_POINTS`` (40) points
  have too few cycles of any period to separate a peak from its background;
  when every best trial's curve is that short, one INFO says so.

WARNING, with the period in steps (the median step spacing times the period
in points) and the playbook's two likely causes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tunebook.analysis.checks.curves import (
    MIN_POINTS, Curve, best_trials, orientation, rounded, study_of, trial_curves,
)
from tunebook.analysis.data import ExperimentData
from tunebook.analysis.findings import Finding, Severity

ID = "periodicity"
SECTION = "Examining the training curves"
MIN_PERIOD_POINTS = 40
SKIP = 0.10
BACKGROUND = 8  # bins on each side whose median is a peak's background
PAD = 4  # the periodogram is read on a grid this many times finer than the FFT's own
GUARD = 2  # bins next to a peak left out of its background (the taper spreads a peak over them)
MAX_GRID = 2000  # longer curves are averaged in blocks down to at most this many points (periods of 3+ blocks)
K_PEAK = 40.0  # a peak this many times its background is periodic
WINDOW_SHARE = 0.3  # the detrending moving average spans this share of the points
CAUSES = ("test data having overlap with training data, or training data not being properly shuffled")

__all__ = ["check_periodicity", "periodic_evidence", "peak_ratio"]


def peak_ratio(values: np.ndarray) -> tuple[float, float]:
    """(largest periodogram peak / its local background, its period in points) of evenly spaced values.

    NaN ratio when the detrended curve has too few points for a candidate period.
    """
    x = np.asarray(values, dtype=float)
    x = x[int(SKIP * len(x)):]
    window = max(9, int(WINDOW_SHARE * len(x))) | 1
    if len(x) < window + 6:
        return math.nan, math.nan
    trend = np.convolve(x, np.ones(window) / window, mode="valid")
    residual = x[window // 2: window // 2 + len(trend)] - trend
    m = len(residual)
    pad = PAD * m  # a finer frequency grid: a period between two bins keeps its whole peak
    power = np.abs(np.fft.rfft((residual - residual.mean()) * np.hanning(m), pad)) ** 2
    periods = pad / np.maximum(np.arange(len(power)), 1e-9)
    candidates = np.flatnonzero((periods >= 3.0) & (periods <= min(window / 2, m / 3)))
    background = _backgrounds(power, candidates)
    usable = candidates[background > 0]  # NaN (too few bins around) is not > 0
    if not len(usable):
        return math.nan, math.nan
    ratios = power[usable] / background[background > 0]
    best = int(np.argmax(ratios))  # the first of equal peaks, as a scan from the longest frequency would keep
    return float(ratios[best]), float(periods[usable[best]])


def _backgrounds(power: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Each candidate bin's local background: the median of ``power`` over the ``BACKGROUND`` x ``PAD`` bins
    on each side of it, its ``GUARD`` x ``PAD`` neighbours and bin 0 left out; NaN with fewer than
    ``PAD`` x ``BACKGROUND`` such bins (near the ends). All candidates at once: one sort of a small matrix."""
    reach, guard = PAD * (BACKGROUND + GUARD), PAD * GUARD
    offsets = np.r_[-reach:-guard, guard + 1:reach + 1]
    where = candidates[:, None] + offsets[None, :]
    inside = (where >= 1) & (where < len(power))
    around = np.where(inside, power[np.clip(where, 0, len(power) - 1)], np.nan)
    around.sort(axis=1)  # NaN last
    counts = inside.sum(axis=1)
    rows = np.arange(len(candidates))
    median = (around[rows, np.maximum(counts - 1, 0) // 2] + around[rows, np.minimum(counts // 2, around.shape[1] - 1)]) / 2
    median[counts < PAD * BACKGROUND] = np.nan
    return median


def periodic_evidence(curve: Curve) -> dict[str, Any] | None:
    """The period (in steps) and strength of a periodic component, if the curve has one; None otherwise."""
    if len(curve) < MIN_PERIOD_POINTS:
        return None
    grid = np.linspace(curve.steps[0], curve.steps[-1], len(curve))
    values = np.interp(grid, curve.steps, curve.values)
    block = -(-len(values) // MAX_GRID)  # a very long curve is read as means of consecutive blocks
    if block > 1:
        values = values[: len(values) // block * block].reshape(-1, block).mean(axis=1)
        grid = grid[: len(grid) // block * block].reshape(-1, block).mean(axis=1)
    ratio, period = peak_ratio(values)
    if not ratio > K_PEAK:
        return None
    spacing = float(grid[1] - grid[0])
    return {"trial_id": curve.trial_id, "period_steps": rounded(period * spacing, 3),
            "period_points": rounded(period, 3), "peak_ratio": rounded(ratio, 3), "threshold": K_PEAK}


def check_periodicity(data: ExperimentData) -> list[Finding]:
    """WARNING when the best trial of some scientific value has a periodic validation curve."""
    metric, sign = data.objective.metric, orientation(data.objective.mode)
    best = best_trials(data)
    curves = trial_curves(data.curves, metric, best.values(), sign)
    judged = {label: curves[tid] for label, tid in best.items() if tid in curves and len(curves[tid]) >= MIN_POINTS}
    if not judged:
        return []
    long_enough = {label: c for label, c in judged.items() if len(c) >= MIN_PERIOD_POINTS}
    if not long_enough:
        most = max(len(c) for c in judged.values())
        return [Finding(
            ID, Severity.INFO,
            f"Too few evaluations to tell whether {metric} is periodic: the best trials have at most {most} "
            f"points, and at least {MIN_PERIOD_POINTS} are needed to separate a periodic peak from noise.",
            {"metric": metric, "points": most, "needed": MIN_PERIOD_POINTS},
            "Evaluate more often (the playbook: at regular step intervals) if you want this checked.", SECTION,
        )]
    hits = {label: ev for label, c in long_enough.items() if (ev := periodic_evidence(c)) is not None}
    if not hits:
        return []
    rows = [{"scientific_value": label, "trial": data.trial_name(ev["trial_id"]),
             **{k: v for k, v in ev.items() if k != "trial_id"}} for label, ev in hits.items()]
    named = ", ".join(f"{r['scientific_value']} ({r['trial']}: every ~{r['period_steps']:g} steps)" for r in rows)
    return [Finding(
        ID, Severity.WARNING,
        f"Periodic structure in {metric} of the best trial of {named}. Periodicity in valid/test metrics (when "
        f"using a shuffled train/validation/test split) can indicate implementation bugs such as {CAUSES}.",
        {"metric": metric, "trials": rows, "checked_best_trials": len(long_enough)},
        "Check that the validation/test examples do not overlap the training data and that the training data "
        "is reshuffled every epoch; compare the period with the number of steps per epoch.",
        SECTION, study_of(data, [ev["trial_id"] for ev in hits.values()]),
    )]
