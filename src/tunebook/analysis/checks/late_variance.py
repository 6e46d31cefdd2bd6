"""High step-to-step variance of the validation objective late in training.

The playbook: high step-to-step variance late in training "could interfere
with our ability to compare different values of the scientific
hyperparameters (since each trial randomly ends on a "lucky" or "unlucky"
step) and our ability to reproduce the result of the best trial".

Rule, on the objective metric's curves of complete trials:

- the two trials whose comparison decides the conclusion: the best trials of
  the best two scientific values (as in an isolation plot), or, with a single
  scientific value (one study, or none), the top two trials;
- ``gap``: the difference between their objectives;
- each one's late noise: its curve's noise model (``noise``) asked about the
  last ``LATE_FRACTION`` of its points (widened to the model's 16 points):
  the same number overfitting reads for that stretch; curves with fewer than
  ``MIN_POINTS`` (8) points are not judged (too few to tell);
- WARNING when ``gap <= Z * sqrt(noise_1**2 + noise_2**2)``: the difference of
  two values with that noise has that standard deviation, so a gap within
  ``Z`` (1.5) of it is no larger than what landing on a different step could
  produce. For equal noise this is gap <= 2.1 noise units: the late noise is
  comparable to or larger than the difference being judged.

Late noise under ``NEGLIGIBLE`` (0.1 %) of the curve's smoothed range counts
as none (the bend of a smooth curve reads as a trace of noise), and no noise
never fires: a tie without noise is a tie, not variance. A single trial has nothing to compare and is not judged.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tunebook.analysis.best import scientific_groups
from tunebook.analysis.checks.curves import (
    MIN_POINTS, Curve, best_trials, orientation, rounded, smooth, study_of, too_short, trial_curves,
)
from tunebook.analysis.checks.noise import noise_model
from tunebook.analysis.data import ExperimentData
from tunebook.analysis.findings import Finding, Severity

SECTION = "Examining the training curves"
LATE_FRACTION = 0.25  # "late in training": the last quarter of the evaluations
Z = 1.5  # a gap within Z standard deviations of the difference is noise-level
NEGLIGIBLE = 1e-3  # late noise under this share of the curve's range is no variance at all

_ACTION = (
    "Reduce the late step-to-step variance before trusting the comparison: increase the batch size, "
    "obtain more validation data, use learning rate decay, or use Polyak averaging."
)


def compared_trials(data: ExperimentData) -> tuple[str, list[tuple[str, int, float]]]:
    """What is being compared and its two trials: ("scientific values" | "top trials", [(label, id, objective)])."""
    objectives = data.trials.set_index("trial_id")["objective"]
    best = best_trials(data)
    if len(best) >= 2:
        return "scientific values", [(label, tid, float(objectives[tid])) for label, tid in list(best.items())[:2]]
    groups = scientific_groups(data)
    if not groups:
        return "top trials", []
    top = groups[0].trials.head(2)  # ranked, best first
    return "top trials", [(groups[0].label, int(t), float(o)) for t, o in zip(top["trial_id"], top["objective"])]


def late_noise(curve: Curve) -> float:
    """Per-point noise of the last quarter of the curve; 0 when negligible next to the curve's range."""
    sigma = noise_model(curve).measured(len(curve) - math.ceil(LATE_FRACTION * len(curve)))
    smoothed = smooth(curve.values)
    return sigma if sigma > NEGLIGIBLE * float(np.nanmax(smoothed) - np.nanmin(smoothed)) else 0.0


def late_noise_evidence(data: ExperimentData) -> dict[str, Any] | None:
    """The gap being judged and the late noise of the two trials it is between, or None if unjudgeable."""
    kind, pair = compared_trials(data)
    if len(pair) < 2:
        return None
    sign = orientation(data.objective.mode)
    curves = trial_curves(data.curves, data.objective.metric, [tid for _, tid, _ in pair], sign)
    noise = []
    for _, tid, _ in pair:
        curve = curves.get(tid)
        if curve is None:
            return None
        if len(curve) < MIN_POINTS:
            return {"too_short": too_short("late_variance", data.objective.metric, curves.values(), MIN_POINTS,
                                           SECTION)}
        noise.append(late_noise(curve))
    combined = math.hypot(*noise)
    if not math.isfinite(combined):
        return None
    gap = abs(pair[0][2] - pair[1][2])
    return {
        "compared": kind, "metric": data.objective.metric, "gap": rounded(gap), "combined_noise": rounded(combined),
        "trials": [{"label": label, "trial": data.trial_name(tid), "objective": rounded(obj), "late_noise": rounded(n)}
                   for (label, tid, obj), n in zip(pair, noise)],
        "fires": combined > 0 and gap <= Z * combined,
    }


def check_late_variance(data: ExperimentData) -> list[Finding]:
    """WARNING when late step-to-step noise of the objective is comparable to the difference being judged."""
    evidence = late_noise_evidence(data)
    if evidence is not None and "too_short" in evidence:
        return [evidence["too_short"]] if evidence["too_short"] else []
    if evidence is None or not evidence.pop("fires"):
        return []
    first, second = evidence["trials"]
    between = (f"the best two scientific values ({first['label']}, {second['label']})"
               if evidence["compared"] == "scientific values" else "the top two trials")
    message = (
        f"High step-to-step variance of {evidence['metric']} late in training: its late noise "
        f"({first['trial']} and {second['trial']}: {first['late_noise']}, {second['late_noise']}) "
        f"is comparable to the gap of {evidence['gap']} between {between}; each trial may have ended on "
        "a lucky or unlucky step, so the comparison and the best result may not reproduce."
    )
    study = study_of(data, [tid for _, tid, _ in compared_trials(data)[1]])
    return [Finding("late_variance", Severity.WARNING, message, evidence, _ACTION, SECTION, study)]
