"""The training loss: increasing during training (likely a bug), and sudden instability.

Both read the training-loss curve (``train/loss``, else ``train_loss``, else
``loss``) of complete trials; lower is better.

training_loss_increasing. The playbook: "training loss *increasing* during
training usually indicates a bug in the training pipeline". Rule: the last
smoothed point (centred rolling median, see ``curves``) lies above the
lowest smoothed point by more than ``K_RISE`` standard errors of a smoothed
point (noise: the curve's noise model, ``noise``, asked about the stretch
around and after the lowest point, and its ``level_error``, as overfitting
asks them) and by more than ``REL_RISE`` of the smoothed curve's range: the loss
gave back at least a quarter of its range, or never came down and rose. A
noisy but falling or flat curve stays below both margins. The smoothed range
starts half a window (5 % of the points) in, so a loss that fell from 2.3 to
0.002 within that and crept back to 0.05 counts as increasing: typical of a
learning rate too high, hence the WARNING wording below. PROBLEM when the
best trial of some scientific value, or at least half of the complete trials,
show it (a pipeline bug shows everywhere); WARNING when only a few others do
(those may be too-high learning rates rather than a bug).

instability. The playbook (Figure 7b): "a sudden rise in the loss after a
steady decline" means the model likely suffers from optimization
instability. Sudden means abrupt next to the curve's own pace, not merely
large next to its noise: a smooth, sustained rise is many noise units on a
quiet curve, but it is training_loss_increasing alone (a bug to find, where
instability calls for warmup, clipping or a lower learning rate). Rule, for
curves of at least ``SPIKE_POINTS`` (30) points (fewer cannot show a sudden
rise: too few to tell), with ``w`` ~ 2 % of the points (at least 5) and
``local`` ~ 5 % (at least 20): at point t,

- ``before``: the median of the ``w`` points before t; ``after``: the median
  of the ``w`` points from t on (the level the loss rose to, held for at
  least half a window, so one to ``w // 2`` hard batches are not a spike);
  ``jump = after - before``;
- ``pace``: how far the curve itself moves over ``w`` points around t: the
  median over ``local`` positions of the change between consecutive
  ``w``-point medians, taken before t and again after the jump (from
  ``t + w`` on), the larger of the two;
- ``noise``: the noise model's (``noise``) per-point noise of the ``local``
  points before t;
- a spike when ``jump`` exceeds ``K_PACE`` (3) times ``pace``, ``K_SPIKE``
  (4) standard errors of a difference of two ``w``-point medians (1.25 noise
  x sqrt(2 / w): 2.7 noise units for w = 7, 2.2 for w = 11) and
  ``REL_SPIKE`` (10 %) of the progress made so far (the first window's
  median minus the lowest ``before`` yet), after that progress itself
  exceeded ``K_SPIKE`` noise units: a steady decline came first.

What the numbers imply: a linear rise changes by the same amount over every
window, so jump / pace stays near 1 and never fires however quiet the curve;
a rise counts as sudden when it happens within a few windows (~2-6 % of the
points) after and before a slower pace. On a flat noisy stretch, pace is
about 0.5 noise units for ``w`` = 5, so the noise margin decides there.
Measured on falling losses with log-normal per-batch noise and no spike
(150 seeds each): spread 0.05 and 0.2 fire in at most 0.7 % of curves, a
very noisy spread of 0.5 in 3.3 % at 300 points and 0 % at 2,000; the
corpus's real jumps (a charlm learning rate x10 mid-run: 2.4 noise-level
standard errors of a point but 6 of the jump) are found. The reported step is the first point of the window above the
threshold.

WARNING when the best trial of some scientific value has a spike (its result
is shaped by the instability); INFO for other trials only (instability at
learning rates above the best one suggests that fixing it may allow better
training).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from tunebook.analysis.checks.curves import (
    MIN_POINTS, Curve, best_trials, examined_note, examined_trials, rounded, smooth, smoothing_window,
    study_of, too_short, train_loss_metric, trial_curves, trial_names,
)
from tunebook.analysis.checks.noise import noise_model, noise_models, sigmas_before
from tunebook.analysis.checks.rolling import rolling_medians
from tunebook.analysis.data import ExperimentData
from tunebook.analysis.findings import Finding, Severity

TRAINING_CURVES = "Examining the training curves"
UNSTABLE = "Identifying unstable workloads"
K_RISE = 6.0  # standard errors of a smoothed point the end must sit above the lowest point
REL_RISE = 0.25  # ... and the share of the curve's range it must have given back
SPIKE_POINTS = 30
K_SPIKE = 4.0  # standard errors of the jump it must clear (and local noise units the decline before it)
REL_SPIKE = 0.1  # share of the progress so far that a spike must undo
K_PACE = 3.0  # times the curve's own change over a window, before and after, that a spike must exceed


def rise_evidence(curve: Curve) -> dict[str, Any] | None:
    """How far the training loss rose from its lowest smoothed point to the end, if it counts as increasing."""
    if len(curve) < MIN_POINTS:
        return None
    window = smoothing_window(len(curve))
    smoothed = smooth(curve.values, window)
    valid = np.flatnonzero(~np.isnan(smoothed))
    lowest = int(np.nanargmin(smoothed))
    best, end, top = float(smoothed[lowest]), float(smoothed[valid[-1]]), float(np.nanmax(smoothed))
    error = noise_model(curve).level_error(lowest - window, window)
    threshold = max(K_RISE * error if math.isfinite(error) else 0.0, REL_RISE * (top - best))
    if end - best <= threshold:
        return None
    return {
        "trial_id": curve.trial_id, "start": rounded(float(smoothed[valid[0]])), "lowest_step": int(curve.steps[lowest]),
        "lowest": rounded(best), "end": rounded(end), "rise": rounded(end - best), "threshold": rounded(threshold),
    }


def spike_evidence(curve: Curve) -> dict[str, Any] | None:
    """The first sudden rise of the loss (abrupt next to the curve's own pace) after a steady decline, or None."""
    return spike_evidences([curve])[0]


def spike_evidences(curves: Sequence[Curve]) -> list[dict[str, Any] | None]:
    """``spike_evidence`` of each curve; the rolling medians of curves of one length taken in one call each
    (``rolling.rolling_medians``, the same numbers as curve by curve), the rest curve by curve."""
    found: list[dict[str, Any] | None] = [None] * len(curves)
    by_length: dict[int, list[int]] = {}
    for i, curve in enumerate(curves):
        if len(curve) >= SPIKE_POINTS:
            by_length.setdefault(len(curve), []).append(i)
    for n, chosen in by_length.items():
        window, local = max(5, (n // 50) | 1), max(20, n // 20)
        losses = [np.asarray(curves[i].values, dtype=float) for i in chosen]
        levels = rolling_medians(losses, window)  # the median of the window ending at each point
        afters = rolling_medians([loss[::-1] for loss in losses], window, min_periods=window // 2 + 1)
        changes = [np.abs(level - _shift(level, window)) for level in levels]  # moved over one window, ending there
        paces_before = rolling_medians([_shift(change, 1) for change in changes], local, min_periods=local // 2)
        paces_after = rolling_medians([change[::-1] for change in changes], local, min_periods=1)
        noises = sigmas_before(noise_models([curves[i] for i in chosen]), local)
        for i, level, after, before_pace, after_pace, noise in zip(chosen, levels, afters, paces_before, paces_after,
                                                                   noises):
            found[i] = _first_spike(curves[i], window, level, after[::-1], before_pace, after_pace[::-1], noise)
    return found


def _first_spike(curve: Curve, window: int, level: np.ndarray, after: np.ndarray, pace_before: np.ndarray,
                 pace_after_unshifted: np.ndarray, noise: np.ndarray) -> dict[str, Any] | None:
    """``spike_evidence`` from the curve's rolling medians: ``level`` (window ending at each point), ``after``
    (window from each point on), the pace before each point and, not yet shifted, the pace after it; ``noise``:
    the noise of the ``local`` points before each point."""
    before = _shift(level, 1)
    jump = after - before
    reach = 3 * window - 1  # the first change wholly after the jump window [t, t + w)
    pace_after = _shift(pace_after_unshifted, -reach)
    pace_after[np.isnan(pace_after)] = 0.0
    pace = np.maximum(pace_before, pace_after)
    jump_error = noise * 1.2533 * math.sqrt(2.0 / window)  # standard error of a difference of two w-point medians
    floor = _running_min(before)
    progress = float(np.median(curve.values[:window])) - floor
    with np.errstate(invalid="ignore"):
        spikes = ((jump > K_PACE * pace) & (jump > K_SPIKE * jump_error) & (jump > REL_SPIKE * progress)
                  & (progress > K_SPIKE * noise))
    if not spikes.any():
        return None
    at = int(np.argmax(spikes))
    threshold = max(K_SPIKE * jump_error[at], REL_SPIKE * progress[at], K_PACE * pace[at])
    above = curve.values[at:at + window] > before[at] + threshold
    onset = at + int(np.argmax(above)) if above.any() else at
    return {
        "trial_id": curve.trial_id, "step": int(curve.steps[onset]), "floor": rounded(float(before[at])),
        "level_after": rounded(float(after[at])), "local_noise": rounded(float(noise[at])),
        "noise_units": rounded(float(jump[at] / noise[at]) if noise[at] > 0 else math.inf, 3),
        "pace": rounded(float(pace[at])),
        "pace_units": rounded(float(jump[at] / pace[at]) if pace[at] > 0 else math.inf, 3),
    }


def _rise_evidences(curves: Sequence[Curve]) -> list[dict[str, Any] | None]:
    return [rise_evidence(curve) for curve in curves]


def _shift(values: np.ndarray, by: int) -> np.ndarray:
    """``pd.Series(values).shift(by)``: moved ``by`` places later (earlier when negative), NaN where emptied."""
    out = np.full(len(values), np.nan)
    by = max(-len(values), min(by, len(values)))
    if by >= 0:
        out[by:] = values[:len(values) - by]
    else:
        out[:by] = values[-by:]
    return out


def _running_min(values: np.ndarray) -> np.ndarray:
    """``pd.Series(values).cummin()``: the lowest value so far, NaN points skipped (and left NaN)."""
    out = np.fmin.accumulate(values) if len(values) else values.copy()
    out[np.isnan(values)] = np.nan
    return out


def _scan(data: ExperimentData, evidences, check_id: str, needed: int, section: str):
    """(metric, {trial: evidence} where ``evidences`` (of a list of curves, one answer each) fired, best trials,
    complete trials with a curve, a "too few to tell" finding or None)."""
    metric = train_loss_metric(data.curves)
    if metric is None:
        return None, {}, {}, 0, None
    curves = trial_curves(data.curves, metric, examined_trials(data))
    noise_models(list(curves.values()))  # built together, kept for the per-curve evidence
    hits = {tid: ev for tid, ev in zip(curves, evidences(list(curves.values()))) if ev is not None}
    return metric, hits, best_trials(data), len(curves), too_short(check_id, metric, curves.values(), needed, section)


def _where(data: ExperimentData, hits: dict[int, dict], in_best: list[str], best: dict[str, int], checked: int) -> str:
    """Which trials a finding is about, by the names users read."""
    if in_best:
        return "the best trial of " + ", ".join(f"{label} ({data.trial_name(best[label])})" for label in in_best)
    names = ", ".join(data.trial_name(t) for t in sorted(hits)[:5]) + (", ..." if len(hits) > 5 else "")
    return f"{len(hits)} of {checked} complete trials{examined_note(checked, data)} ({names})"


def check_training_loss_increasing(data: ExperimentData) -> list[Finding]:
    """PROBLEM when a best trial's (or most trials') training loss rises over training; WARNING for a few others."""
    metric, hits, best, checked, short = _scan(data, _rise_evidences, "training_loss_increasing", MIN_POINTS,
                                               TRAINING_CURVES)
    if not hits:
        return [short] if short else []
    in_best = [label for label, tid in best.items() if tid in hits]
    severe = bool(in_best) or 2 * len(hits) >= checked
    where = _where(data, hits, in_best, best, checked)
    return [Finding(
        "training_loss_increasing", Severity.PROBLEM if severe else Severity.WARNING,
        f"The training loss ({metric}) increases during training in {where}, which usually indicates a bug "
        "in the training pipeline" + ("." if severe else ", or a learning rate too high for those trials."),
        {"metric": metric, "trials": trial_names(data, [hits[tid] for tid in sorted(hits)]), "checked_trials": checked,
         "best_trials": in_best},
        "Look for a bug in the training pipeline (loss or label handling, data order, a schedule that "
        "raises the learning rate or the regularization) before trusting any comparison.",
        TRAINING_CURVES, study_of(data, hits),
    )]


def check_instability(data: ExperimentData) -> list[Finding]:
    """WARNING when a best trial's training loss spikes after a steady decline; INFO for other trials only."""
    metric, hits, best, checked, short = _scan(data, spike_evidences, "instability", SPIKE_POINTS, UNSTABLE)
    if not hits:
        return [short] if short else []
    in_best = [label for label, tid in best.items() if tid in hits]
    first = hits[best[in_best[0]]] if in_best else hits[min(hits)]
    where = _where(data, hits, in_best, best, checked)
    return [Finding(
        "instability", Severity.WARNING if in_best else Severity.INFO,
        f"Training instability in {where}: the training loss ({metric}) rises suddenly after a steady decline "
        f"(e.g. {data.trial_name(first['trial_id'])} at step {first['step']}: from {first['floor']} to "
        f"{first['level_after']}, {first['noise_units']} times its local noise and {first['pace_units']} times the "
        "curve's own pace before and after).",
        {"metric": metric, "trials": trial_names(data, [hits[tid] for tid in sorted(hits)]), "checked_trials": checked,
         "best_trials": in_best},
        "Apply learning rate warmup (best for early instability) or gradient clipping (early or mid-training); "
        "check that the model uses residual connections and normalization; lower the learning rate only as a "
        "last resort. Instability matters when it forces a learning rate that is too small.",
        UNSTABLE, study_of(data, hits),
    )]
