"""The training loss: increasing during training (likely a bug), and sudden instability.

Both read the training-loss curve (``train/loss``, else ``train_loss``, else
``loss``) of complete trials; lower is better.

training_loss_increasing. The playbook: "training loss *increasing* during
training usually indicates a bug in the training pipeline". Rule: the last
smoothed point (centred rolling median, see ``curves``) lies above the
lowest smoothed point by more than ``K_RISE`` standard errors of a smoothed
point and by more than ``REL_RISE`` of the smoothed curve's range: the loss
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
instability. Rule, for curves of at least ``SPIKE_POINTS`` points (a loss
logged at a few evaluations cannot show a sudden rise), with ``w`` ~ 2 % of
the points (at least 5): at point t,

- ``floor``: the lowest level reached so far, the running minimum of the
  median of the ``w`` points before t;
- ``after``: the median of the ``w`` points from t on: the level the loss
  rose to, sustained, so hard batches (even two or three in a row) are not
  a spike;
- ``noise``: the local per-point noise, the median absolute second
  difference over the ~5 % of points (at least 20) before t;
- a spike when ``after - floor`` exceeds ``K_SPIKE`` (6) local noise units
  and ``REL_SPIKE`` (10 %) of the progress made so far (the first window's
  median minus ``floor``), after that progress itself exceeded ``K_SPIKE``
  noise units: a steady decline came first. The reported step is the first
  point of that window above the threshold.

WARNING when the best trial of some scientific value has a spike (its result
is shaped by the instability); INFO for other trials only (instability at
learning rates above the best one suggests that fixing it may allow better
training).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from tunebook.analysis.checks.curves import (
    MIN_POINTS, Curve, best_trials, examined_note, examined_trials, median_error, rounded, smooth, smoothing_window,
    study_of, tail_noise, train_loss_metric, trial_curves,
)
from tunebook.analysis.data import ExperimentData
from tunebook.analysis.findings import Finding, Severity

TRAINING_CURVES = "Examining the training curves"
UNSTABLE = "Identifying unstable workloads"
K_RISE = 6.0  # standard errors of a smoothed point the end must sit above the lowest point
REL_RISE = 0.25  # ... and the share of the curve's range it must have given back
SPIKE_POINTS = 30
K_SPIKE = 6.0  # local noise units a spike must clear (and the decline before it)
REL_SPIKE = 0.1  # share of the progress so far that a spike must undo
_SIGMA_PER_MEDIAN_D2 = 1.4826 / math.sqrt(6.0)


def rise_evidence(curve: Curve) -> dict[str, Any] | None:
    """How far the training loss rose from its lowest smoothed point to the end, if it counts as increasing."""
    if len(curve) < MIN_POINTS:
        return None
    window = smoothing_window(len(curve))
    smoothed = smooth(curve.values, window)
    valid = np.flatnonzero(~np.isnan(smoothed))
    lowest = int(np.nanargmin(smoothed))
    best, end, top = float(smoothed[lowest]), float(smoothed[valid[-1]]), float(np.nanmax(smoothed))
    noise = tail_noise(curve)
    threshold = max(K_RISE * median_error(noise, window) if math.isfinite(noise) else 0.0, REL_RISE * (top - best))
    if end - best <= threshold:
        return None
    return {
        "trial_id": curve.trial_id, "start": rounded(float(smoothed[valid[0]])), "lowest_step": int(curve.steps[lowest]),
        "lowest": rounded(best), "end": rounded(end), "rise": rounded(end - best), "threshold": rounded(threshold),
    }


def spike_evidence(curve: Curve) -> dict[str, Any] | None:
    """The first sudden, sustained rise of the loss after a steady decline, or None."""
    if len(curve) < SPIKE_POINTS:
        return None
    n = len(curve)
    window, local = max(5, (n // 50) | 1), max(20, n // 20)
    loss = pd.Series(curve.values)
    floor = loss.rolling(window).median().shift(1).cummin()
    after = loss[::-1].rolling(window, min_periods=window // 2 + 1).median()[::-1]
    noise = _SIGMA_PER_MEDIAN_D2 * loss.diff().diff().abs().rolling(local, min_periods=local // 2).median().shift(1)
    progress = float(np.median(curve.values[:window])) - floor
    rise = after - floor
    spikes = (rise > K_SPIKE * noise) & (rise > REL_SPIKE * progress) & (progress > K_SPIKE * noise)
    if not spikes.any():
        return None
    at = int(np.argmax(spikes.to_numpy()))
    threshold = max(K_SPIKE * noise[at], REL_SPIKE * progress[at])
    above = curve.values[at:at + window] > floor[at] + threshold
    onset = at + int(np.argmax(above)) if above.any() else at
    return {
        "trial_id": curve.trial_id, "step": int(curve.steps[onset]), "floor": rounded(float(floor[at])),
        "level_after": rounded(float(after[at])), "local_noise": rounded(float(noise[at])),
        "noise_units": rounded(float(rise[at] / noise[at]) if noise[at] > 0 else math.inf, 3),
    }


def _scan(data: ExperimentData, evidence) -> tuple[str | None, dict[int, dict], dict[str, int], int]:
    """(metric, {trial: evidence} where ``evidence`` fired, best trials, complete trials with a curve)."""
    metric = train_loss_metric(data.curves)
    if metric is None:
        return None, {}, {}, 0
    curves = trial_curves(data.curves, metric, examined_trials(data))
    hits = {tid: ev for tid, curve in curves.items() if (ev := evidence(curve)) is not None}
    return metric, hits, best_trials(data), len(curves)


def check_training_loss_increasing(data: ExperimentData) -> list[Finding]:
    """PROBLEM when a best trial's (or most trials') training loss rises over training; WARNING for a few others."""
    metric, hits, best, checked = _scan(data, rise_evidence)
    if not hits:
        return []
    in_best = [label for label, tid in best.items() if tid in hits]
    severe = bool(in_best) or 2 * len(hits) >= checked
    where = f"the best trial of {', '.join(in_best)}" if in_best else f"{len(hits)} of {checked} complete trials{examined_note(checked, data)}"
    return [Finding(
        "training_loss_increasing", Severity.PROBLEM if severe else Severity.WARNING,
        f"The training loss ({metric}) increases during training in {where}, which usually indicates a bug "
        "in the training pipeline" + ("." if severe else ", or a learning rate too high for those trials."),
        {"metric": metric, "trials": [hits[tid] for tid in sorted(hits)], "checked_trials": checked,
         "best_trials": in_best},
        "Look for a bug in the training pipeline (loss or label handling, data order, a schedule that "
        "raises the learning rate or the regularization) before trusting any comparison.",
        TRAINING_CURVES, study_of(data, hits),
    )]


def check_instability(data: ExperimentData) -> list[Finding]:
    """WARNING when a best trial's training loss spikes after a steady decline; INFO for other trials only."""
    metric, hits, best, checked = _scan(data, spike_evidence)
    if not hits:
        return []
    in_best = [label for label, tid in best.items() if tid in hits]
    first = hits[best[in_best[0]]] if in_best else hits[min(hits)]
    where = f"the best trial of {', '.join(in_best)}" if in_best else f"{len(hits)} of {checked} complete trials{examined_note(checked, data)}"
    return [Finding(
        "instability", Severity.WARNING if in_best else Severity.INFO,
        f"Training instability in {where}: the training loss ({metric}) rises suddenly after a steady decline "
        f"(e.g. trial {first['trial_id']} at step {first['step']}: from {first['floor']} to {first['level_after']}, "
        f"{first['noise_units']} times its local noise).",
        {"metric": metric, "trials": [hits[tid] for tid in sorted(hits)], "checked_trials": checked,
         "best_trials": in_best},
        "Apply learning rate warmup (best for early instability) or gradient clipping (early or mid-training); "
        "check that the model uses residual connections and normalization; lower the learning rate only as a "
        "last resort. Instability matters when it forces a learning rate that is too small.",
        UNSTABLE, study_of(data, hits),
    )]
