"""Gradient norms: the playbook's clipping threshold, and clipping so aggressive it is a learning rate cut.

The playbook ("Gradient clipping"): log the unclipped gradient norm, "choose a
gradient clipping threshold based on the 90th percentile of gradient norms",
and "if we find ourselves using extremely aggressive clipping, we probably
should just cut the learning rate instead"; ">50% of the updates getting
clipped" counts as extremely aggressive.

Rules, when a ``grad_norm`` (or ``train/grad_norm``) curve is logged by
complete trials:

- the threshold is ``clipping_threshold`` (the p90) of the gradient norms
  pooled over the complete trials (``examined_trials``: a bounded spread of
  them in very large sweeps): the typical norm of the configurations
  the study could train. One INFO gives it, with each best trial's own p90
  and share of steps above the threshold.
- WARNING when, for the best trial of some scientific value, more than
  ``AGGRESSIVE`` (50 %) of its late updates (last ``1 - LATE_FROM`` of its
  steps) have a norm above that threshold: clipping there would be extremely
  aggressive, i.e. a strange way of lowering its learning rate. Other trials
  over the line are counted in the INFO only: a sweep always has trials whose
  norms dwarf the typical one.

A single trial's own p90 can never clip more than 40 % of its last quarter
(10 % of all steps over 25 % of them), so with one complete trial the warning
cannot fire; it compares trials.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from tunebook.analysis.checks.curves import (
    Curve, best_trials, examined_note, examined_trials, pick_metric, rounded, trial_curves, trial_names,
)
from tunebook.analysis.data import ExperimentData
from tunebook.analysis.findings import Finding, Severity

SECTION = "Gradient clipping"
GRAD_NORM_METRICS = ("grad_norm", "train/grad_norm")
CLIP_QUANTILE = 0.9
AGGRESSIVE = 0.5  # more than this share of updates clipped is "extremely aggressive"
LATE_FROM = 0.75  # late training: the last quarter of the steps


def clipping_threshold(norms: Iterable[float], q: float = CLIP_QUANTILE) -> float:
    """The ``q`` quantile of the finite gradient norms: the playbook's starting clipping threshold."""
    if not 0.0 < q <= 1.0:
        raise ValueError(f"q must be in (0, 1], got {q!r}")
    values = np.asarray(list(norms), dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("clipping_threshold needs at least one finite gradient norm, got none")
    return float(np.quantile(values, q))


def clipped_shares(curve: Curve, threshold: float) -> dict[str, Any]:
    """One trial's own p90 and the shares of all and of late steps above ``threshold``."""
    late = curve.between(LATE_FROM, 1.0)
    return {
        "trial_id": curve.trial_id, "p90": rounded(clipping_threshold(curve.values)),
        "share_clipped": rounded(float(np.mean(curve.values > threshold)), 3),
        "late_share_clipped": rounded(float(np.mean(late > threshold)), 3) if len(late) else None,
    }


def check_grad_norm(data: ExperimentData) -> list[Finding]:
    """INFO with the p90 clipping threshold; WARNING when it would clip most late updates of a best trial."""
    metric = pick_metric(data.curves, GRAD_NORM_METRICS)
    if metric is None:
        return []
    curves = trial_curves(data.curves, metric, examined_trials(data))
    if not curves:
        return []
    threshold = clipping_threshold(np.concatenate([c.values for c in curves.values()]))
    shares = {tid: clipped_shares(curve, threshold) for tid, curve in curves.items()}
    best = {label: tid for label, tid in best_trials(data).items() if tid in shares}
    aggressive = {tid for tid, s in shares.items() if (s["late_share_clipped"] or 0.0) > AGGRESSIVE}
    evidence = {
        "metric": metric, "threshold": rounded(threshold), "quantile": CLIP_QUANTILE, "trials": len(curves),
        "best_trials": trial_names(data, [{"scientific_value": label, **shares[tid]} for label, tid in best.items()]),
        "aggressive_trials": [data.trial_name(t) for t in sorted(aggressive)],
    }
    findings = [Finding(
        "grad_norm", Severity.INFO,
        f"Gradient clipping threshold: the 90th percentile of {metric} over {len(curves)} complete trials"
        f"{examined_note(len(curves), data)} is {evidence['threshold']}; {len(aggressive)} trial(s) would have "
        f"more than {AGGRESSIVE:.0%} of their late updates clipped at it.",
        evidence,
        f"If clipping is needed for instability, start at {evidence['threshold']} (just above the typical "
        "gradient norm) and tune it from there.",
        SECTION,
    )]
    hit = [(label, tid) for label, tid in best.items() if tid in aggressive]
    if hit:
        names = ", ".join(f"{label} ({data.trial_name(tid)}: {shares[tid]['late_share_clipped']:.0%})" for label, tid in hit)
        findings.append(Finding(
            "grad_norm", Severity.WARNING,
            f"Clipping at the p90 threshold {evidence['threshold']} would clip more than {AGGRESSIVE:.0%} of "
            f"the late updates of the best trial of {names}: extremely aggressive clipping, in essence a "
            "strange way of reducing the learning rate.",
            evidence, "Lower the learning rate instead of clipping this aggressively.", SECTION,
        ))
    return findings
