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

The advice, step by step:

1. **Scope.** It reads a learning-rate sweep of one configuration: when any
   other hyperparameter varies among the finished trials (mixed optimizers,
   a ``num_layers``, a ``beta1``) it refuses, naming them (``scope``).
2. **lr*.** The trial the plan was made from (its ``notes``), when that is in
   the store; otherwise the best trial by the experiment's objective among
   the *stable* ones here (``stability``: not diverged, no spike, no rise;
   blips small in absolute terms ignored). Never the lowest learning rate: a
   rate too small to train is not lr*.
3. **Stable or unstable** for every finished trial (``stability``), runs
   above lr* also judged by the stall rule against lr*'s run.
4. **The unstable_base_learning_rate** is the smallest unstable rate above
   the highest stable one. An unstable rate *below* a stable one (stability
   not monotonic in the learning rate) is named in a warning: the procedure
   assumes every rate above the first unstable one is unstable too, so that
   rate is a chance event or a bug to repeat with another seed, not the
   boundary.
5. **Too few trials to tell** when the procedure cannot conclude: it needs at
   least two learning rates, a stable one (lr*) and one above it
   (``MIN_RATES``); with fewer, it says so and names the plan that runs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from tunebook.analysis.best import ranked
from tunebook.analysis.data import ExperimentData
from tunebook.plans.base import SCHEDULE_KEYS, assemble
from tunebook.plans.records import Advice, Plan, PlanInputError, Reason, plan_note, read_plan_note
from tunebook.plans.reference import ResolvedTrial, load_experiment, resolve_trial
from tunebook.plans.scope import LR, finished, require_lr_sweep, varying
from tunebook.plans.stability import (
    GIVEN_BACK_WORDS, Reference, base_reference, stall_evidence, train_curve, unstable_trials,
)
from tunebook.storage import with_store

if TYPE_CHECKING:
    from tunebook.storage.base import Store

__all__ = [
    "EARLY_MULTIPLE", "EARLY_STEPS", "MIN_RATES", "MULTIPLES", "TOO_FEW", "early_instability", "instability",
    "instability_advice", "stall_evidence", "unstable_trials",
]

SECTION = "Identifying unstable workloads"
WHEN_WARMUP = "When to apply learning rate warmup"
MULTIPLES = (2, 5, 10)
EARLY_MULTIPLE = 2
EARLY_STEPS = 500
MIN_RATES = 2  # lr* and at least one rate above it
TOO_FEW = "too few trials to tell"


def instability(trial: "str | ResolvedTrial", store: "Store | str | None" = None, *, name: str | None = None) -> Plan:
    """Runs at 2x, 5x and 10x lr* (the learning rate of the trial ``trial`` names, by default the best)."""
    base = resolve_trial(trial, store)
    lr_star = _lr_star(base)
    others = {k: v for k, v in base.params.items() if k != LR}
    rates = [_round(m * lr_star) for m in MULTIPLES]
    reasons = [
        Reason(_lr_star_reason(base, lr_star), SECTION),
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


def _lr_star_reason(base: ResolvedTrial, lr_star: float) -> str:
    """Where lr* comes from; when more than the learning rate varies in its experiment, that it is not swept."""
    others = varying(base.data, finished(base.data))
    if not others:
        return f"lr* = {lr_star:.4g}: the learning rate of {base.canonical} (the best trial of a learning rate sweep)"
    names = ", ".join(v.name for v in others)
    return (f"lr* = {lr_star:.4g}: the learning rate of {base.canonical}, from an experiment where {names} "
            f"{'vary' if len(others) > 1 else 'varies'} too: the plan holds them at this trial's values, so lr* is "
            "the best rate seen for this configuration, not one a learning rate sweep found (tunebook plan lr-sweep "
            "SPEC --pin NAME=VALUE sweeps it)")


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



def instability_advice(experiment: str, store: "Store | str | None" = None) -> Advice:
    """Which learning rates of ``experiment`` trained unstably, and the --unstable-lr for the warmup plan.

    NotASweepError when anything but the learning rate varies; an Advice
    saying "too few trials to tell" when there is no stable lr* or nothing
    above it (module docstring).
    """
    def read(opened: "Store") -> tuple[Any, ExperimentData, Reference | None, str]:
        record, data = load_experiment(experiment, opened)
        note = read_plan_note(record.spec.get("notes") or "", "instability")
        return (record, data, *base_reference(note.get("base"), opened))

    record, data, reference, why_not = with_store(store, read)
    judged = finished(data)
    require_lr_sweep(data, judged, experiment, "advise instability", _remedy(experiment))
    if LR not in data.trials.columns:
        raise PlanInputError([(LR, f"experiment {experiment!r} has no learning_rate hyperparameter")])
    judged = judged[judged[LR].notna()].sort_values(LR, kind="stable")
    if not len(judged):
        raise PlanInputError([("experiment", f"{experiment!r} has no finished (complete or infeasible) trial to read")])
    if reference is None:
        reference = _best_stable(record.name, data, judged, why_not)
    unstable = unstable_trials(data, reference)
    rows = [{LR: float(t[LR]), "trial": f"{record.name}/{data.trial_name(t['trial_id'])}",
             "unstable": int(t["trial_id"]) in unstable, "why": unstable.get(int(t["trial_id"]))}
            for _, t in judged.iterrows()]
    lines = [] if reference is None else [
        f"Reference: {reference.describe()}. A run above lr* that ends more than {GIVEN_BACK_WORDS} of that "
        "progress back has stalled."]
    lines += [f"learning_rate {r[LR]:.4g} ({r['trial']}): " + (f"unstable — {r['why']}" if r["why"] else "stable")
              for r in rows]
    numbers: dict[str, Any] = {"trials": rows, "reference": _reference_numbers(reference)}
    too_few = _too_few(experiment, rows, reference)
    if too_few is not None:
        numbers["verdict"] = TOO_FEW
        return Advice("instability", experiment, tuple(lines + [too_few[0]]), numbers, SECTION,
                      next_command=too_few[1])
    return _conclude(record, data, judged, rows, reference, lines, numbers)


def _remedy(experiment: str) -> str:
    return (f"one configuration swept over the learning rate. `tunebook plan instability {experiment}` runs 2x, "
            "5x and 10x lr* with every other hyperparameter at the best trial's values; or sweep with the others "
            "pinned: `tunebook plan lr-sweep SPEC --pin NAME=VALUE` for each hyperparameter above.")


def _best_stable(name: str, data: ExperimentData, judged: pd.DataFrame, why_not: str) -> Reference | None:
    """lr*: the best trial by the objective among the stable ones (no divergence, spike or rise), or None."""
    unstable = unstable_trials(data)
    objective = data.objective
    candidates = set(judged["trial_id"]) - set(unstable)
    for _, t in ranked(data).iterrows():
        if int(t["trial_id"]) not in candidates:
            continue
        origin = (f"the best stable trial here by {objective.metric} ({objective.mode}), since {why_not}")
        return Reference(float(t[LR]), f"{name}/{data.trial_name(t['trial_id'])}", origin,
                         train_curve(data, int(t["trial_id"])))
    return None


def _reference_numbers(reference: Reference | None) -> dict[str, Any] | None:
    if reference is None:
        return None
    out: dict[str, Any] = {LR: reference.learning_rate, "trial": reference.trial, "origin": reference.origin}
    if reference.curve is not None:
        out.update(start=round(reference.start, 4), end=round(reference.end, 4))
    return out


def _too_few(experiment: str, rows: list[dict[str, Any]], reference: Reference | None) -> tuple[str, str] | None:
    """("too few trials to tell: ...", the command that would run what is missing), or None when enough."""
    if reference is None:
        return (f"{TOO_FEW.capitalize()}: no trial here trained stably, so there is no lr* to look above (the "
                f"procedure needs at least {MIN_RATES} learning rates: a stable one, lr*, and one above it). Sweep "
                "lower learning rates first.", "tunebook plan lr-sweep SPEC --low LOW --high HIGH")
    if not any(r[LR] > reference.learning_rate for r in rows):
        return (f"{TOO_FEW.capitalize()}: no learning rate above lr* = {reference.learning_rate:.4g} was tried here "
                f"(the procedure needs at least {MIN_RATES} learning rates: lr* and one above it).",
                f"tunebook plan instability {reference.trial}")
    return None


def _conclude(record: Any, data: ExperimentData, judged: pd.DataFrame, rows: list[dict[str, Any]],
              reference: Reference, lines: list[str], numbers: dict[str, Any]) -> Advice:
    """The unstable_base_learning_rate (the first unstable rate above every stable one) and the warnings."""
    experiment = record.name
    unstable_at = {r[LR] for r in rows if r["unstable"]}
    stable_at = {r[LR] for r in rows if r[LR] not in unstable_at} | {reference.learning_rate}
    highest_stable = max(stable_at)
    isolated = sorted(lr for lr in unstable_at if lr < highest_stable)
    above = sorted(lr for lr in unstable_at if lr > highest_stable)
    warnings = [] if not isolated else [_not_monotonic(isolated, stable_at, rows)]
    numbers.update({"highest_stable_lr": highest_stable, "not_monotonic": isolated})
    if not above:
        numbers["verdict"] = "stable"
        where = "here" if not isolated else f"above the highest stable one ({highest_stable:.4g})"
        lines.append(f"No learning rate {where} shows instability: "
                     "instability is not what holds the learning rate back (any workload becomes unstable if the "
                     "learning rate is too large; it is only an issue when it forces a learning rate that is too "
                     "small).")
        return Advice("instability", experiment, tuple(lines), numbers, SECTION, warnings=tuple(warnings))
    first = above[0]
    note = read_plan_note(record.spec.get("notes") or "", "instability")
    first_row = judged[judged[LR] == first].iloc[0]
    steps = note.get("max_train_steps") or _trial_steps(first_row)
    origin = note.get("base") or reference.trial
    numbers.update({"verdict": "unstable", "unstable_lr": first, "max_train_steps": steps, "base": origin})
    lines.append(f"The smallest unstable learning rate above the highest stable one ({highest_stable:.4g}) is "
                 f"{first:.4g}: the unstable_base_learning_rate. If it is close above lr*, fixing the instability "
                 "(warmup, best for early instability, or gradient clipping) is likely to result in better "
                 "training.")
    command = f"tunebook plan warmup --unstable-lr {first:.6g} --from {origin}"
    if steps:
        command += f" --max-steps {int(steps)}"
    return Advice("instability", experiment, tuple(lines), numbers, SECTION, warnings=tuple(warnings),
                  next_command=command)


def _not_monotonic(isolated: list[float], stable_at: set[float], rows: list[dict[str, Any]]) -> str:
    """The warning for unstable rates below a stable one: what they are and what the procedure would need."""
    higher = sorted(lr for lr in stable_at if lr > isolated[0])
    names = ", ".join(r["trial"] for r in rows if r[LR] in isolated and r["unstable"])
    return (f"Stability is not monotonic in the learning rate here: {', '.join(f'{lr:.4g}' for lr in isolated)} "
            f"({names}) counted as unstable while {', '.join(f'{lr:.4g}' for lr in higher)} above trained stably. "
            "The procedure assumes every rate above the first unstable one is unstable too, so these are not the "
            "boundary: repeat them with another seed (a chance event) or look at their curves for a bug; the "
            "unstable_base_learning_rate above is read from the rates above every stable one.")


def _trial_steps(row: pd.Series) -> int | None:
    steps = row.get("max_train_steps")
    return None if steps is None or steps != steps else int(steps)
