"""Compute-bound or not: are the best trials still improving at the end, or did they saturate early?

The playbook asks of the training curves: "Are the trials still improving at
the end of training?" (then we are in the "compute bound" regime and may
benefit from more training steps or a changed learning rate schedule) and "Has
performance ... saturated long before the final training step?" (then we are
"not compute-bound" and may be able to decrease the number of training steps).

Both look at the best trial of each scientific value, on the objective
metric's curve (the training loss when the objective has no usable curve),
oriented so that lower is better. ``noise`` is the curve's noise model
(``noise``) asked about the stretch both findings judge, from 65 % of the
step span to the end. A curve is judged only if it improved at all: its
smoothed range exceeds ``K_IMPROVED`` noise units; one under ``MIN_POINTS``
(8) points is too short to tell and is not judged.

still_improving: the median of the points at 65-85 % of the step span minus
the median of the last 10 % (the improvement over the last fifth of
training, from ~75 % to ~95 %) exceeds ``K_LATE`` standard errors of that
difference and ``REL_LATE`` of the improvement since a quarter of training
(or since the smoothed curve's steepest descent when that came later, up to
55 %: a curve that starts on a plateau, as plain SGD does, is measured from
where it really started to fall; the median of the points within 10 % of
the span around that point, minus the smoothed best). Measuring against the
improvement since a quarter, not since the first evaluation, keeps the rule
independent of how early the first evaluation came. The shares this gives
(noise-free): an exponential approach with time constant 1/2 of training
16 %, 3/10 10 %, 1/4 7.9 %, 1/5 5.4 %, 1/10 0.6 %; power laws ``t ** -a``
18 % (a->0), 13 % (a=1/2), 9.5 % (a=1), 4.5 % (a=2). So ``REL_LATE`` = 8 %
calls power laws up to a~1 and exponentials slower than ~1/4 of training
still improving. INFO when at least half of the best trials are.

saturated_early: the step where the smoothed curve first comes within
``REL_SATURATION`` of its total improvement (plus ``K_LATE`` standard errors)
of its best smoothed level is at most ``SATURATED_BY`` of the step span, for
every judged best trial, and none is still improving ("consistently", as
the playbook's best-step rule has it). For an exponential approach: a time
constant under ~1/6 of training. So the two findings never come together.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tunebook.analysis.checks.curves import (
    MIN_POINTS, Curve, best_trials, median_error, orientation, rounded, smooth, smoothing_window,
    study_of, too_short, train_loss_metric, trial_curves, trial_names,
)
from tunebook.analysis.checks.noise import noise_model
from tunebook.analysis.data import ExperimentData
from tunebook.analysis.findings import Finding, Severity

SECTION = "Determining the number of steps for each training run"
K_IMPROVED = 5.0  # a curve whose range is under this many noise units did not measurably improve
K_LATE = 4.0  # standard errors a late improvement (or the saturation tolerance) must exceed
REL_LATE = 0.08  # the last fifth's share of the improvement since a quarter of training that is "still improving"
REL_SATURATION = 0.05  # within this share of the total improvement of the best level is "saturated"
SATURATED_BY = 0.5  # saturated "long before the final step": by half of training
LATE_FROM = 0.65  # the stretch both findings judge, from this share of the step span to the end


def _at(curve: Curve, share: float) -> float:
    """The step at ``share`` of the curve's step span."""
    return float(curve.steps[0] + share * (curve.steps[-1] - curve.steps[0]))


def judged_curves(data: ExperimentData) -> tuple[str | None, dict[str, Curve]]:
    """(metric, {scientific value: curve of its best trial}) for the curves long enough to judge."""
    best = best_trials(data)
    sign = orientation(data.objective.mode)
    for metric, metric_sign in ((data.objective.metric, sign), (train_loss_metric(data.curves), 1.0)):
        if metric is None:
            continue
        curves = trial_curves(data.curves, metric, best.values(), metric_sign)
        judged = {label: curves[tid] for label, tid in best.items()
                  if tid in curves and len(curves[tid]) >= MIN_POINTS}
        if judged:
            return metric, judged
    return None, {}


def curve_shape(curve: Curve, sign: float) -> dict[str, Any] | None:
    """Late improvement and saturation step of one curve; None if it never measurably improved."""
    window = smoothing_window(len(curve))
    smoothed = smooth(curve.values, window)
    valid = np.flatnonzero(~np.isnan(smoothed))
    start, lowest = float(smoothed[valid[0]]), int(np.nanargmin(smoothed))
    improvement = start - float(smoothed[lowest])
    noise = noise_model(curve).sigma(int(np.searchsorted(curve.steps, _at(curve, LATE_FROM))))
    if not math.isfinite(noise) or improvement <= K_IMPROVED * noise:
        return None
    at = min(max(_steepest(curve, smoothed, valid), 0.25), 0.55)  # a quarter, or the steepest descent if later
    quarter, late, end = curve.between(at - 0.1, at + 0.1), curve.between(LATE_FROM, 0.85), curve.between(0.9, 1.0)
    late_drop, late_margin = math.nan, math.inf
    if len(quarter) and len(late) and len(end):
        late_drop = float(np.median(late) - np.median(end))
        error = math.hypot(median_error(noise, len(late)), median_error(noise, len(end)))
        late_margin = max(K_LATE * error, REL_LATE * (float(np.median(quarter)) - float(smoothed[lowest])))
    tolerance = REL_SATURATION * improvement + K_LATE * median_error(noise, window)
    reached = valid[smoothed[valid] <= smoothed[lowest] + tolerance][0]
    span = float(curve.steps[-1] - curve.steps[0])
    return {
        "trial_id": curve.trial_id, "start": rounded(sign * start), "best": rounded(sign * smoothed[lowest]),
        "late_improvement": rounded(late_drop), "late_margin": rounded(late_margin),
        "still_improving": bool(late_drop > late_margin),
        "saturated_step": int(curve.steps[reached]), "last_step": int(curve.steps[-1]),
        "saturated_fraction": rounded((curve.steps[reached] - curve.steps[0]) / span if span else 1.0, 3),
    }


def _steepest(curve: Curve, smoothed: np.ndarray, valid: np.ndarray) -> float:
    """Where (as a share of the step span) the smoothed curve falls fastest."""
    if len(valid) < 3:
        return 0.0
    span = float(curve.steps[-1] - curve.steps[0]) or 1.0
    fall = np.diff(smoothed[valid]) / np.maximum(np.diff(curve.steps[valid]), 1e-12)
    return float((curve.steps[valid][int(np.argmin(fall))] - curve.steps[0]) / span)


def _shapes(data: ExperimentData) -> tuple[str | None, dict[str, dict[str, Any]]]:
    metric, curves = judged_curves(data)
    sign = orientation(data.objective.mode) if metric == data.objective.metric else 1.0
    shapes = {label: shape for label, curve in curves.items() if (shape := curve_shape(curve, sign))}
    return metric, shapes


def length_verdict(data: ExperimentData) -> str | None:
    """What the best trials' curves say about the training length: "still_improving" when
    ``check_still_improving`` fires, "saturated" when ``check_saturated_early`` does, None otherwise.

    ``best_step`` reads it so that the checks of this one question never contradict each other.
    """
    if check_still_improving(data):
        return "still_improving"
    return "saturated" if check_saturated_early(data) else None


def check_still_improving(data: ExperimentData) -> list[Finding]:
    """INFO when at least half of the best trials still improve meaningfully over the last fifth of training."""
    metric, shapes = _shapes(data)
    improving = {label: s for label, s in shapes.items() if s["still_improving"]}
    if metric is None:
        short = too_short("still_improving", data.objective.metric, trial_curves(
            data.curves, data.objective.metric, best_trials(data).values()).values(), MIN_POINTS, SECTION)
        return [short] if short else []
    if not shapes or 2 * len(improving) < len(shapes):
        return []
    labels = ", ".join(f"{label} ({data.trial_name(s['trial_id'])})" for label, s in improving.items())
    return [Finding(
        "still_improving", Severity.INFO,
        f"{len(improving)} of {len(shapes)} best trials are still improving at the end of training on "
        f"{metric}: {labels}. This indicates the compute-bound regime.",
        {"metric": metric, "trials": trial_names(data, list(improving.values())), "judged": len(shapes)},
        "Consider increasing the number of training steps (in rounds of increasing length, reserving the "
        "longest runs for launch candidates) or changing the learning rate schedule.",
        SECTION, study_of(data, [s["trial_id"] for s in improving.values()]),
    )]


def check_saturated_early(data: ExperimentData) -> list[Finding]:
    """INFO when every best trial saturated within the first half of training and is flat since."""
    metric, shapes = _shapes(data)
    if not shapes or any(s["saturated_fraction"] > SATURATED_BY or s["still_improving"] for s in shapes.values()):
        return []
    latest = max(shapes.values(), key=lambda s: s["saturated_step"])
    return [Finding(
        "saturated_early", Severity.INFO,
        f"Performance on {metric} saturated long before the final training step: every best trial came within "
        f"{REL_SATURATION:.0%} of its best level by {latest['saturated_fraction']:.0%} of training at the latest "
        f"({data.trial_name(latest['trial_id'])}, step {latest['saturated_step']} of {latest['last_step']}). "
        "This indicates training is not compute-bound.",
        {"metric": metric, "trials": trial_names(data, list(shapes.values())),
         "latest_saturated_step": latest["saturated_step"]},
        "The number of training steps may be decreased (keep one max_train_steps for all trials; when in "
        "doubt, err on the side of training longer, and re-tune the learning rate decay for the new length).",
        SECTION, study_of(data, [s["trial_id"] for s in shapes.values()]),
    )]
