"""``plan round2``: the best Round 1 configuration, retrained longer with the playbook's Round 2 rule.

The playbook ("Round 2"): "Run the best hyperparameter configuration from
Round 1. (Speculation) Use the extra steps to extend the period of training
at a high learning rate. E.g. if linear schedule then keep the length of the
decay fixed from Round 1 and extend the period of constant lr in the
beginning. For cosine decay, just keep the base lr from Round 1 and extend
max_train_steps." The extension itself is ``tunebook.train.schedules``'
``extend(total_steps)`` (warmup kept as it was); this module only applies it
to a stored trial's params and writes the spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tunebook.plans.base import SCHEDULE_KEYS, assemble
from tunebook.plans.records import Plan, PlanInputError, Reason, plan_note
from tunebook.plans.reference import resolve_trial
from tunebook.train.schedules import SCHEDULE_NAMES, schedule_from_params

if TYPE_CHECKING:
    from tunebook.storage.base import Store

__all__ = ["round2"]

SECTION = "Round 2"
RULES = {
    "linear": "linear schedule: keep the length of the decay fixed from Round 1 and extend the period of constant "
              "lr in the beginning",
    "cosine": "cosine decay: just keep the base lr from Round 1 and extend max_train_steps",
    "constant": "constant schedule: nothing to re-decide; the run is just longer",
}


def round2(
    trial: str, steps: int, store: "Store | str | None" = None, *, schedule: str | None = None,
    name: str | None = None,
) -> Plan:
    """The configuration of ``trial`` (by default the best) with its schedule extended to ``steps`` updates."""
    found = resolve_trial(trial, store)
    params = dict(found.params)
    recorded = params.get("schedule")
    if schedule is not None:
        if schedule not in SCHEDULE_NAMES:
            raise PlanInputError([("schedule", f"must be one of {', '.join(SCHEDULE_NAMES)}, got {schedule!r}")])
        if recorded is not None and recorded != schedule:
            raise PlanInputError([("schedule", f"trial {found.canonical} ran with schedule {recorded!r}, not {schedule!r}; "
                                          "leave --schedule out or name the schedule it ran with")])
        params["schedule"] = schedule
    before = schedule_from_params(params)
    after = before.extend(steps)
    extended = after.to_params()
    kind = extended["schedule"]
    fixed = {k: v for k, v in params.items() if k not in ("learning_rate", "max_train_steps", *SCHEDULE_KEYS)}
    fixed.update(extended)
    reasons = [
        Reason(f"the best hyperparameter configuration from Round 1: {found.canonical}", SECTION),
        Reason(f"max_train_steps {before.total_steps} -> {after.total_steps}: use the extra steps to extend the "
               "period of training at a high learning rate (the playbook marks this as speculation)", SECTION),
        Reason(RULES[kind] + _change(before.to_params(), extended), SECTION),
    ]
    spec = assemble(
        name=name or f"{found.record.name}-round2",
        goal=f"Round 2: the best Round 1 configuration ({found.canonical}) trained for {after.total_steps} steps",
        notes=plan_note("round2", base=found.canonical, steps=after.total_steps, schedule=kind),
        objective=dict(found.record.spec["objective"]), fixed=fixed, search={"algorithm": "grid"},
        run=found.run_section(),
    )
    return Plan("round2", spec, tuple(reasons))


def _change(before: dict[str, Any], after: dict[str, Any]) -> str:
    changed = [f"{k} {before.get(k)} -> {after[k]}" for k in after if before.get(k) != after[k]]
    kept = [f"{k} {after[k]:g}" if isinstance(after[k], float) else f"{k} {after[k]}"
            for k in after if before.get(k) == after[k] and k != "schedule"]
    return f" ({'; '.join(changed)}; kept: {', '.join(kept)})"
