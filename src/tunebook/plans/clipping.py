"""``advise clipping``: a gradient clipping threshold from one trial's logged gradient norms.

The playbook ("Gradient clipping"): log the unclipped gradient norm, "choose a
gradient clipping threshold based on the 90th percentile of gradient norms";
"if we find ourselves using extremely aggressive clipping, we probably should
just cut the learning rate instead", ">50% of the updates getting clipped"
being extremely aggressive. The p90 and the shares come from
``analysis.checks.grad_norm`` (``clipping_threshold``, ``clipped_shares``).

The threshold judged is, in order: the one given, the trial's own
``grad_clip_norm`` (the logged norm is the unclipped one, so the share of its
updates that were clipped can be read back), else the p90. Judged against
its own p90 a trial always clips about 10 % of its updates; a smaller
threshold, or one the trial ran with, can clip far more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tunebook.analysis.checks.curves import trial_curves
from tunebook.analysis.checks.grad_norm import AGGRESSIVE, GRAD_NORM_METRICS, clipped_shares, clipping_threshold
from tunebook.analysis.curve_index import curve_index
from tunebook.plans.records import Advice, PlanInputError
from tunebook.plans.reference import resolve_trial

if TYPE_CHECKING:
    from tunebook.storage.base import Store

__all__ = ["clipping"]

SECTION = "Gradient clipping"


def clipping(trial: str, store: "Store | str | None" = None, *, threshold: float | None = None) -> Advice:
    """The p90 clipping threshold of ``trial``'s gradient norms and the share of updates a threshold clips."""
    found = resolve_trial(trial, store)
    curves = found.data.curves
    index = curve_index(curves)
    metric = next((m for m in GRAD_NORM_METRICS if index.points(found.trial.id, m) is not None), None)
    if metric is None:
        logged = sorted(map(str, curves.loc[curves["trial_id"] == found.trial.id, "metric"].unique()))
        raise PlanInputError([("grad_norm", f"trial {found.canonical} logged no gradient norm ({' or '.join(GRAD_NORM_METRICS)}); "
                                       f"it logged: {', '.join(logged) or 'nothing'}. Log the unclipped gradient "
                                       "norm as grad_norm during training")])
    curve = trial_curves(curves, metric, [found.trial.id]).get(found.trial.id)
    if curve is None:
        raise PlanInputError([("grad_norm", f"trial {found.canonical} logged no finite {metric}")])
    p90 = clipping_threshold(curve.values)
    judged, source = _judged(threshold, found.params.get("grad_clip_norm"), p90)
    shares = clipped_shares(curve, judged)
    numbers: dict[str, Any] = {"trial": found.canonical, "metric": metric, "steps": len(curve), "p90": p90,
                               "threshold": judged, "threshold_from": source, **{k: shares[k] for k in
                               ("share_clipped", "late_share_clipped")}}
    lines = [f"{metric} of {found.canonical} over {len(curve)} logged steps: 90th percentile {p90:.4g}.",
             f"Suggested clipping threshold: grad_clip_norm: {p90:.4g} (the 90th percentile; just above the "
             "typical gradient norm; if it doesn't work, tune it).",
             f"At {judged:.4g} ({source}) {shares['share_clipped']:.0%} of the updates would be clipped"
             + (f", {shares['late_share_clipped']:.0%} of the last quarter." if shares["late_share_clipped"] is not None
                else ".")]
    warnings = []
    worst = max(shares["share_clipped"], shares["late_share_clipped"] or 0.0)
    if worst > AGGRESSIVE:
        warnings.append(f"Clipping {worst:.0%} of the updates at {judged:.4g} is extremely aggressive (> 50 % "
                        "clipped): in essence a strange way of reducing the learning rate. Lower the learning rate "
                        "instead.")
    return Advice("clipping", found.canonical, tuple(lines), numbers, SECTION, warnings=tuple(warnings))


def _judged(given: float | None, ran_with: Any, p90: float) -> tuple[float, str]:
    if given is not None:
        if isinstance(given, bool) or not isinstance(given, (int, float)) or not given > 0:
            raise PlanInputError([("threshold", f"must be a gradient norm > 0, got {given!r}")])
        return float(given), "the threshold given"
    if isinstance(ran_with, (int, float)) and not isinstance(ran_with, bool) and ran_with > 0:
        return float(ran_with), "the trial's grad_clip_norm"
    return p90, "the 90th percentile"
