"""Problematic overfitting: the validation objective gets worse after its best point.

The playbook: "Problematic overfitting occurs when the validation error starts
*increasing* at some point during training", and we must check for it "in *at
least* each of the best trials corresponding to the settings of the scientific
hyperparameters that we're comparing".

Rule, for each complete trial's curve of the objective metric (oriented so
that worse is up, so a ``max`` metric worsens downward):

- at least ``MIN_POINTS`` finite points;
- ``best``: the lowest point of the smoothed curve (centred rolling median),
  not the raw minimum, which noise biases low;
- ``end``: the median of the last smoothing window;
- ``noise``: the per-point noise of the last half of the curve (median
  absolute second difference, at least the metric's quantum; see ``curves``);
- problematic overfitting when ``end - best`` exceeds both ``K_NOISE``
  standard errors of a smoothed point (1.25 noise / sqrt(window)) and
  ``REL_RANGE`` of the smoothed curve's range. The smoothed minimum is biased
  low (a minimum over many positions) and the noise estimate from a few dozen
  differences can read half the truth; 7 standard errors (3.9 noise units
  with a 5-point window) keep a clean curve that flattens under noise silent
  in all but <= 0.3 % of trials (measured over 2,000 seeds, 20 to 200 points).
  The range margin keeps a metric with little measured noise from firing on
  a wobble that is tiny next to how far the curve came down.

Severity: PROBLEM when the best trial of some scientific value overfits (the
comparison between scientific values is not to be trusted until the
regularization is fixed); one INFO with counts for the other trials (best-trial
selection favours configurations that regularize, intended or not).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tunebook.analysis.checks.curves import (
    MIN_POINTS, Curve, best_trials, examined_note, examined_trials, median_error, orientation, rounded, smooth,
    smoothing_window, study_of, tail_noise, trial_curves,
)
from tunebook.analysis.data import ExperimentData
from tunebook.analysis.findings import Finding, Severity

SECTION = "Examining the training curves"
K_NOISE = 7.0  # rise from the best to the end, in standard errors of a smoothed point
REL_RANGE = 0.03  # ... and as a share of the smoothed curve's range

_ACTION = (
    "Re-run with additional regularization (dropout, label smoothing, weight decay) or better tuned "
    "regularization hyperparameters before comparing the scientific values, unless a scientific "
    "hyperparameter is itself a regularizer, where overfitting at weak settings is expected."
)


def overfitting_evidence(curve: Curve, sign: float) -> dict[str, Any] | None:
    """How far the curve rose after its best point, if it is problematic overfitting; None otherwise."""
    if len(curve) < MIN_POINTS:
        return None
    window = smoothing_window(len(curve))
    smoothed = smooth(curve.values, window)
    lowest = int(np.nanargmin(smoothed))
    best, end = float(smoothed[lowest]), float(np.median(curve.values[-window:]))
    noise = tail_noise(curve)
    span = float(np.nanmax(smoothed) - best)
    threshold = max(K_NOISE * median_error(noise, window) if np.isfinite(noise) else 0.0, REL_RANGE * span)
    rise = end - best
    if rise <= threshold or rise <= 0:
        return None
    return {
        "trial_id": curve.trial_id, "best_step": int(curve.steps[lowest]), "best": rounded(sign * best),
        "end_step": int(curve.steps[-1]), "end": rounded(sign * end), "rise": rounded(rise),
        "noise": rounded(noise), "threshold": rounded(threshold),
    }


def check_overfitting(data: ExperimentData) -> list[Finding]:
    """Problematic overfitting in the best trial of each scientific value (PROBLEM) and in the others (INFO)."""
    metric, sign = data.objective.metric, orientation(data.objective.mode)
    curves = trial_curves(data.curves, metric, examined_trials(data), sign)
    hits = {tid: ev for tid, curve in curves.items() if (ev := overfitting_evidence(curve, sign)) is not None}
    best = best_trials(data)
    worst_best = [{"scientific_value": label, **hits[tid]} for label, tid in best.items() if tid in hits]
    others = sorted(tid for tid in hits if tid not in best.values())
    findings = []
    if worst_best:
        labels = ", ".join(f"{e['scientific_value']} (trial {e['trial_id']})" for e in worst_best)
        findings.append(Finding(
            "overfitting", Severity.PROBLEM,
            f"Problematic overfitting in the best trial of {len(worst_best)} of {len(best)} scientific "
            f"value(s): {metric} gets worse after its best step, beyond its noise: {labels}.",
            {"metric": metric, "best_trials": worst_best, "checked_best_trials": len(best)},
            _ACTION, SECTION, study_of(data, [e["trial_id"] for e in worst_best]),
        ))
    if others:
        findings.append(Finding(
            "overfitting", Severity.INFO,
            f"{len(others)} of {len(curves)} complete trials{examined_note(len(curves), data)} (not the best of "
            "their scientific value) show "
            f"problematic overfitting on {metric}. Picking the best trial favours configurations that "
            "regularize more, even by accident (e.g. a smaller learning rate).",
            {"metric": metric, "trials": [hits[tid] for tid in others], "checked_trials": len(curves)},
            "Check that the best trials were not chosen for values that merely hobble training; "
            "consider more regularization in the search space.",
            SECTION, study_of(data, others),
        ))
    return findings
