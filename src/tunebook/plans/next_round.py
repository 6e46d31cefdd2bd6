"""``plan next``: the next round's spec from a finished round, every change explained.

Each searched hyperparameter of the round gets one decision and one reason
(nothing is dropped silently), in this order of precedence:

1. scientific hyperparameters are kept: the next round's goal decides them
   ("Choosing the goal for the next round of experiments");
2. a nuisance range whose best trials crowd an edge of the range
   (``checks.boundary.crowded_edges``) is expanded past it
   (``range_moves.expand``, by ``--expand``); one whose best trials crowd the
   edge of an infeasible region is kept, and ``tunebook plan instability``
   is suggested (the optimum may lie beyond an instability);
3. a nuisance range with an infeasible region (``checks.infeasible.bad_region``)
   whose edge the best trials do not crowd is cut where the region starts;
4. a nuisance hyperparameter that is insensitive (``analysis.importance``:
   the 90 % interval of its share below 5 % over all trials, and not
   "matters" in the top region) and in no interacting pair is fixed at the best trial's value, and
   listed as a new caveat; one in an interacting pair is kept searched with
   its partner (never fix one of a pair);
5. a nuisance range is narrowed around the top trials where the sampling
   supports it (``range_moves.narrowed``);
6. anything else is kept, with the reason.

Fixed hyperparameters stay fixed; given a launched baseline's configuration,
its values replace theirs (the playbook's baseline is what later rounds are
measured against). ``exploit``: ``algorithm: bayesian`` warm-started from
this round; otherwise the same algorithm with the next seed, so the new
round samples new points.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, Mapping

from tunebook.analysis.best import ranked, study_keys
from tunebook.analysis.checks.boundary import crowded_edges
from tunebook.analysis.checks.infeasible import bad_region
from tunebook.analysis.importance import Importance, importance
from tunebook.core.domains import Choice, Fixed, Range, same_value
from tunebook.core.params_spec import space_to_dict
from tunebook.core.space import Hyperparameter, SearchSpace
from tunebook.plans.base import assemble, choose
from tunebook.plans.range_moves import cut, expand, narrowed
from tunebook.plans.records import Plan, PlanInputError, Reason, plan_note

if TYPE_CHECKING:
    from tunebook.analysis.checks.boundary import Crowding
    from tunebook.analysis.checks.infeasible import Region
    from tunebook.analysis.data import ExperimentData

BOUNDARY = "Identifying bad search space boundaries"
INSTABILITY = "How can optimization failures be debugged and mitigated?"
INSIGHT = "Exploration vs exploitation"
GOAL = "Choosing the goal for the next round of experiments"
DESIGN = "Designing the next round of experiments"

__all__ = ["Evidence", "gather", "next_round"]


@dataclasses.dataclass(frozen=True)
class Evidence:
    """What the round says, per hyperparameter id: crowded edges, infeasible regions, importance, best values."""

    importance: Importance
    crowded: Mapping[str, tuple["Crowding", ...]]
    regions: Mapping[str, tuple["Region", ...]]
    best: Mapping[str, Any]
    best_name: str
    top: Mapping[str, list[Any]]
    partners: Mapping[str, tuple[str, ...]]
    experiment: str = ""


def gather(data: "ExperimentData", top: float = 0.2, seed: int = 0) -> Evidence:
    """The evidence ``next_round`` decides on; PlanInputError when no trial completed."""
    best = ranked(data)
    if best.empty:
        raise PlanInputError([("EXPERIMENT", f"{data.experiment.name} has no complete trial with a finite "
                                             "objective: nothing to plan the next round from")])
    uniform = dataclasses.replace(data, trials=data.trials[~data.model_chosen()])
    crowded: dict[str, list[Crowding]] = {}
    for study in study_keys(uniform):
        for found in crowded_edges(uniform, study)[0]:
            crowded.setdefault(found.param, []).append(found)
    regions: dict[str, list[Region]] = {}
    finished = data.search_trials[data.search_trials["state"].isin(["complete", "infeasible"])]
    for hp in data.experiment.space:
        if hp.role == "nuisance" and isinstance(hp.domain, Range) and hp.id in finished.columns:
            rows = finished[finished[hp.id].notna()]
            for side in ("above", "below"):
                region = bad_region(rows[hp.id], rows["state"] == "infeasible", rows["trial_id"], hp.id, side)
                if region is not None:
                    regions.setdefault(hp.id, []).append(region)
    found = importance(data, top, seed)
    partners: dict[str, tuple[str, ...]] = {}
    for pair in found.interacting():
        a, b = pair.members
        partners[a] = partners.get(a, ()) + (b,)
        partners[b] = partners.get(b, ()) + (a,)
    k = max(1, math.ceil(top * len(best)))
    ids = data.param_ids()
    head = best.head(k)
    return Evidence(found, {p: tuple(c) for p, c in crowded.items()}, {p: tuple(r) for p, r in regions.items()},
                    {p: best.iloc[0][p] for p in ids}, data.trial_name(best.iloc[0]["trial_id"]),
                    {p: head[p].dropna().tolist() for p in ids}, partners, data.experiment.name)


def next_round(
    data: "ExperimentData", *, run: Mapping[str, Any], exploit: bool = False, expand_by: float = 2.0,
    top: float = 0.2, baseline: Mapping[str, Any] | None = None, baseline_name: str | None = None,
    name: str | None = None,
) -> Plan:
    """The next round's spec after ``data``'s round; ``run``: the ``run:`` section to carry over."""
    if not (isinstance(expand_by, (int, float)) and expand_by > 1 and math.isfinite(expand_by)):
        raise PlanInputError([("--expand", f"must be a number > 1 (how far past a crowded edge), got {expand_by!r}")])
    if not 0 < top <= 1:
        raise PlanInputError([("--top", f"must be in (0, 1], the share of best trials, got {top!r}")])
    evidence = gather(data, top)
    experiment = data.experiment
    reasons: list[Reason] = []
    params: list[Hyperparameter] = []
    fix: dict[str, Any] = {}
    for hp in experiment.space:
        new, reason = _decide(hp, evidence, expand_by)
        params.append(new)
        reasons.append(reason)
        if new.role == "fixed" and hp.role != "fixed" and isinstance(hp.domain, Choice) and not hp.condition:
            fix[hp.name] = new.domain.value
    space = SearchSpace(tuple(params))
    for parent, value in fix.items():  # a fixed choice's branches: the chosen one lifted out, the others gone
        space = choose(dataclasses.replace(space, params=tuple(
            dataclasses.replace(p, role="nuisance", domain=Choice((value,))) if p.name == parent and not p.condition
            else p for p in space)), parent, value)
    reasons = _dropped_branches(experiment.space, space, fix, reasons)
    space, baseline_reasons = _with_baseline(space, baseline, baseline_name)
    search, search_reasons = _search(data, exploit)
    sections = space_to_dict(space)
    goal = f"Next round after {experiment.name}: " + ("exploit (Bayesian optimization)" if exploit else "explore")
    notes = plan_note("next", source=experiment.name, best=evidence.best_name, top=top, expand=expand_by)
    spec = assemble(name=name or f"{experiment.name}-next", goal=goal, notes=notes,
                    objective=dict(_objective(experiment)), search=search, run=run, **sections)
    return Plan("next", spec, tuple(reasons + baseline_reasons + search_reasons))


def _dropped_branches(before: SearchSpace, after: SearchSpace, fixed: Mapping[str, Any],
                      reasons: list[Reason]) -> list[Reason]:
    """Each hyperparameter of a branch that fixing its parent choice ruled out: its reason says so instead."""
    kept = {(hp.name, tuple((p.split("[", 1)[0], v) for p, v in hp.condition)) for hp in after}
    out = []
    for hp, reason in zip(before, reasons):
        branch = [(p.split("[", 1)[0], v) for p, v in hp.condition]
        ruled_out = [f"{p}={v}" for p, v in branch if p in fixed and not same_value(fixed[p], v)]
        if ruled_out and (hp.name, tuple(branch)) not in kept:
            parent = ruled_out[0].split("=", 1)[0]
            reason = Reason(f"{hp.id}: dropped with its branch {ruled_out[0]}: {parent} is fixed at "
                            f"{_show(fixed[parent])} (see its line)", INSIGHT)
        out.append(reason)
    return out


def _objective(experiment: Any) -> dict[str, Any]:
    o = experiment.objective
    return {"metric": o.metric, "mode": o.mode, "reduce": o.reduce}


def _decide(hp: Hyperparameter, ev: Evidence, factor: float) -> tuple[Hyperparameter, Reason]:
    if hp.role == "fixed" or not hp.is_varied:
        return hp, Reason(f"{hp.id}: kept fixed at {_show(getattr(hp.domain, 'value', hp.domain))}", DESIGN)
    if hp.role == "scientific":
        return hp, Reason(f"{hp.id}: kept {hp.domain.describe()}: a scientific hyperparameter; the next round's "
                          "goal decides whether it stays", GOAL)
    crowded = ev.crowded.get(hp.id, ())
    if isinstance(hp.domain, Range) and crowded:
        return _at_edge(hp, crowded, factor, ev.experiment)
    regions = ev.regions.get(hp.id, ())
    share = _share_text(ev, hp.id)
    partners = ev.partners.get(hp.id, ())
    if partners:
        return _after_cut(hp, regions, f"kept searched together with {', '.join(partners)}: they interact "
                                       f"({share}); never fix one of a pair", INSIGHT)
    if _insensitive(ev, hp.id) and hp.id in ev.best and _present(ev.best[hp.id]):
        value = _plain(ev.best[hp.id])
        if isinstance(hp.domain, Range) and hp.domain.type == "int":
            value = int(round(value))
        return (dataclasses.replace(hp, role="fixed", domain=Fixed(value)),
                Reason(f"{hp.id}: fixed at {_show(value)}, the best trial's ({ev.best_name}) value: insensitive "
                       f"({share}). New caveat: the next round's conclusions hold for {hp.name}={_show(value)}",
                       INSIGHT))
    if isinstance(hp.domain, Range) and not regions:
        narrowing = narrowed(hp.domain, ev.top.get(hp.id, []))
        if narrowing.domain is not None:
            return (dataclasses.replace(hp, domain=narrowing.domain),
                    Reason(f"{hp.id}: narrowed {hp.domain.describe()} -> {narrowing.domain.describe()} around the "
                           f"good region: {narrowing.why}; {share}", INSIGHT))
        return hp, Reason(f"{hp.id}: kept {hp.domain.describe()}: not narrowed ({narrowing.why}); {share}", INSIGHT)
    return _after_cut(hp, regions, f"kept searched: {share}", INSIGHT)


def _at_edge(hp: Hyperparameter, crowded: tuple["Crowding", ...], factor: float,
             experiment: str) -> tuple[Hyperparameter, Reason]:
    studies = ", ".join(sorted({c.study for c in crowded}))
    unstable = [c for c in crowded if c.region is not None]
    if unstable:
        c = unstable[0]
        return hp, Reason(
            f"{hp.id}: kept {hp.domain.describe()}: the best trials (study {studies}) sit at the edge of an "
            f"infeasible region ({c.region.describe()}, all {len(c.region.trial_ids)} trials there diverged), so "
            f"the optimum may lie beyond an instability; run `tunebook plan instability "
            f"{experiment}/{c.study}/{c.top[0]['number']}` before moving this range", INSTABILITY)
    domain, note = hp.domain, ""
    sides = sorted({c.side for c in crowded})
    for side in sides:
        domain, limit = expand(domain, side, factor, hp.name)
        note += limit
    best = crowded[0].top[0]
    return (dataclasses.replace(hp, domain=domain),
            Reason(f"{hp.id}: expanded {hp.domain.describe()} -> {domain.describe()}{note}: the best trials crowd "
                   f"its {' and '.join(sides)} edge (study {studies}; best {hp.name}={best['value']:.3g}, "
                   f"{crowded[0].near} of the top {len(crowded[0].top)} in that half, p = "
                   f"{crowded[0].p_value:.2g}), past it by x{factor:g}", BOUNDARY))


def _after_cut(hp: Hyperparameter, regions: tuple["Region", ...], why: str,
               section: str) -> tuple[Hyperparameter, Reason]:
    """``hp`` with each infeasible region cut off (the best trials are not at its edge), or kept with ``why``."""
    if not regions or not isinstance(hp.domain, Range):
        return hp, Reason(f"{hp.id}: {why}", section)
    domain = hp.domain
    cuts = []
    for region in regions:
        domain = cut(domain, region.side, region.nearest_ok)
        cuts.append(f"all {len(region.trial_ids)} trials with {region.describe()} diverged (p = "
                    f"{region.p_value:.2g} by chance) and the best trials are not at that edge")
    return (dataclasses.replace(hp, domain=domain),
            Reason(f"{hp.id}: cut {hp.domain.describe()} -> {domain.describe()}: {'; '.join(cuts)}; {why}",
                   BOUNDARY))


def _insensitive(ev: Evidence, param: str) -> bool:
    """Insensitive over all trials, and not shown to matter in the good region (its few trials give wide
    intervals there, so "unsure" does not veto; "matters" does)."""
    overall, top = ev.importance.all, ev.importance.top
    share = overall.share(param) if overall.too_few is None else None
    if share is None or share.verdict != "insensitive":
        return False
    near = top.share(param) if top.too_few is None else None
    return near is None or near.verdict != "matters"


def _share_text(ev: Evidence, param: str) -> str:
    parts = []
    for region in (ev.importance.all, ev.importance.top):
        label = "all trials" if region.region == "all" else f"top {ev.importance.top_share:.0%}"
        if region.too_few is not None:
            parts.append(f"{label}: too few trials to tell")
            continue
        s = region.share(param)
        if s is not None:
            parts.append(f"{label}: {s.estimate:.1%} of the variance [{s.low:.1%}, {s.high:.1%}], {s.verdict}")
    return "; ".join(parts) or "no importance (it did not vary)"


def _with_baseline(space: SearchSpace, baseline: Mapping[str, Any] | None,
                   label: str | None) -> tuple[SearchSpace, list[Reason]]:
    """Fixed hyperparameters take the launched baseline's values, each change a reason."""
    if baseline is None:
        return space, []
    params, reasons = [], []
    for hp in space:
        if hp.role == "fixed" and hp.name in baseline and not same_value(hp.domain.value, baseline[hp.name]):
            reasons.append(Reason(f"{hp.id}: fixed {_show(hp.domain.value)} -> {_show(baseline[hp.name])}, the "
                                  f"launched baseline's value ({label})", DESIGN))
            hp = dataclasses.replace(hp, domain=Fixed(baseline[hp.name]))
        params.append(hp)
    if not reasons:
        reasons.append(Reason(f"the launched baseline ({label}) agrees with every fixed value", DESIGN))
    return SearchSpace(tuple(params)), reasons


def _search(data: "ExperimentData", exploit: bool) -> tuple[dict[str, Any], list[Reason]]:
    s = data.experiment.search
    trials = s.trials or 20
    if exploit:
        return ({"algorithm": "bayesian", "trials": trials, "studies": s.studies, "seed": s.seed,
                 "warm_start": [data.experiment.name]},
                [Reason(f"search: bayesian, warm-started from {data.experiment.name}'s trials ({trials} per study): "
                        "ready to be greedy, the next round focuses on the validation error", INSIGHT)])
    if s.algorithm == "explicit":  # its listed points belong to the old space
        count = s.trials or len(s.points)
        return ({"algorithm": "quasi_random", "trials": count, "studies": s.studies, "seed": s.seed},
                [Reason(f"search: quasi_random, {count} trials per study: the round listed its points by hand, and "
                        "they belong to the old search space", DESIGN)])
    search = {"algorithm": s.algorithm, "studies": s.studies, "seed": s.seed + 1}
    if s.trials is not None:
        search["trials"] = s.trials
    if s.initial is not None:
        search["initial"] = s.initial
    if s.warm_start:
        search["warm_start"] = [*s.warm_start, data.experiment.name]
    if s.algorithm == "grid":
        search["resolution"] = s.resolution
    return search, [Reason(f"search: {s.algorithm} with seed {s.seed + 1} (was {s.seed}), so the next round samples "
                           f"new points; trials per study kept at {s.trials}", DESIGN)]


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value
    return float(f"{value:.4g}") if isinstance(value, float) else value


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
