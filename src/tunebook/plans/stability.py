"""Stable or unstable: how ``advise instability`` and ``advise warmup`` read one run's training loss.

The playbook ("Identifying unstable workloads"): "If the learning rates > lr*
show loss instability (loss goes up not down during periods of training)";
an unstable run is

- **diverged**: the trial ended infeasible (a NaN or exploding loss);
- **spiked**: its training loss rises suddenly after a steady decline, and
  stays up for a while (``analysis.checks.training_loss.spike_evidence``:
  more than 6 local noise units and 10 % of the progress so far);
- **rising**: its loss ends well above its lowest point
  (``rise_evidence``: more than 6 standard errors and a quarter of the
  smoothed range given back);
- **stalled** (only for a run above lr*, judged against lr*'s run, the
  ``Reference``): it ends (the median of its last 10 % of points) more than a
  third of lr*'s progress back: ``end - ref_end > (ref_start - ref_end) / 3``,
  ``ref_start`` lr*'s first logged loss, ``ref_end`` the median of lr*'s loss
  over the same steps. The playbook counts "uncharacteristically high values
  of the loss" as infeasible. A third, not a half: on the charlm example the
  runs that collapsed to the character-frequency plateau gave back 47-57 % of
  lr*'s progress, the 2x lr* run that trained well 7 %.

A run is **stable** when it finished (complete) and none of these holds.

**Blips are not instability.** A spike or a rise counts only when it is
large in the loss's own terms, not just many times the noise of a curve that
had already reached ~0. Two margins, both required:

- absolute: the rise is more than ``ABS_SHARE`` = 5 % of the run's starting
  loss (the median of its first 5 points: ln 10 = 2.3 for a 10-class
  cross-entropy, so at least 0.115 nats);
- relative: the rise undoes more than ``REL_SHARE`` = 10 % of the progress
  made before it (starting loss minus the lowest level before the rise).

A rise from 4e-05 to 0.05 in a loss that started at 2.3 is 2 % of it: a blip,
however large its ratio (1,250x). When the first spike found is such a blip,
the rest of the curve after it is read again (up to ``MAX_BLIPS`` times), so a
blip never hides a real spike later.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from tunebook.analysis.checks.curves import MIN_POINTS, Curve, train_loss_metric, trial_curves
from tunebook.analysis.checks.training_loss import rise_evidence, spike_evidence
from tunebook.analysis.data import ExperimentData
from tunebook.core.errors import NotFoundError
from tunebook.plans.records import PlanInputError
from tunebook.plans.reference import resolve_trial
from tunebook.plans.scope import LR

if TYPE_CHECKING:
    from tunebook.storage.base import Store

__all__ = [
    "ABS_SHARE", "GIVEN_BACK", "GIVEN_BACK_WORDS", "MAX_BLIPS", "REL_SHARE", "START_POINTS", "TAIL_SHARE",
    "Reference", "base_reference", "large_enough", "stall_evidence", "train_curve", "unstable_trials",
]

TAIL_SHARE = 0.10  # a run's end: the median of its last 10 % of training loss points
GIVEN_BACK = 1 / 3  # stalled: it ends more than a third of lr*'s progress from the starting loss back
GIVEN_BACK_WORDS = "a third"
ABS_SHARE = 0.05  # a spike or rise must exceed 5 % of the starting loss ...
REL_SHARE = 0.10  # ... and 10 % of the progress made before it
START_POINTS = 5  # the starting loss: the median of the first 5 points
MAX_BLIPS = 5  # blips skipped before a curve's spikes stop being read


@dataclasses.dataclass(frozen=True)
class Reference:
    """The lr* run a stalled run is measured against: its learning rate, its training loss, and why it was chosen."""

    learning_rate: float
    trial: str  # EXPERIMENT/STUDY/NUMBER
    origin: str  # why this run: "the trial the plan was made from", "the best stable trial here ..."
    curve: Curve | None  # None when it logged no training loss: the stall rule is not applied

    @property
    def start(self) -> float:
        """The common starting loss: the reference run's first logged training loss."""
        return float(self.curve.values[0])

    @property
    def end(self) -> float:
        """The median of the reference's last 10 % of points."""
        return _tail_median(self.curve)[1]

    def end_over(self, steps: np.ndarray) -> float:
        """The median of the reference's loss over ``steps``' span (its own last 10 % when it ends before them)."""
        inside = self.curve.values[(self.curve.steps >= steps[0]) & (self.curve.steps <= steps[-1])]
        return float(np.median(inside)) if len(inside) else self.end

    def describe(self) -> str:
        if self.curve is None:
            return (f"lr* = {self.learning_rate:.4g} is {self.trial} ({self.origin}); it logged no training loss, "
                    "so the stall rule is not applied")
        return (f"lr* = {self.learning_rate:.4g} is {self.trial} ({self.origin}): training loss "
                f"{self.start:.4g} at its first point, {self.end:.4g} at the end (median of the last 10 % of points)")


def _tail_median(curve: Curve) -> tuple[np.ndarray, float]:
    """The steps of a curve's last 10 % of points (at least one) and the median of their values."""
    count = max(1, math.ceil(TAIL_SHARE * len(curve)))
    return curve.steps[-count:], float(np.median(curve.values[-count:]))


def stall_evidence(curve: Curve, reference: Reference) -> dict[str, Any] | None:
    """How far ``curve`` ended above lr*'s loss, if it gave back more than a third of lr*'s progress; else None.

    ``curve`` is a run above lr*: it stalled when ``end - ref_end > GIVEN_BACK x (start - ref_end)``,
    ``end`` the median of its last 10 % of points, ``ref_end`` the reference's median over the same steps.
    None too when either curve is too short to judge or the reference made no progress.
    """
    if reference.curve is None or len(curve) < MIN_POINTS or len(reference.curve) < MIN_POINTS:
        return None
    steps, end = _tail_median(curve)
    ref_end = reference.end_over(steps)
    progress = reference.start - ref_end
    if not progress > 0:
        return None
    given_back = (end - ref_end) / progress
    if given_back <= GIVEN_BACK:
        return None
    return {"end": round(end, 4), "reference_end": round(ref_end, 4), "start": round(reference.start, 4),
            "given_back": round(given_back, 3)}


def large_enough(curve: Curve, low: float, high: float) -> bool:
    """Whether a rise from ``low`` to ``high`` clears both blip margins (module docstring) on ``curve``."""
    start = float(np.median(curve.values[:START_POINTS]))
    rise = high - low
    return rise > ABS_SHARE * abs(start) and rise > REL_SHARE * (start - low)


def _spike(curve: Curve) -> dict[str, Any] | None:
    """The first spike of ``curve`` that is not a blip, read past up to ``MAX_BLIPS`` blips; or None."""
    rest = curve
    for _ in range(MAX_BLIPS + 1):
        spike = spike_evidence(rest)
        if spike is None:
            return None
        if large_enough(curve, spike["floor"], spike["level_after"]):
            return spike
        after = np.flatnonzero(rest.steps > spike["step"])
        if not len(after):
            return None
        rest = Curve(curve.trial_id, rest.steps[after[0]:], rest.values[after[0]:])
    return None


def unstable_trials(data: ExperimentData, reference: Reference | None = None) -> dict[int, str]:
    """trial id -> why it counts as unstable (the module docstring's rules); stable trials are left out.

    The stall rule applies to trials above ``reference.learning_rate`` only, and only with a ``reference``.
    """
    found = {int(t): f"diverged ({r})" if isinstance(r, str) and r else "diverged"
             for t, r in data.trials.loc[data.trials["state"] == "infeasible", ["trial_id", "reason"]].itertuples(index=False)}
    metric = train_loss_metric(data.curves)
    if metric is None:
        return found
    complete = data.trials.loc[data.trials["state"] == "complete", "trial_id"]
    above = set() if reference is None or LR not in data.trials.columns else {
        int(t) for t in data.trials.loc[data.trials[LR] > reference.learning_rate, "trial_id"]}
    for trial_id, curve in trial_curves(data.curves, metric, complete).items():
        why = _curve_instability(curve, metric, reference if trial_id in above else None)
        if why is not None:
            found[trial_id] = why
    return found


def _curve_instability(curve: Curve, metric: str, reference: Reference | None) -> str | None:
    """Why a complete trial's training loss counts as unstable (the first rule that fires), or None."""
    spike = _spike(curve)
    if spike is not None:
        return (f"{metric} rises suddenly after a steady decline at step {spike['step']} "
                f"(from {spike['floor']} to {spike['level_after']})")
    rise = rise_evidence(curve)
    if rise is not None and large_enough(curve, rise["lowest"], rise["end"]):
        return f"{metric} goes up: lowest {rise['lowest']} at step {rise['lowest_step']}, {rise['end']} at the end"
    stall = None if reference is None else stall_evidence(curve, reference)
    if stall is not None:
        return (f"training stalled at a loss far above lr*'s: {metric} ends at {stall['end']:.4g} "
                f"(median of the last 10 % of points) against {stall['reference_end']:.4g} for lr* "
                f"from a common start of {stall['start']:.4g}, giving back {stall['given_back']:.0%} "
                "of lr*'s progress: instability at initialization / early in training")
    return None


def base_reference(base: str | None, store: "Store") -> tuple[Reference | None, str]:
    """The stored trial ``base`` (a plan's source) as the lr* reference, or None and why it cannot be."""
    if not base:
        return None, "the experiment does not record the trial its plan was made from"
    try:
        found = resolve_trial(str(base), store)
    except (NotFoundError, PlanInputError):
        return None, f"the trial the plan was made from, {base}, is not in the store"
    lr = found.params.get(LR)
    curve = train_curve(found.data, found.trial.id)
    if curve is None or isinstance(lr, bool) or not isinstance(lr, (int, float)):
        return None, f"the trial the plan was made from, {base}, has no training loss curve or learning_rate"
    return Reference(float(lr), found.canonical, "the trial the plan was made from", curve), ""


def train_curve(data: ExperimentData, trial_id: int) -> Curve | None:
    """One trial's training loss curve, or None when it logged none."""
    metric = train_loss_metric(data.curves)
    return None if metric is None else trial_curves(data.curves, metric, [trial_id]).get(trial_id)
