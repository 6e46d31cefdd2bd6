"""``plan warmup`` and ``advise warmup``: the shortest learning rate warmup that makes a high rate trainable.

The playbook ("How to apply learning rate warmup"): given the
``unstable_base_learning_rate``, ramp up "from 0 to some stable
base_learning_rate, that is at least one order of magnitude larger" (the
default 10x) over ``warmup_steps``, then "train at a constant rate for
post_warmup_steps"; "it's usually fine to set post_warmup_steps to be
2*warmup_steps". "warmup_steps should be swept at a few different orders of
magnitude" and "the largest feasible point shouldn't be more than 10% of
max_train_steps". So each trial runs ``max_train_steps = 3 x warmup_steps``
with ``schedule: constant``; ``warmup_steps`` is the scientific
hyperparameter (10, 100, 1000, ... up to 10 % of the baseline's steps), and
each trial's max_train_steps is a fixed value in its branch.

The advice: the shortest warmup whose trial trained stably (complete, and no
instability by ``instability.unstable_trials``, including a run stalled far
above the loss of the trial the plan was made from, at the same steps); a
note when it exceeds 5 % of max_train_steps ("max_train_steps may need to be
increased"); and the rule for applying it: prepend it to the baseline,
N + warmup steps in total. A warning when a longer warmup failed where the
shortest stable one passed: its short run could not show the instability.
``base_factor`` below 10 is planned with a warning
quoting the playbook's "at least one order of magnitude".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from tunebook.plans.base import SCHEDULE_KEYS, assemble
from tunebook.plans.records import Advice, Plan, PlanInputError, Reason, plan_note, read_plan_note
from tunebook.plans.reference import load_experiment, resolve_trial
from tunebook.plans.stability import GIVEN_BACK_WORDS, Reference, base_reference, unstable_trials
from tunebook.storage import with_store

if TYPE_CHECKING:
    from tunebook.storage.base import Store

__all__ = ["BASE_FACTOR", "LONG_WARMUP", "MAX_SHARE", "POST_WARMUP_FACTOR", "small_factor_warning", "warmup",
           "warmup_advice", "warmup_steps_for"]

SECTION = "How to apply learning rate warmup"
BASE_FACTOR = 10  # base_learning_rate = 10 x unstable_base_learning_rate
POST_WARMUP_FACTOR = 2  # post_warmup_steps = 2 x warmup_steps
MAX_SHARE = 0.10  # the largest warmup: 10 % of max_train_steps
LONG_WARMUP = 0.05  # > 5 % of max_train_steps: max_train_steps may need to be increased


def warmup_steps_for(max_train_steps: int) -> list[int]:
    """10, 100, 1000, ... up to 10 % of ``max_train_steps``; PlanInputError when even 10 is too long."""
    if isinstance(max_train_steps, bool) or not isinstance(max_train_steps, int) or max_train_steps < 1:
        raise PlanInputError([("max_train_steps", f"must be a whole number of steps >= 1, got {max_train_steps!r}")])
    values = [10 ** k for k in range(1, 12) if 10 ** k <= MAX_SHARE * max_train_steps]
    if not values:
        raise PlanInputError([("max_train_steps", f"10 % of {max_train_steps} steps is below 10 warmup steps: too short "
                                             "a run to sweep warmup_steps at orders of magnitude")])
    return values


def small_factor_warning(base_factor: float) -> str:
    """The warning for a base factor below 10, quoting the playbook's rule."""
    return (f"--base-factor {base_factor:g} is below 10: the playbook's base_learning_rate is \"at least one order of "
            "magnitude larger than unstable_base_learning_rate\" (\"The default would be to try a base_learning_rate "
            "that's 10x\"); a warmup found here makes only a smaller rate trainable")


def warmup(
    unstable_lr: float, max_train_steps: int | None, base: str, store: "Store | str | None" = None, *,
    base_factor: float = BASE_FACTOR, name: str | None = None,
) -> Plan:
    """Sweep warmup_steps at ``base_factor`` x ``unstable_lr``, the other params of trial ``base``."""
    if isinstance(unstable_lr, bool) or not isinstance(unstable_lr, (int, float)) or not 0 < unstable_lr < math.inf:
        raise PlanInputError([("unstable-lr", f"must be a learning rate > 0, got {unstable_lr!r}")])
    if isinstance(base_factor, bool) or not isinstance(base_factor, (int, float)) or not 1 < base_factor < math.inf:
        raise PlanInputError([("base-factor", f"base_learning_rate must be larger than the unstable one (a factor "
                                         f"> 1; the playbook's default is 10x), got {base_factor!r}")])
    trial = resolve_trial(base, store)
    steps = max_train_steps if max_train_steps is not None else trial.params.get("max_train_steps")
    if steps is None:
        raise PlanInputError([("max-steps", f"trial {trial.canonical} has no max_train_steps; pass --max-steps N")])
    if isinstance(steps, float) and steps.is_integer():
        steps = int(steps)
    values = warmup_steps_for(steps)
    rate = float(f"{base_factor * unstable_lr:.6g}")
    fixed = {k: v for k, v in trial.params.items() if k not in ("learning_rate", "max_train_steps", *SCHEDULE_KEYS)}
    fixed.update({"learning_rate": rate, "schedule": "constant"})
    fixed.update({f"warmup_steps={w}": {"max_train_steps": (1 + POST_WARMUP_FACTOR) * w} for w in values})
    reasons = [
        Reason(f"base_learning_rate = {base_factor:g} x unstable_base_learning_rate {unstable_lr:g} = {rate:g} " + (
               "(at least one order of magnitude larger; the default is 10x)" if base_factor >= BASE_FACTOR else
               "(less than the playbook's order of magnitude: see the warning)"), SECTION),
        *([Reason("warning: " + small_factor_warning(base_factor), SECTION)] if base_factor < BASE_FACTOR else []),
        Reason(f"warmup_steps swept at orders of magnitude: {values}; the largest is at most 10 % of "
               f"max_train_steps = {steps}", SECTION),
        Reason(f"post_warmup_steps = {POST_WARMUP_FACTOR} x warmup_steps, so each trial's max_train_steps is "
               f"warmup + post-warmup = {', '.join(str((1 + POST_WARMUP_FACTOR) * w) for w in values)}", SECTION),
        Reason("schedule: constant: ramp up from 0 to base_learning_rate over warmup_steps, then train at a "
               "constant rate; warmup can be tuned independently of an existing decay schedule", SECTION),
        Reason(f"every other hyperparameter at the values of {trial.canonical}", SECTION),
        Reason(f"afterwards: tunebook advise warmup {name or trial.record.name + '-warmup'}", SECTION),
    ]
    spec = assemble(
        name=name or f"{trial.record.name}-warmup",
        goal=f"The shortest warmup_steps that makes learning_rate={rate:g} train stably",
        notes=plan_note("warmup", unstable_lr=float(unstable_lr), base_lr=rate, max_train_steps=steps,
                        base=trial.canonical),
        objective=dict(trial.record.spec["objective"]), scientific={"warmup_steps": values}, fixed=fixed,
        search={"algorithm": "grid"}, run=trial.run_section(),
    )
    return Plan("warmup", spec, tuple(reasons))


def warmup_advice(experiment: str, store: "Store | str | None" = None, *, max_train_steps: int | None = None) -> Advice:
    """The shortest stable warmup of a finished warmup study, and how to apply it to the baseline."""
    def read(opened: "Store") -> tuple[dict[str, Any], Any, Reference | None]:
        record, data = load_experiment(experiment, opened)
        note = read_plan_note(record.spec.get("notes") or "", "warmup")
        return note, data, base_reference(note.get("base"), opened)[0]

    note, data, reference = with_store(store, read)
    if "warmup_steps" not in data.trials.columns:
        raise PlanInputError([("warmup_steps", f"experiment {experiment!r} has no warmup_steps hyperparameter: is it a "
                                          "tunebook plan warmup experiment?")])
    steps = max_train_steps or note.get("max_train_steps")
    if not steps:
        raise PlanInputError([("max-steps", f"{experiment!r} does not say the baseline's max_train_steps; pass "
                                       "--max-steps N")])
    unstable = unstable_trials(data, reference)
    rows, lines = [], []
    if reference is not None:
        lines.append(f"Reference: {reference.describe()}. A warmup run that ends more than {GIVEN_BACK_WORDS} of "
                     "that progress back (against lr* at the same steps) has stalled.")
    for _, t in data.trials.sort_values("warmup_steps", kind="stable").iterrows():
        why = unstable.get(int(t["trial_id"])) or (None if t["state"] == "complete" else str(t["state"]))
        name = f"{experiment}/{data.trial_name(t['trial_id'])}"
        rows.append({"warmup_steps": int(t["warmup_steps"]), "trial": name, "state": t["state"],
                     "stable": why is None, "why": why})
        lines.append(f"warmup_steps {int(t['warmup_steps'])} ({name}): "
                     + ("stable" if why is None else f"unstable — {why}"))
    numbers: dict[str, Any] = {"trials": rows, "max_train_steps": int(steps), "base_lr": note.get("base_lr")}
    stable = [r for r in rows if r["stable"]]
    if not stable:
        longest = max((r["warmup_steps"] for r in rows), default=0)
        return Advice("warmup", experiment, tuple(lines), numbers, SECTION, warnings=(
            f"No warmup up to {longest} steps trained stably at this base_learning_rate: try longer warmup, "
            "gradient clipping (tunebook advise clipping), or a base rate nearer 10x the unstable one.",))
    best = min(r["warmup_steps"] for r in stable)
    numbers.update({"warmup_steps": best, "total_steps": int(steps) + best})
    lines += [f"Shortest warmup that trained stably: {best} steps.",
              f"Prepend it to the baseline: {int(steps)} + {best} = {int(steps) + best} steps in total "
              "(warmup_steps: {0}, max_train_steps: {1}), and compare with the baseline using retrospective "
              "checkpoint selection.".format(best, int(steps) + best)]
    return Advice("warmup", experiment, tuple(lines), numbers, SECTION, warnings=_warnings(best, int(steps), rows))


def _warnings(best: int, steps: int, rows: list[dict[str, Any]]) -> tuple[str, ...]:
    """A warmup longer than 5 % of max_train_steps; a longer warmup that failed where ``best`` passed."""
    warnings = []
    if best > LONG_WARMUP * steps:
        warnings.append(f"{best} warmup steps are more than 5 % of max_train_steps ({steps}): max_train_steps "
                        "may need to be increased to account for this.")
    longer = [r["warmup_steps"] for r in rows if not r["stable"] and r["warmup_steps"] > best]
    if longer:
        warnings.append(f"warmup_steps {', '.join(map(str, longer))} did not train stably although "
                        f"{best} did: a longer warmup should not hurt, so the run of {(1 + POST_WARMUP_FACTOR) * best} "
                        "steps was likely too short to show the instability. Check the prepended warmup on the "
                        "baseline before adopting it.")
    return tuple(warnings)
