"""``plan instability`` and ``advise instability``: is the best learning rate held back by instability?

The playbook ("Identifying unstable workloads"): "1. Do a learning rate sweep
and find the best learning rate lr*. 2. Plot training loss curves for
learning rates just above lr*. 3. If the learning rates > lr* show loss
instability (loss goes up not down during periods of training), then it is
likely that fixing the instability will result in better training." Figure
7b looks at "a learning rate either 5x or 10x larger than this peak"; the plan
runs ``MULTIPLES`` = 2x, 5x and 10x lr*, everything else at the best trial's
values. And for early instability: "train for an abbreviated run of just ~500
steps using lr = 2 * current best, but evaluate every step".

The advice reads each trial's training loss with the checklist's own rules
(``analysis.checks.training_loss``: a sudden, sustained rise after a steady
decline, or a loss that ends well above its lowest point); a diverged
(infeasible) trial is unstable too. One more rule catches the run that
collapses in its first steps to a plateau and stays there, which neither
rule sees: the playbook counts "uncharacteristically high values of the
loss" as infeasible, and instability matters "when it forces us to use a
learning rate that's too small". A run above lr* has **stalled** when its
training loss ends (the median of its last 10 % of points) more than a third
of lr*'s progress back: ``end - ref_end > (ref_start - ref_end) / 3``, where
``ref_start`` is the reference run's first logged training loss (the common
starting loss) and ``ref_end`` the median of its points over the same steps
as the run's last 10 %. A third, not a half: on the charlm example the runs
that collapsed to the character-frequency plateau gave back 47-57 % of lr*'s
progress, the 2x lr* run that trained well 7 %. The reference is the trial the plan was made from
(its ``notes``), or, when that is not in the store, the lowest learning rate
of the experiment; the advice says which. The smallest unstable learning
rate is the ``unstable_base_learning_rate`` of the warmup plan.
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
from tunebook.plans.base import SCHEDULE_KEYS, assemble
from tunebook.plans.records import Advice, Plan, PlanInputError, Reason, plan_note, read_plan_note
from tunebook.plans.reference import ResolvedTrial, load_experiment, resolve_trial
from tunebook.storage import with_store

if TYPE_CHECKING:
    from tunebook.storage.base import Store

__all__ = [
    "EARLY_MULTIPLE", "EARLY_STEPS", "GIVEN_BACK", "GIVEN_BACK_WORDS", "MULTIPLES", "TAIL_SHARE", "Reference",
    "base_reference", "early_instability", "instability", "instability_advice", "plan_reference", "stall_evidence",
    "unstable_trials",
]

SECTION = "Identifying unstable workloads"
WHEN_WARMUP = "When to apply learning rate warmup"
MULTIPLES = (2, 5, 10)
EARLY_MULTIPLE = 2
EARLY_STEPS = 500
LR = "learning_rate"
TAIL_SHARE = 0.10  # a run's end: the median of its last 10 % of training loss points
GIVEN_BACK = 1 / 3  # stalled: it ends more than a third of lr*'s progress from the starting loss back
GIVEN_BACK_WORDS = "a third"


def instability(trial: "str | ResolvedTrial", store: "Store | str | None" = None, *, name: str | None = None) -> Plan:
    """Runs at 2x, 5x and 10x lr* (the learning rate of the trial ``trial`` names, by default the best)."""
    base = resolve_trial(trial, store)
    lr_star = _lr_star(base)
    others = {k: v for k, v in base.params.items() if k != LR}
    rates = [_round(m * lr_star) for m in MULTIPLES]
    reasons = [
        Reason(f"lr* = {lr_star:.4g}: the learning rate of {base.canonical} (the best trial of a learning rate "
               "sweep)", SECTION),
        Reason(f"learning_rate: {', '.join(f'{r:g}' for r in rates)} = {', '.join(f'{m}x' for m in MULTIPLES)} lr*: "
               "\"plot training loss curves for learning rates just above lr*\"; Figure 7b looks at 5x or 10x",
               WHEN_WARMUP),
        Reason("every other hyperparameter at the best trial's values, so only the learning rate differs", SECTION),
        Reason("log train/loss every step: a sudden rise in the loss after a steady decline shows only in a "
               "training loss logged often", SECTION),
        Reason(f"afterwards: tunebook advise instability {name or base.record.name + '-instability'}", SECTION),
    ]
    spec = assemble(
        name=name or f"{base.record.name}-instability",
        goal=f"Do learning rates just above lr*={lr_star:.4g} show training instability?",
        notes=_note(base, lr_star), objective=dict(base.record.spec["objective"]),
        scientific={LR: rates}, fixed=others, search={"algorithm": "grid"}, run=base.run_section(),
    )
    return Plan("instability", spec, tuple(reasons))


def early_instability(
    trial: "str | ResolvedTrial", store: "Store | str | None" = None, *, name: str | None = None,
) -> Plan:
    """An abbreviated run of ~500 steps at 2x lr*, evaluating every step."""
    base = resolve_trial(trial, store)
    lr_star = _lr_star(base)
    params = {k: v for k, v in base.params.items() if k not in (LR, *SCHEDULE_KEYS)}
    warmup = int(base.params.get("warmup_steps") or 0)
    params.update({LR: _round(EARLY_MULTIPLE * lr_star), "schedule": "constant", "warmup_steps": warmup,
                   "max_train_steps": warmup + EARLY_STEPS, "eval_every": 1})
    reasons = [
        Reason(f"an abbreviated run of {EARLY_STEPS} steps at learning_rate = {EARLY_MULTIPLE} x {lr_star:.4g}, "
               "evaluating every step (eval_every: 1): some models show very early instability followed by a "
               "recovery, and common evaluation schedules miss it", SECTION),
        Reason("schedule: constant" + (f" after the trial's {warmup} warmup steps" if warmup else "") +
               f": {EARLY_STEPS} steps of the run, at the rate being checked", SECTION),
    ]
    spec = assemble(
        name=name or f"{base.record.name}-early-instability",
        goal=f"Is there very early instability at 2 x lr* = {params[LR]:g}?",
        notes=_note(base, lr_star), objective=dict(base.record.spec["objective"]),
        fixed=params, search={"algorithm": "grid"}, run=base.run_section(),
    )
    return Plan("early-instability", spec, tuple(reasons))


def _lr_star(base: ResolvedTrial) -> float:
    lr = base.params.get(LR)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise PlanInputError([(LR, f"trial {base.canonical} has no positive learning_rate to find lr* from, got {lr!r}")])
    return float(lr)


def _note(base: ResolvedTrial, lr_star: float) -> str:
    return plan_note("instability", base=base.canonical, lr_star=lr_star,
                     max_train_steps=base.params.get("max_train_steps"))


def _round(value: float) -> float:
    return float(f"{value:.6g}")


@dataclasses.dataclass(frozen=True)
class Reference:
    """The lr* run a stalled run is measured against: its learning rate, its training loss, and why it was chosen."""

    learning_rate: float
    trial: str  # EXPERIMENT/STUDY/NUMBER
    origin: str  # why this run: "the trial the plan was made from" or the fallback's reason
    curve: Curve

    @property
    def start(self) -> float:
        """The common starting loss: the reference run's first logged training loss."""
        return float(self.curve.values[0])

    def end_over(self, steps: np.ndarray) -> float:
        """The median of the reference's loss over ``steps``' span (its own last 10 % when it ends before them)."""
        inside = self.curve.values[(self.curve.steps >= steps[0]) & (self.curve.steps <= steps[-1])]
        return float(np.median(inside)) if len(inside) else _tail_median(self.curve)[1]

    def describe(self) -> str:
        end = _tail_median(self.curve)[1]
        return (f"lr* = {self.learning_rate:.4g} is {self.trial} ({self.origin}): training loss "
                f"{self.start:.4g} at its first point, {end:.4g} at the end (median of the last 10 % of points)")


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
    if len(curve) < MIN_POINTS or len(reference.curve) < MIN_POINTS:
        return None
    steps, end = _tail_median(curve)
    ref_end = reference.end_over(steps)
    progress = reference.start - ref_end
    if not progress > 0:
        return None
    given_back = (end - ref_end) / progress
    if given_back <= GIVEN_BACK:
        return None
    return {"trial_id": curve.trial_id, "end": round(end, 4), "reference_end": round(ref_end, 4),
            "start": round(reference.start, 4), "given_back": round(given_back, 3)}


def unstable_trials(data: ExperimentData, reference: Reference | None = None) -> dict[int, str]:
    """trial id -> why it counts as unstable: diverged (infeasible), its training loss spikes or rises, or
    (with a ``reference``) it runs above lr* and stalled at a loss far above lr*'s (``stall_evidence``)."""
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
    spike = spike_evidence(curve)
    if spike is not None:
        return (f"{metric} rises suddenly after a steady decline at step {spike['step']} "
                f"(from {spike['floor']} to {spike['level_after']})")
    rise = rise_evidence(curve)
    if rise is not None:
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
    curve = _train_curve(found.data, found.trial.id)
    if curve is None or isinstance(lr, bool) or not isinstance(lr, (int, float)):
        return None, f"the trial the plan was made from, {base}, has no training loss curve or learning_rate"
    return Reference(float(lr), found.canonical, "the trial the plan was made from", curve), ""


def plan_reference(record: Any, data: ExperimentData, store: "Store") -> Reference | None:
    """The lr* run for the stall rule: the trial the plan's ``notes`` name, else the experiment's lowest
    learning rate; None when neither has a training loss curve."""
    note = read_plan_note(record.spec.get("notes") or "", "instability")
    reference, why = base_reference(note.get("base"), store)
    if reference is not None:
        return reference
    done = data.trials[data.trials["state"] == "complete"].sort_values(LR, kind="stable")
    for _, t in done.iterrows():
        curve = _train_curve(data, int(t["trial_id"]))
        if curve is not None:
            name = f"{record.name}/{t['study']}/{int(t['number'])}"
            return Reference(float(t[LR]), name, f"the lowest learning rate here, since {why}", curve)
    return None


def _train_curve(data: ExperimentData, trial_id: int) -> Curve | None:
    metric = train_loss_metric(data.curves)
    return None if metric is None else trial_curves(data.curves, metric, [trial_id]).get(trial_id)


def instability_advice(experiment: str, store: "Store | str | None" = None) -> Advice:
    """Which learning rates of ``experiment`` trained unstably, and the --unstable-lr for the warmup plan."""
    def read(opened: "Store") -> tuple[Any, ExperimentData, Reference | None]:
        record, data = load_experiment(experiment, opened)
        if LR not in data.trials.columns:
            raise PlanInputError([(LR, f"experiment {experiment!r} has no learning_rate hyperparameter")])
        return record, data, plan_reference(record, data, opened)

    record, data, reference = with_store(store, read)
    judged = data.trials[data.trials["state"].isin(["complete", "infeasible"])].sort_values(LR, kind="stable")
    if not len(judged):
        raise PlanInputError([("experiment", f"{experiment!r} has no finished (complete or infeasible) trial to read")])
    unstable = unstable_trials(data, reference)
    rows, lines = [], []
    if reference is not None:
        lines.append(f"Reference: {reference.describe()}. A run above lr* that ends more than {GIVEN_BACK_WORDS} of "
                     "that progress back has stalled.")
    for _, t in judged.iterrows():
        why = unstable.get(int(t["trial_id"]))
        rows.append({LR: float(t[LR]), "trial": f"{experiment}/{t['study']}/{int(t['number'])}",
                     "trial_id": int(t["trial_id"]),
                     "unstable": why is not None, "why": why})
        lines.append(f"learning_rate {float(t[LR]):.4g}: " + (f"unstable — {why}" if why else "stable"))
    numbers: dict[str, Any] = {"trials": rows, "reference": None if reference is None else {
        LR: reference.learning_rate, "trial": reference.trial, "origin": reference.origin,
        "start": round(reference.start, 4), "end": round(_tail_median(reference.curve)[1], 4)}}
    bad = [r for r in rows if r["unstable"]]
    if not bad:
        lines.append("No learning rate here shows instability: instability is not what holds the learning rate "
                     "back (any workload becomes unstable if the learning rate is too large; it is only an issue "
                     "when it forces a learning rate that is too small).")
        return Advice("instability", experiment, tuple(lines), numbers, SECTION)
    first = bad[0]
    note = read_plan_note(record.spec.get("notes") or "", "instability")
    steps = note.get("max_train_steps") or _trial_steps(data, first["trial_id"])
    origin = note.get("base") or first["trial"]
    numbers.update({"unstable_lr": first[LR], "max_train_steps": steps, "base": origin})
    lines.append(f"The smallest unstable learning rate is {first[LR]:.4g}: the unstable_base_learning_rate. "
                 "If it is close above lr*, fixing the instability (warmup, best for early instability, or "
                 "gradient clipping) is likely to result in better training.")
    command = f"tunebook plan warmup --unstable-lr {first[LR]:.6g} --from {origin}"
    if steps:
        command += f" --max-steps {int(steps)}"
    return Advice("instability", experiment, tuple(lines), numbers, SECTION, next_command=command)


def _trial_steps(data: ExperimentData, trial_id: int) -> int | None:
    row = data.trials[data.trials["trial_id"] == trial_id]
    if "max_train_steps" not in row.columns or not len(row) or row["max_train_steps"].isna().all():
        return None
    return int(row["max_train_steps"].iloc[0])
