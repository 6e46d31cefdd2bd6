"""``compare_refs``: read two TRIAL references' repeats from a store and compare them (``analysis.compare``).

A side is named with the TRIAL syntax (``plans.reference``):

- ``EXPERIMENT/STUDY/NUMBER`` (or ``EXPERIMENT/NUMBER``): that trial's
  configuration, i.e. every trial of its experiment whose params equal its
  own apart from the seed parameter (``analysis.repeats``), itself included;
- ``EXPERIMENT``: the experiment's best trial and its repeats;
- ``EXPERIMENT/STUDY``: the study's best trial and its repeats; a retrain
  study (``source_trial_id`` set, e.g. ``retrain:num_layers=2:5``) names its
  source trial's configuration.

A side's repeat is *picked from a study* (``StudyPick``, for the study
variance and the winner's-curse warning) when it is the best complete trial
of a study that also ran other configurations. Both sides must share the
objective's metric and mode; they may come from different experiments (a
pipeline change run as a new experiment). Read-only: the store is never
written.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from typing import TYPE_CHECKING, Any

from tunebook.analysis.compare import Comparison, Repeat, Side, StudyPick, compare
from tunebook.analysis.repeats import DEFAULT_SEED_PARAM, repeats_of
from tunebook.analysis.seed_stats import MIN_SEEDS
from tunebook.analysis.next_steps import Where
from tunebook.core.errors import NotFoundError
from tunebook.storage.url import command_url
from tunebook.core.records import plain_name
from tunebook.plans.records import PlanInputError
from tunebook.plans.reference import ResolvedTrial, parse_trial_ref, resolve_trial
from tunebook.storage import with_store

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData
    from tunebook.storage.base import Store

__all__ = ["compare_refs", "side_of"]


def compare_refs(
    store: "Store | str | None", baseline_ref: str, candidate_ref: str, min_effect: float = 0.0,
    seed_param: str = DEFAULT_SEED_PARAM, seed: int = 0,
) -> Comparison:
    """The comparison of CANDIDATE against BASELINE (TRIAL references) in ``store`` (an open Store, a URL, or
    the default), with the commands that reproduce it and, when the evidence is short, those that gather more.

    Raises NotFoundError (with "did you mean") for an unknown reference and PlanInputError for sides whose
    objectives differ or a negative ``min_effect``.
    """
    if not (isinstance(min_effect, (int, float)) and math.isfinite(min_effect) and min_effect >= 0):
        raise PlanInputError([("--min-effect", f"must be a number >= 0 in the metric's units, got {min_effect!r}")])
    return with_store(store, lambda opened: _compare(opened, baseline_ref, candidate_ref, float(min_effect),
                                                     seed_param, seed))


def _compare(store: "Store", baseline_ref: str, candidate_ref: str, min_effect: float, seed_param: str,
             seed: int) -> Comparison:
    base, cand = (_resolve(ref, store) for ref in (baseline_ref, candidate_ref))
    _same_objective(base, cand)
    sides = [side_of(r, label, seed_param) for r, label in ((base, baseline_ref), (cand, candidate_ref))]
    objective = base.data.objective
    result = compare(*sides, mode=objective.mode, min_effect=min_effect, seed=seed, metric=objective.metric)
    where = Where(base.record.name, store=command_url(store.url) if hasattr(store, "url") else None)
    options = ([] if not min_effect else ["--min-effect", repr(min_effect)]) + \
        ([] if seed_param == DEFAULT_SEED_PARAM else ["--seed-param", seed_param])
    reproduce = where.command("compare", base.canonical, cand.canonical, *options)
    budgets = [_retrain_budget(r, store) for r in (base, cand)]
    warnings = result.warnings + _same_configuration(sides) + tuple(w for s in sides for w in _shared_seeds(s))
    return dataclasses.replace(result, warnings=warnings, commands=(reproduce,),
                               next_commands=_next(result, sides, budgets, where, seed_param, reproduce))


def side_of(resolved: ResolvedTrial, label: str, seed_param: str = DEFAULT_SEED_PARAM) -> Side:
    """The side a resolved reference names: its trial's repeats in ``resolved.data``, picked study if any."""
    data = resolved.data
    group = repeats_of(data, resolved.trial.id, seed_param)
    rows = data.trials.set_index("trial_id").loc[list(group.trial_ids)]
    seed_column = next((c for c in data.trials.columns if plain_name(str(c)) == seed_param), None)
    repeats = tuple(
        Repeat(data.trial_name(int(tid)), _number(row["objective"]) if row["state"] == "complete" else None,
               str(row["state"]), _seed(row.get(seed_column)) if seed_column else None)
        for tid, row in rows.iterrows()
    )
    return Side(label, repeats, ref=resolved.canonical, study=_pick(data, set(group.trial_ids)),
                params=dict(resolved.params))


def _pick(data: "ExperimentData", side_ids: set[int]) -> StudyPick | None:
    """The first study of the side's repeats whose best complete trial is one of them while other
    configurations ran there too (ties: the lower number)."""
    trials = data.trials
    complete = trials[(trials["state"] == "complete") & trials["objective"].map(_finite)]
    for study in dict.fromkeys(trials.loc[trials["trial_id"].isin(side_ids), "study"]):
        rows = complete[complete["study"] == study].sort_values(
            ["objective", "number"], ascending=[data.objective.mode == "min", True], kind="stable")
        if not len(rows) or rows["trial_id"].isin(side_ids).all():
            continue
        best = int(rows["trial_id"].iloc[0])
        if best in side_ids:
            return StudyPick(str(study), data.trial_name(best), tuple(float(v) for v in rows["objective"]))
    return None


def _next(result: Comparison, sides: list[Side], budgets: list[int], where: Where, seed_param: str,
          reproduce: str) -> tuple[str, ...]:
    """For "not enough evidence": retrain each side short of the seeds needed, then compare again.

    A side with fewer than ``MIN_SEEDS`` seeds is first brought to ``MIN_SEEDS``, and only the short sides are:
    its value leans on one trial (often a study's best, which flatters it), so a number of seeds estimated from
    the gap would rest on a biased effect. ``tunebook retrain -n N`` sets the retrain study's budget (a larger N
    extends it), so N is what that study already holds plus the seeds missing.
    """
    if result.decision != "not enough evidence":
        return ()
    short = any(len(s.repeats) < MIN_SEEDS for s in sides)
    target = MIN_SEEDS if short else (result.seeds_needed or MIN_SEEDS)
    seed_option = [] if seed_param == DEFAULT_SEED_PARAM else ["--seed-param", seed_param]
    steps = [where.command("retrain", s.ref, "-n", held + target - len(s.repeats), *seed_option)
             for s, held in zip(sides, budgets) if len(s.repeats) < target]
    return (*steps, reproduce) if steps else ()


def _retrain_budget(resolved: ResolvedTrial, store: "Store") -> int:
    """How many trials the retrain studies of ``resolved``'s trial hold already (studies linked to it)."""
    linked = {s.key for s in store.list_studies(resolved.record.id) if s.source_trial_id == resolved.trial.id}
    return int(resolved.data.trials["study"].isin(linked).sum()) if linked else 0


def _shared_seeds(side: Side) -> list[str]:
    """A warning when repeats of a side ran the same seed: a deterministic program gave one result twice."""
    seeds = [r.seed for r in side.repeats if r.seed is not None]
    shared = sorted({repr(x) for x in seeds if seeds.count(x) > 1})
    if not shared:
        return []
    return [f"{side.label}: repeats share seeds ({', '.join(shared)}): a deterministic program gives the same "
            f"number for the same seed, which makes the seed spread look smaller than it is; each is counted"]


def _same_configuration(sides: list[Side]) -> tuple[str, ...]:
    """A warning when both sides hold the very same repeats: the comparison cannot find a difference."""
    a, b = ({r.trial for r in s.repeats} for s in sides)
    if a != b or sides[0].ref.split("/")[0] != sides[1].ref.split("/")[0]:
        return ()
    return (f"both sides are the same configuration ({len(a)} repeats of {sides[0].ref}): there is nothing to "
            f"compare; name two different configurations",)


def _resolve(text: str, store: "Store") -> ResolvedTrial:
    """resolve_trial, a retrain study named as ``EXPERIMENT/STUDY`` read as its source trial, and "did you
    mean" added to an unknown experiment's or study's message."""
    try:
        return resolve_trial(_retrain_source(text, store) or text, store)
    except NotFoundError as error:
        raise NotFoundError(_did_you_mean(str(error), text, store)) from None


def _retrain_source(text: str, store: "Store") -> str | None:
    """``EXPERIMENT/STUDY/NUMBER`` of the source trial when ``text`` names a retrain study (one linked to the
    trial it reruns by ``source_trial_id``) without a number; None otherwise."""
    ref = parse_trial_ref(text)
    if ref.study is None or ref.number is not None:
        return None
    try:
        record = store.get_experiment(ref.experiment)
    except NotFoundError:
        return None
    studies = {s.id: s for s in store.list_studies(record.id)}
    linked = next((s for s in studies.values() if s.key == ref.study and s.source_trial_id is not None), None)
    if linked is None:
        return None
    source = store.get_trial(linked.source_trial_id)
    return f"{record.name}/{studies[source.study_id].key}/{source.number}"


def _did_you_mean(message: str, text: str, store: "Store") -> str:
    ref = parse_trial_ref(text)
    names = [r.name for r in store.list_experiments()]
    if ref.experiment not in names:
        options = names
        wanted = ref.experiment
        shape = "{}" + text[len(ref.experiment):]
    else:
        record = store.get_experiment(ref.experiment)
        options = list(dict.fromkeys(s.key for s in store.list_studies(record.id)))
        wanted = ref.study or ""
        shape = f"{ref.experiment}/{{}}" + (f"/{ref.number}" if ref.number is not None else "")
    close = difflib.get_close_matches(wanted, options, n=3, cutoff=0.6) if wanted not in options else []
    if not close:
        return message
    return message + "; did you mean " + " or ".join(repr(shape.format(c)) for c in close) + "?"


def _same_objective(base: ResolvedTrial, cand: ResolvedTrial) -> None:
    """Refuse sides judged by different metrics, modes or reductions: their numbers do not compare."""
    a, b = base.data.objective, cand.data.objective
    if (a.metric, a.mode, a.reduce) != (b.metric, b.mode, b.reduce):
        raise PlanInputError([("CANDIDATE", (
            f"{cand.ref.text!r} is judged by {_said(b)} but the baseline {base.ref.text!r} by {_said(a)}; a "
            f"comparison needs one objective, so compare trials of experiments that share it"))])


def _said(objective: Any) -> str:
    return f"{objective.metric} ({objective.mode}, {objective.reduce} over training)"


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _number(value: Any) -> float | None:
    return float(value) if _finite(value) else None


def _seed(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value
