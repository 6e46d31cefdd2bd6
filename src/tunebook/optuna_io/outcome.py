"""How an Optuna trial ends up in tunebook: its objective curve and its state, objective and reason.

The curve is the trial's intermediate values by step. Rules, first match:

- FAIL carrying ``tunebook_state`` (written by ``tunebook export optuna``):
  that state (infeasible or failed) and its ``tunebook_reason``;
- a non-finite intermediate value, or a COMPLETE value that is not finite:
  INFEASIBLE (it diverged), as tunebook's own trials;
- any other FAIL: FAILED (a crash). Optuna does not record why a trial
  failed, so one whose objective returned NaN without reporting it as an
  intermediate value cannot be told from a crash;
- COMPLETE: complete with Optuna's value as the objective;
- PRUNED (with some value): complete, judged by what it reached, with the
  reason "pruned by Optuna at step N". A pruner stopped it for looking
  worse than others: it is neither a divergence nor a crash, and leaving
  it out would hide most trials of a pruned study and flatter the rest.

A complete trial's objective must be what its curve reduces to (as for every
tunebook trial): when reducing the intermediate values does not give
Optuna's value (a study that reports a final result unlike its last
intermediate value, or none at all), the value is appended as a last point,
one step after the last intermediate value (step 0 when there is none).
"""

from __future__ import annotations

import math
from typing import Any

from tunebook.core.experiment import Objective
from tunebook.core.objective import reduce_curve
from tunebook.core.states import TrialState
from tunebook.importing.record import Outcome
from tunebook.optuna_io import mapping

Curve = tuple[tuple[int, ...], tuple[float, ...]]


def trial_outcome(optuna: Any, trial: Any, objective: Objective) -> tuple[Curve, Outcome]:
    """The trial's objective curve and outcome, by the rules above."""
    states = optuna.trial.TrialState
    steps = tuple(sorted(trial.intermediate_values))
    values = tuple(float(trial.intermediate_values[s]) for s in steps)
    if trial.state == states.FAIL and mapping.STATE_ATTR in trial.user_attrs:
        return (steps, values), _failure(trial)
    diverged = next(((s, v) for s, v in zip(steps, values) if not math.isfinite(v)), None)
    if diverged is not None:
        reason = f"{objective.metric} is {diverged[1]!r} at step {diverged[0]} (Optuna {trial.state.name})"
        return (steps, values), Outcome(TrialState.INFEASIBLE, reason=reason)
    if trial.state == states.FAIL:
        return (steps, values), _failure(trial)
    value = trial.value if trial.value is not None else values[-1]
    if not math.isfinite(value):
        return (steps, values), Outcome(TrialState.INFEASIBLE, reason=f"its value is {value!r} (Optuna)")
    reduced = reduce_curve(steps, values, objective.mode, objective.reduce)
    if reduced is None or reduced[0] != value:
        steps, values = steps + ((steps[-1] + 1) if steps else 0,), values + (float(value),)
        reduced = reduce_curve(steps, values, objective.mode, objective.reduce)
    assert reduced is not None  # the curve holds a finite value
    reason = f"pruned by Optuna at step {steps[-1]}" if trial.state == states.PRUNED else None
    return (steps, values), Outcome(TrialState.COMPLETE, reduced[0], reduced[1], reason)


def _failure(trial: Any) -> Outcome:
    recorded = trial.user_attrs.get(mapping.STATE_ATTR)
    reason = trial.user_attrs.get(mapping.REASON_ATTR) or trial.system_attrs.get("fail_reason")
    if recorded == TrialState.INFEASIBLE.value:
        return Outcome(TrialState.INFEASIBLE, reason=reason or "infeasible (exported by tunebook)")
    return Outcome(TrialState.FAILED, reason=reason or "failed in Optuna (Optuna records no reason)")
