"""``plan adam``: which of Adam's hyperparameters to tune for a budget of trials, and over what ranges.

The playbook ("How should Adam's hyperparameters be tuned?"): with < 10
trials in a study tune only the (base) learning rate; 10-25: the learning
rate and beta1; 25+: the learning rate, beta1 and epsilon; "substantially
more than 25": beta2 as well. tunebook reads "substantially more" as at least
``MANY_TRIALS`` = 50 (twice 25). What is not tuned stays at Adam's defaults
(beta1 0.9, beta2 0.999, eps 1e-8) as a fixed hyperparameter.

Ranges (a trial receives the sampled value itself, so each is expressed in
the vocabulary's own names):

- ``learning_rate`` in [1e-5, 1e-1], log scale: it matters over orders of
  magnitude; the spec's own range is kept when it has one.
- ``beta1`` in [0.8, 0.99], linear: 1 - beta1 spans 0.01-0.2 around the
  default 0.9; a linear range over it covers the useful values evenly enough.
- ``eps`` in [1e-10, 1e-2], log scale: it "can matter" (the paper the playbook
  cites, Choi et al. 2019, found values far above the default useful), over
  many orders of magnitude.
- ``beta2`` one of [0.9, 0.99, 0.999, 0.9999]: 1 - beta2 on a log scale
  (0.1 to 0.0001), since a linear range over beta2 would sample almost
  nothing near 0.999, where it matters; a list is how the spec language
  samples orders of magnitude of 1 - beta2 evenly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunebook.core.domains import Choice, Fixed, Range
from tunebook.core.errors import SpecError
from tunebook.core.experiment import Experiment
from tunebook.core.params_spec import space_to_dict
from tunebook.plans.base import ADAM_DEFAULTS, assemble, choose, load_spec, run_section
from tunebook.plans.records import Plan, PlanInputError, Reason, plan_note

__all__ = ["BUDGETS", "MANY_TRIALS", "RANGES", "adam", "tuned_for"]

SECTION = "How should Adam's hyperparameters be tuned?"
OPTIMIZER_SECTION = "Choosing the optimizer"
MANY_TRIALS = 50  # "substantially more than 25"
# (trials per study from which it is tuned too, hyperparameter); the learning rate is always tuned
BUDGETS = ((10, "beta1"), (25, "eps"), (MANY_TRIALS, "beta2"))
BUDGET_RULES = (  # the playbook's rule for each number of tuned hyperparameters, 1 to 4
    "< 10 trials in a study: only tune the (base) learning rate",
    "10-25 trials: tune learning rate and beta1",
    "25+ trials: tune the learning rate, beta1 and epsilon",
    f"substantially more than 25 trials (tunebook: {MANY_TRIALS} or more): additionally tune beta2",
)
RANGES: dict[str, Any] = {
    "learning_rate": {"low": 1e-5, "high": 1e-1, "scale": "log"},
    "beta1": {"low": 0.8, "high": 0.99},
    "eps": {"low": 1e-10, "high": 1e-2, "scale": "log"},
    "beta2": [0.9, 0.99, 0.999, 0.9999],
}
ADAM_NAMES = ("learning_rate", "beta1", "beta2", "eps")
WHY_RANGE = {
    "learning_rate": "log scale: the learning rate matters over orders of magnitude",
    "beta1": "linear: 1 - beta1 spans 0.01-0.2 around Adam's default 0.9",
    "eps": "log scale: epsilon can matter over many orders of magnitude, far above its default 1e-8",
    "beta2": "1 - beta2 on a log scale (0.1 .. 0.0001): a linear range would almost never sample near 0.999",
}


def tuned_for(trials: int) -> tuple[str, ...]:
    """The Adam hyperparameters to tune with ``trials`` trials per study, in the playbook's order."""
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise PlanInputError([("trials", f"must be an integer >= 1 (trials per study), got {trials!r}")])
    return ("learning_rate", *(name for least, name in BUDGETS if trials >= least))


def adam(
    trials: int, spec: "str | Path | Experiment | None" = None, *, name: str | None = None,
    objective: str = "valid/loss:min", function: str = "train:train",
) -> Plan:
    """A spec tuning Adam's hyperparameters as nuisance for ``trials`` trials per study.

    From ``spec`` (a file or Experiment): its scientific and other
    hyperparameters, objective and run are kept, these are added. Without it:
    ``objective`` and ``run: {function: ...}`` make a spec of its own.
    """
    tuned = tuned_for(trials)
    base = None if spec is None else load_spec(spec)
    nuisance = {n: RANGES[n] for n in tuned}
    fixed: dict[str, Any] = {"optimizer": "adam", **{k: v for k, v in ADAM_DEFAULTS.items() if k not in tuned}}
    reasons = [_budget_reason(trials, tuned)]
    if base is None:
        from tunebook.analysis.objective import parse_objective

        o = parse_objective(objective)
        sections: dict[str, Any] = {"nuisance": nuisance, "fixed": fixed}
        goal_objective = {"metric": o.metric, "mode": o.mode, "reduce": o.reduce}
        run, search_extra, plan_name = {"function": function}, {}, name or "adam"
        reasons.append(Reason(f"run: function {function} (train(params, trial) in the spec's folder); change run: "
                              "to your own training program", OPTIMIZER_SECTION))
    else:
        sections, kept_lr = _merge(base, nuisance, fixed)
        if kept_lr:
            reasons.append(Reason(f"learning_rate keeps the spec's range {kept_lr}", SECTION))
        goal_objective = dict(base.to_dict()["objective"])
        run = run_section(base.run, base.source)
        search_extra = {"studies": base.search.studies, "seed": base.search.seed}
        plan_name = name or f"{base.name}-adam"
    reasons += [Reason(f"{n} in {_describe(sections['nuisance'][n])}: {WHY_RANGE[n]}", SECTION) for n in tuned]
    untuned = [f"{k}={v:g}" for k, v in ADAM_DEFAULTS.items() if k not in tuned]
    if untuned:
        reasons.append(Reason(f"fixed at Adam's defaults: {', '.join(untuned)} (Adam with fixed epsilon, beta1 and "
                              "beta2 is the simpler optimizer to start with)", OPTIMIZER_SECTION))
    reasons.append(Reason("search: quasi_random, the playbook's choice while exploring; the optimizer's "
                          "hyperparameters are nuisance hyperparameters, optimized away for each scientific value",
                          "Identifying scientific, nuisance, and fixed hyperparameters"))
    out = assemble(
        name=plan_name, goal=f"Tune Adam's hyperparameters ({', '.join(tuned)}) with {trials} trials per study",
        notes=plan_note("adam", trials=trials, tuned=",".join(tuned)), objective=goal_objective,
        search={"algorithm": "quasi_random", "trials": trials, **search_extra}, run=run, **sections,
    )
    return Plan("adam", out, tuple(reasons))


def _budget_reason(trials: int, tuned: tuple[str, ...]) -> Reason:
    return Reason(f"{trials} trials per study → tune {', '.join(tuned)} ({BUDGET_RULES[len(tuned) - 1]})", SECTION)


def _describe(domain: Any) -> str:
    if isinstance(domain, list):
        return "{" + ", ".join(f"{v:g}" for v in domain) + "}"
    scale = ", log" if domain.get("scale") == "log" else ""
    return f"[{domain['low']:g}, {domain['high']:g}{scale}]"


def _merge(base: Experiment, nuisance: dict[str, Any], fixed: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The spec's role sections with Adam's hyperparameters replaced; and the spec's lr range if kept.

    A spec choosing among optimizers is narrowed to its ``optimizer=adam`` branch.
    """
    space = base.space
    optimizer = next((hp for hp in space if hp.name == "optimizer" and not hp.condition), None)
    if optimizer is not None and isinstance(optimizer.domain, Choice) and "adam" in optimizer.domain.values:
        space = choose(space, "optimizer", "adam")
    problems, kept = [], None
    for hp in space:
        if hp.name in (*ADAM_NAMES, "optimizer") and hp.condition:
            problems.append((f"{hp.role}.{hp.id}", "the adam plan replaces this hyperparameter and cannot "
                                                   "edit one inside a branch; define it outside any branch"))
        elif hp.name == "optimizer" and not (isinstance(hp.domain, Fixed) and hp.domain.value == "adam"):
            problems.append((f"{hp.role}.optimizer", f"the adam plan tunes Adam alone: fix optimizer: adam or leave "
                                                     f"it out, got {hp.domain.describe()}"))
        elif hp.name == "learning_rate" and isinstance(hp.domain, Range):  # always tuned: keep the spec's range
            nuisance["learning_rate"] = {"low": hp.domain.low, "high": hp.domain.high, "scale": hp.domain.scale}
            kept = hp.domain.describe()
    if problems:
        raise SpecError(problems, base.source)
    sections = space_to_dict(space)
    for block in sections.values():
        for key in (*ADAM_NAMES, "optimizer"):
            block.pop(key, None)
    sections.setdefault("nuisance", {}).update(nuisance)
    sections.setdefault("fixed", {}).update(fixed)
    return sections, kept
