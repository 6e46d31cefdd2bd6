"""Problematic overfitting: the validation objective gets worse after its best point.

The playbook: "Problematic overfitting occurs when the validation error starts
*increasing* at some point during training", and we must check for it "in *at
least* each of the best trials corresponding to the settings of the scientific
hyperparameters that we're comparing".

Rule, for each complete trial's curve of the objective metric (oriented so
that worse is up, so a ``max`` metric worsens downward):

- at least ``MIN_POINTS`` (8) finite points: fewer cannot tell a rise from
  noise, and the curve is not judged;
- ``best``: the lowest point of the smoothed curve (centred rolling median),
  not the raw minimum, which noise biases low;
- ``end``: the median of the last smoothing window;
- ``noise``: the curve's noise model (``noise``) asked about the stretch
  *around and after* the best point, from a smoothing window before it to the
  end: the stretch the rise is judged on. A curve quiet early and noisy late
  is judged by its late noise, the noise late_variance reads as well;
- problematic overfitting when ``end - best`` exceeds ``K_NOISE`` standard
  errors of a smoothed point (``level_error``: 1.25 noise / sqrt(window) for
  independent noise; noise correlated from point to point, e.g. an error rate
  on 100 validation images that sits on a value then jumps by several images,
  is invisible to second differences, so where the points scatter more than
  that, the scatter over fewer effective points) and ``REL_RANGE`` of the
  smoothed curve's range;
- and at least ``K_QUANTA`` (3) quanta of the metric: a validation error at
  2 % on 540 examples has a binomial standard error of 3.2 examples, so a
  rise of two examples is no evidence;
- and the rise is a trend, not a wander: it exceeds ``K_WANDER`` (7) times
  how far the smoothed curve after the best strays from its own straight
  line (``noise.wander``). A steady rise strays little; a curve that wanders
  (a high constant learning rate: down to its best, back up, down again) is
  late variance, not overfitting, which "starts increasing". On the labeled
  corpus of real runs, overfitting best trials had rise / wander 11 to 37,
  wandering or flat ones 2.9 and 4.8. The smoothed minimum is biased
  low (a minimum over many positions) and a noise estimate from 16 points can
  read half the truth; 7 standard errors (3.9 noise units with a 5-point
  window) keep a clean curve that flattens under noise silent (see the tests'
  fire rates). The range margin keeps a metric with little measured noise
  from firing on a wobble that is tiny next to how far the curve came down.

Severity: PROBLEM when the best trial of some scientific value overfits (the
comparison between scientific values is not to be trusted until the
regularization is fixed); one INFO with counts for the other trials (best-trial
selection favours configurations that regularize, intended or not).

Regularizers (``regularizers``): when a scientific hyperparameter is a
regularizer, overfitting in the best trial of one of its low-strength values is
expected: an INFO quoting the playbook instead of the PROBLEM. The
experiment's regularizers are listed in one more INFO.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tunebook.analysis.checks.curves import (
    MIN_POINTS, Curve, best_trials, examined_note, examined_trials, orientation, rounded, smooth,
    smoothing_window, study_of, too_short, trial_curves, trial_names,
)
from tunebook.analysis.checks.noise import noise_model, noise_models
from tunebook.analysis.checks.regularizers import is_low_strength, regularizers
from tunebook.analysis.data import ExperimentData
from tunebook.analysis.findings import Finding, Severity

SECTION = "Examining the training curves"
K_NOISE = 7.0  # rise from the best to the end, in standard errors of a smoothed point
REL_RANGE = 0.03  # ... and as a share of the smoothed curve's range
K_WANDER = 7.0  # ... and in units of how far the smoothed curve after the best strays from a straight line
K_QUANTA = 3  # ... and at least this many quanta of the metric (3 validation examples for an error rate)
PLAYBOOK_EXCEPTION = (
    "This may not apply if the scientific hyperparameters include regularization parameters, since then it "
    "would not be surprising if low-strength settings of those regularization parameters resulted in "
    "problematic overfitting."
)

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
    model = noise_model(curve)
    noise, scatter, error = model.sigma(lowest - window), model.scatter(lowest - window), model.level_error(
        lowest - window, window)
    span = float(np.nanmax(smoothed) - best)
    threshold = max(K_NOISE * error if np.isfinite(error) else 0.0, REL_RANGE * span)
    rise = end - best
    threshold = max(threshold, K_QUANTA * model.quantum)
    wander = model.wander(smoothed, lowest)
    if rise <= threshold or rise <= 0 or (np.isfinite(wander) and rise <= K_WANDER * wander):
        return None
    return {
        "trial_id": curve.trial_id, "best_step": int(curve.steps[lowest]), "best": rounded(sign * best),
        "end_step": int(curve.steps[-1]), "end": rounded(sign * end), "rise": rounded(rise),
        "noise": rounded(noise), "scatter": rounded(scatter), "wander": rounded(wander),
        "threshold": rounded(threshold),
    }


def weak_regularizers(data: ExperimentData, trial_id: int) -> list[str]:
    """``name=value`` of the scientific regularizers this trial runs at a low-strength setting."""
    known = regularizers(data.experiment)
    row = data.trials.loc[data.trials["trial_id"] == trial_id]
    weak = []
    for hp in data.experiment.space.with_role("scientific"):
        if hp.name in known and hp.id in row.columns and len(row):
            value = row[hp.id].iloc[0]
            if is_low_strength(hp, value):
                weak.append(f"{hp.name}={value}")
    return weak


def check_overfitting(data: ExperimentData) -> list[Finding]:
    """Overfitting in the best trial of each scientific value (PROBLEM, or INFO where a weak regularizer
    explains it), in the others (INFO), and the experiment's regularizers (INFO)."""
    metric, sign = data.objective.metric, orientation(data.objective.mode)
    curves = trial_curves(data.curves, metric, examined_trials(data), sign)
    noise_models(list(curves.values()))  # built together, kept for the per-curve evidence
    hits = {tid: ev for tid, curve in curves.items() if (ev := overfitting_evidence(curve, sign)) is not None}
    best = best_trials(data)
    in_best = [(label, tid) for label, tid in best.items() if tid in hits]
    expected = {tid: weak for _, tid in in_best if (weak := weak_regularizers(data, tid))}
    problems = [(label, tid) for label, tid in in_best if tid not in expected]
    findings = [f for f in [too_short("overfitting", metric, curves.values(), MIN_POINTS, SECTION)] if f]
    if problems:
        findings.append(_best_finding(data, metric, problems, hits, len(best)))
    if expected:
        findings.append(_expected_finding(data, metric, [(l, t) for l, t in in_best if t in expected], hits, expected))
    others = sorted(tid for tid in hits if tid not in best.values())
    if others:
        findings.append(Finding(
            "overfitting", Severity.INFO,
            f"{len(others)} of {len(curves)} complete trials{examined_note(len(curves), data)} (not the best of "
            f"their scientific value) show problematic overfitting on {metric}, e.g. "
            f"{', '.join(data.trial_name(t) for t in others[:5])}. Picking the best trial favours configurations "
            "that regularize more, even by accident (e.g. a smaller learning rate).",
            {"metric": metric, "trials": trial_names(data, [hits[tid] for tid in others]), "checked_trials": len(curves)},
            "Check that the best trials were not chosen for values that merely hobble training; "
            "consider more regularization in the search space.",
            SECTION, study_of(data, others),
        ))
    listed = regularizers(data.experiment)
    if listed:
        findings.append(_regularizers_finding(data, listed))
    return findings


def _best_finding(data: ExperimentData, metric: str, found: list, hits: dict, n_best: int) -> Finding:
    rows = [{"scientific_value": label, **hits[tid]} for label, tid in found]
    labels = ", ".join(f"{label} ({data.trial_name(tid)})" for label, tid in found)
    return Finding(
        "overfitting", Severity.PROBLEM,
        f"Problematic overfitting in the best trial of {len(found)} of {n_best} scientific value(s): {metric} "
        f"gets worse after its best step, beyond its noise: {labels}.",
        {"metric": metric, "best_trials": trial_names(data, rows), "checked_best_trials": n_best},
        _ACTION, SECTION, study_of(data, [tid for _, tid in found]),
    )


def _expected_finding(data: ExperimentData, metric: str, found: list, hits: dict, weak: dict) -> Finding:
    rows = [{"scientific_value": label, **hits[tid], "weak_regularizers": weak[tid]} for label, tid in found]
    labels = ", ".join(f"{label} ({data.trial_name(tid)}: {', '.join(weak[tid])})" for label, tid in found)
    return Finding(
        "overfitting", Severity.INFO,
        f"Overfitting on {metric} in the best trial of low-strength regularization setting(s), as expected: "
        f"{labels}. {PLAYBOOK_EXCEPTION}",
        {"metric": metric, "best_trials": trial_names(data, rows), "expected": True},
        "Nothing to fix for these values: compare them knowing that weak regularization overfits. Overfitting at "
        "strong settings would still need more regularization.",
        SECTION, study_of(data, [tid for _, tid in found]),
    )


def _regularizers_finding(data: ExperimentData, listed: dict[str, str]) -> Finding:
    roles = {hp.name: hp.role for hp in data.experiment.space}
    names = ", ".join(f"{name} ({roles.get(name, '?')}, by {how})" for name, how in listed.items())
    return Finding(
        "overfitting", Severity.INFO,
        f"Regularization hyperparameters: {names}. Overfitting at low-strength settings of a scientific "
        "regularizer is reported as expected.",
        {"regularizers": [{"name": n, "role": roles.get(n), "known_by": how} for n, how in listed.items()]},
        "If this list is wrong, set it in the spec: regularizers: [name, ...] (an empty list for none).",
        SECTION,
    )
