"""``plan lr-sweep`` and ``advise max-steps``: an initial max_train_steps from a learning rate sweep.

The playbook ("Algorithm for picking an initial candidate for max_train_steps
using a learning rate sweep"): starting from a configuration that trains for N
steps, "run a constant learning rate sweep (i.e. grid search the learning
rate) without data augmentation and without regularization where each trial
trains for N steps. The number of steps required for the fastest trial in the
sweep to reach perfect training performance is our initial guess for
max_train_steps." And: "at a minimum, we should check that the optimal
learning rate in the study is not at the boundary of the search space".

The plan: learning_rate on a log grid (``--points``, default half a decade
apart: ceil(2 x decades) + 1, at least 5), ``schedule: constant``,
``warmup_steps: 0``, every regularization knob at 0, every other searched
hyperparameter pinned to one value, objective the training loss.

The advice: for each trial, the first step at which ``METRIC<=VALUE`` (or
``>=``) holds; the fastest trial's step is the initial max_train_steps. The
fastest learning rate at the edge of the sweep (the lowest or highest rate
tried, or within the boundary check's outer 10 % of the range on its scale)
makes the result untrustworthy; the edge of a region where every higher rate
diverged is the other boundary the playbook names: a sign of instability.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from tunebook.analysis.checks.boundary import EDGE, unit_position
from tunebook.analysis.curve_index import curve_index
from tunebook.core.domains import Choice, Range
from tunebook.core.errors import SpecError
from tunebook.core.experiment import Experiment
from tunebook.core.run_spec import DEFAULT_LOSS_METRICS, parse_run
from tunebook.core.spec import Problems
from tunebook.plans.base import REGULARIZATION, SCHEDULE_KEYS, assemble, load_spec, pin_space, run_section
from tunebook.plans.records import Advice, Plan, PlanInputError, Reason, plan_note
from tunebook.plans.reference import load_experiment
from tunebook.plans.scope import LR, finished, require_lr_sweep
from tunebook.storage import with_store

if TYPE_CHECKING:
    from tunebook.storage.base import Store

__all__ = ["Fit", "default_points", "lr_sweep", "max_steps", "parse_fit"]

SECTION = "Algorithm for picking an initial candidate for max_train_steps using a learning rate sweep"
NOT_BOUND = "Deciding how long to train when training is *not* compute-bound"
BOUNDARY = "Identifying bad search space boundaries"
INSTABILITY = "How can optimization failures be debugged and mitigated?"


def default_points(low: float, high: float) -> int:
    """Grid points half a decade apart: ceil(2 x decades) + 1, at least 5."""
    return max(5, math.ceil(2 * math.log10(high / low) - 1e-9) + 1)


def lr_sweep(
    spec: "str | Path | Experiment", *, low: float | None = None, high: float | None = None,
    points: int | None = None, max_train_steps: int | None = None, pins: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> Plan:
    """A constant learning rate grid sweep, without regularization, of the configuration ``spec`` describes."""
    base = load_spec(spec)
    lr_range = _lr_range(base, low, high)
    points = points if points is not None else default_points(*lr_range)
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise PlanInputError([("points", f"must be an integer >= 2, got {points!r}")])
    values, pinned = pin_space(base.space, dict(pins or {}), skip=(LR, *SCHEDULE_KEYS))
    off = [k for k in REGULARIZATION if k in values and values[k] != 0]
    values.update({k: 0 for k in REGULARIZATION if k in values})
    pinned = [p for p in pinned if p.split("=", 1)[0] not in REGULARIZATION]
    steps = _steps(values, max_train_steps, base)
    values.update({"max_train_steps": steps, "schedule": "constant", "warmup_steps": 0})
    loss = _loss_metric(base)
    reasons = [
        Reason(f"learning_rate: {points} points on a log grid over [{lr_range[0]:g}, {lr_range[1]:g}] "
               "(grid search the learning rate)", SECTION),
        Reason(f"schedule: constant, warmup_steps: 0 (a constant learning rate sweep); each trial trains for "
               f"N = {steps} steps", SECTION),
        Reason("regularization off: " + (", ".join(f"{k} (was {_was(base, k)})" for k in off) if off else
               "no regularization knob (dropout, weight_decay, label_smoothing) was on") +
               "; turn off data augmentation in the training program too", SECTION),
        Reason(f"objective: {loss} (min): the sweep asks how fast the training set is fit", SECTION),
    ]
    if pinned:
        reasons.append(Reason("pinned, so that only the learning rate varies: " + "; ".join(pinned), SECTION))
    reasons.append(Reason(f"afterwards: tunebook advise max-steps {name or base.name + '-lr-sweep'} "
                          "--fit METRIC<=VALUE", NOT_BOUND))
    out = assemble(
        name=name or f"{base.name}-lr-sweep",
        goal=f"How many steps does the fastest learning rate need to perfectly fit the training set? ({base.name})",
        notes=plan_note("lr-sweep", spec=base.name, max_train_steps=steps),
        objective={"metric": loss, "mode": "min", "reduce": "best"},
        nuisance={LR: {"low": lr_range[0], "high": lr_range[1], "scale": "log"}},
        fixed=values, search={"algorithm": "grid", "resolution": points},
        run=run_section(base.run, base.source),
    )
    return Plan("lr-sweep", out, tuple(reasons))


def _lr_range(base: Experiment, low: float | None, high: float | None) -> tuple[float, float]:
    found = [hp for hp in base.space if hp.name == LR]
    spec_low = spec_high = None
    if found and isinstance(found[0].domain, Range):
        spec_low, spec_high = found[0].domain.low, found[0].domain.high
    elif found and isinstance(found[0].domain, Choice):
        numbers = [v for v in found[0].domain.values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        spec_low, spec_high = (min(numbers), max(numbers)) if len(numbers) > 1 else (None, None)
    low = low if low is not None else spec_low
    high = high if high is not None else spec_high
    if low is None or high is None:
        raise SpecError([("learning_rate", "the spec has no learning_rate range to sweep; give --low and --high")],
                        base.source)
    if not 0 < low < high or not math.isfinite(high):
        raise PlanInputError([("learning_rate", f"a log grid needs 0 < low < high, got low={low:g} high={high:g}")])
    return float(low), float(high)


def _steps(values: dict[str, Any], given: int | None, base: Experiment) -> int:
    steps = given if given is not None else values.get("max_train_steps")
    if steps is None:
        raise SpecError([("max_train_steps", "each trial trains for N steps: give --max-steps N or fix "
                                             "max_train_steps in the spec")], base.source)
    if isinstance(steps, bool) or not isinstance(steps, (int, float)) or steps < 1 or steps != int(steps):
        raise PlanInputError([("max_train_steps", f"must be a whole number of steps >= 1, got {steps!r}")])
    return int(steps)


def _loss_metric(base: Experiment) -> str:
    """The first of the spec's training-loss metrics (``run.divergence.loss``, as ``parse_run`` reads it)."""
    metrics = parse_run(base.run, Problems(), need_program=False).loss_metrics
    return metrics[0] if metrics else DEFAULT_LOSS_METRICS[0]


def _was(base: Experiment, name: str) -> str:
    return next(hp.domain.describe() for hp in base.space if hp.name == name)


@dataclasses.dataclass(frozen=True)
class Fit:
    """``METRIC<=VALUE`` or ``METRIC>=VALUE``: when the training set counts as perfectly fit."""

    metric: str
    op: str  # "<=" or ">="
    value: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"

    def first_step(self, steps: np.ndarray, values: np.ndarray) -> int | None:
        hit = values <= self.value if self.op == "<=" else values >= self.value
        return int(steps[np.argmax(hit)]) if hit.any() else None


def parse_fit(text: str) -> Fit:
    """A Fit from ``train/error<=0`` or ``train/accuracy>=1``; PlanInputError naming the text otherwise."""
    match = re.fullmatch(r"\s*(.+?)\s*(<=|>=)\s*(\S+)\s*", text or "")
    value = _number(match.group(3)) if match else None
    if match is None or value is None:
        raise PlanInputError([("--fit", f"must be METRIC<=VALUE or METRIC>=VALUE (e.g. train/loss<=0.01), got {text!r}")])
    return Fit(match.group(1), match.group(2), value)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def max_steps(experiment: str, fit: "str | Fit", store: "Store | str | None" = None) -> Advice:
    """The initial max_train_steps from a finished learning rate sweep, with the boundary check."""
    fit = parse_fit(fit) if isinstance(fit, str) else fit
    _, data = with_store(store, lambda opened: load_experiment(experiment, opened))
    trials = data.trials
    require_lr_sweep(data, finished(data), experiment, "advise max-steps",
                     "a constant learning-rate grid of one configuration: `tunebook plan lr-sweep SPEC` pins every "
                     "other searched hyperparameter (or `--pin NAME=VALUE`), turns regularization off and trains "
                     "each trial for the same N steps.")
    if LR not in trials.columns:
        raise PlanInputError([("learning_rate", f"experiment {experiment!r} has no learning_rate hyperparameter to judge "
                                           "a sweep by")])
    logged = sorted(curve_index(data.curves).metrics)
    if fit.metric not in logged:
        raise PlanInputError([("--fit", f"no trial of {experiment!r} logged {fit.metric!r}; logged metrics: "
                                   f"{', '.join(logged) or 'none'}")])
    rows = _steps_to_fit(data, fit)
    numbers: dict[str, Any] = {"fit": str(fit), "trials": rows}
    reached = [r for r in rows if r["steps"] is not None]
    if not reached:
        longest = max((r["max_train_steps"] or 0 for r in rows), default=0)
        return Advice("max-steps", experiment, (
            f"No trial reached {fit} within its steps (up to {longest}).",), numbers, SECTION,
            warnings=(f"No learning rate perfectly fit the training set: rerun the sweep with more steps than "
                      f"{longest} (or check the --fit threshold).",))
    fastest = min(reached, key=lambda r: (r["steps"], -r[LR]))
    numbers.update({"max_train_steps": fastest["steps"], "fastest": fastest})
    lines = [f"{'learning_rate':>14}  steps to {fit}"]
    lines += [f"{r[LR]:>14.4g}  {_reached(r)}" for r in rows]
    lines += [f"Initial max_train_steps: {fastest['steps']} (the fastest trial, {fastest['trial']} at "
              f"learning_rate={fastest[LR]:.4g}, reached {fit} at step {fastest['steps']}).",
              "Use it for every trial of the next studies; never tune max_train_steps in a study, refine it "
              "from the best steps that retrospective checkpoint selection finds."]
    edge, warnings = _edge(data, rows, fastest)
    numbers["edge"] = edge
    warnings += _off_procedure(data)
    if len({r[LR] for r in rows}) < 2:
        warnings.append("Only one learning rate was tried: too few trials to tell whether a faster one exists "
                        "(a sweep needs at least 2; tunebook plan lr-sweep SPEC writes one).")
    return Advice("max-steps", experiment, tuple(lines), numbers, SECTION, warnings=tuple(warnings))


def _off_procedure(data: Any) -> list[str]:
    """Warnings for a sweep that is not the playbook's: a schedule that is not constant, warmup, regularization on.

    Read from the values the finished trials received (they do not vary: ``require_lr_sweep`` saw to it).
    """
    tried = finished(data)
    first = {hp.name: tried[hp.id].dropna().iloc[0] for hp in data.experiment.space
             if hp.id in tried.columns and len(tried[hp.id].dropna())}
    off = []
    if first.get("schedule", "constant") != "constant":
        off.append(f"schedule is {first['schedule']!r}, not constant")
    if first.get("warmup_steps", 0):
        off.append(f"warmup_steps is {first['warmup_steps']}, not 0")
    off += [f"{k} is {first[k]}, not 0" for k in REGULARIZATION if first.get(k, 0)]
    if not off:
        return []
    return [f"Not the playbook's sweep: {'; '.join(off)}. The procedure is \"a constant learning rate sweep ... "
            "without data augmentation and without regularization\"; with these the steps to fit are not the "
            f"initial max_train_steps it defines (tunebook plan lr-sweep SPEC writes that sweep) [{SECTION}]."]


def _reached(row: dict[str, Any]) -> str:
    if row["steps"] is not None:
        return str(row["steps"])
    if row["state"] == "infeasible":
        return "diverged"
    return f"not within {row['max_train_steps']} steps" if row["max_train_steps"] else "not reached"


def _steps_to_fit(data: Any, fit: Fit) -> list[dict[str, Any]]:
    index = curve_index(data.curves)
    rows = []
    tried = data.trials[data.trials["state"].isin(["complete", "infeasible"]) & data.trials[LR].notna()]
    for _, t in tried.sort_values(LR, kind="stable").iterrows():
        curve = index.points(int(t["trial_id"]), fit.metric) if t["state"] == "complete" else None
        steps = None if curve is None else fit.first_step(*curve)
        mts = t.get("max_train_steps")
        rows.append({LR: float(t[LR]), "trial": f"{data.experiment.name}/{data.trial_name(t['trial_id'])}",
                     "state": str(t["state"]), "steps": steps,
                     "max_train_steps": None if mts is None or mts != mts else int(mts)})
    return rows


def _edge(data: Any, rows: list[dict[str, Any]], fastest: dict[str, Any]) -> tuple[str | None, list[str]]:
    """Which edge the fastest rate sits at ('low', 'high', 'feasible') and the warnings it calls for."""
    rates = [r[LR] for r in rows]
    lr = fastest[LR]
    hp = next((h for h in data.experiment.space if h.name == LR), None)
    position = float(unit_position(hp.domain, [lr])[0]) if hp is not None and isinstance(hp.domain, Range) else None
    if lr <= min(rates) or (position is not None and position <= EDGE):
        side = "low"
    elif lr >= max(rates) or (position is not None and position >= 1 - EDGE):
        side = "high"
    else:
        above = [r for r in rows if r[LR] > lr]
        if above and all(r["state"] == "infeasible" for r in above):
            return "feasible", [
                f"Every learning rate above {lr:.4g} diverged and the fastest trial sits at the edge of that "
                f"region: the model may suffer from stability issues preventing it from accessing higher learning "
                f"rates [{BOUNDARY}]. Fixing them (tunebook plan instability) may lower max_train_steps "
                f"[{INSTABILITY}]."]
        return None, []
    word = "lowest" if side == "low" else "highest"
    return side, [
        f"The fastest learning rate {lr:.4g} is at the {side} edge of the sweep (the {word} rate tried): the result "
        f"cannot be trusted. Bad search spaces make self-deception possible: extend the range "
        f"{'below' if side == 'low' else 'above'} {lr:.4g} and run the sweep again [{SECTION}; {BOUNDARY}]."]
