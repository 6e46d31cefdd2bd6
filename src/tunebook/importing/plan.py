"""Turn imported runs into an experiment and one trial per run, before anything is written.

Without a spec, the space is built from the values the runs hold: names
given as scientific become choices of their observed values, names given
as fixed (or holding one value across all runs) become fixed, and every
other param is a nuisance: numeric ones a range ``[min, max]`` (log scale
when all values are > 0 and max/min >= 100, int when all are whole), the
rest choices. With a spec, its roles and domains stand and each run must
fit them. Either way the stored search is ``explicit``, its points the
nuisance values the runs actually used: an honest record that these trials
were not sampled by tunebook.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

from tunebook.core.domains import Fixed, same_value
from tunebook.core.experiment import Experiment, SearchConfig, StudyPlan
from tunebook.core.search_checks import assign_point
from tunebook.core.space import format_value
from tunebook.importing.errors import ImportInputError
from tunebook.importing.runs import ImportedRun

LOG_RATIO = 100.0  # a positive range this wide (max/min) is searched on a log scale


@dataclasses.dataclass(frozen=True)
class ImportedTrial:
    """A run placed in its study, with params by hyperparameter id."""

    run: ImportedRun
    study: StudyPlan
    params: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class ImportPlan:
    """What an import will write: the experiment and its trials, in study then run order."""

    experiment: Experiment
    trials: tuple[ImportedTrial, ...]


def infer_spec(name: str, runs: Sequence[ImportedRun], objective: str, scientific: Sequence[str] = (),
               fixed: Sequence[str] = (), source: str | None = None) -> dict[str, Any]:
    """A spec (plain data) whose roles and domains come from the runs' params."""
    names = _same_names(runs, source)
    _check_role_names(names, scientific, fixed, source)
    sections: dict[str, dict[str, Any]] = {"scientific": {}, "nuisance": {}, "fixed": {}}
    problems = []
    for key in names:
        values = distinct_values([run.params[key] for run in runs])
        if key in scientific:
            sections["scientific"][key] = sorted_values(values)
        elif key in fixed or len(values) == 1:
            if len(values) > 1:
                shown = ", ".join(format_value(v) for v in sorted_values(values)[:5])
                problems.append(("--fixed", f"{key} takes {len(values)} values across runs ({shown}); "
                                            "a fixed hyperparameter has one"))
                continue
            sections["fixed"][key] = values[0]
        else:
            sections["nuisance"][key] = nuisance_domain(values)
    if problems:
        raise ImportInputError(problems, source)
    return {
        "name": name,
        "notes": f"Imported by tunebook import from {source} ({len(runs)} runs)." if source else "",
        "objective": objective,
        **{role: block for role, block in sections.items() if block},
        "search": {"algorithm": "explicit", "points": _points(runs, list(sections["nuisance"]))},
    }


def nuisance_domain(values: list[Any]) -> Any:
    """A range for numbers (log when wide and positive), else a choice of the values seen."""
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return values
    low, high = min(values), max(values)
    scale = "log" if low > 0 and high / low >= LOG_RATIO else "linear"
    kind = "int" if all(isinstance(v, int) for v in values) else "float"
    return {"low": low, "high": high, "scale": scale, "type": kind}


def plan_import(experiment: Experiment, runs: Sequence[ImportedRun], source: str | None = None) -> ImportPlan:
    """Place each run in its study; ImportInputError naming every run that does not fit.

    The returned experiment keeps the given space, objective and study layout;
    its search becomes ``explicit`` over the nuisance values the runs used.
    """
    _check_metric(experiment.objective.metric, runs, source)
    plans = experiment.studies()
    problems: list[tuple[str, str]] = []
    placed: list[ImportedTrial] = []
    points: list[dict[str, Any]] = []
    for run in runs:
        plan = _study_of(plans, run)
        if plan is None:
            problems.append((run.name, f"its scientific values fit no study of the experiment "
                                       f"(studies: {', '.join(p.key for p in plans)})"))
            continue
        params, run_problems = fit_run(plan, run.params)
        problems += [(f"{run.name} ({name})", message) for name, message in run_problems]
        if not run_problems:
            placed.append(ImportedTrial(run, plan, params))
            point = {hp.name: run.params[hp.name] for hp in plan.space.active(params) if not isinstance(hp.domain, Fixed)}
            if point not in points:
                points.append(point)
    if problems:
        raise ImportInputError(problems, source)
    search = SearchConfig("explicit", None, experiment.search.studies, 0, SearchConfig.resolution, tuple(points))
    final = Experiment.from_dict(dataclasses.replace(experiment, search=search).to_dict(), experiment.source)
    order = {p.key: i for i, p in enumerate(plans)}
    placed.sort(key=lambda t: order[t.study.key])  # stable: run order within a study
    return ImportPlan(dataclasses.replace(final, source=experiment.source), tuple(placed))


def fit_run(plan: StudyPlan, run_params: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Params by id for a run in ``plan``, and the problems found (name, message).

    Searched hyperparameters must hold values inside their domain; a fixed one
    must hold the fixed value; a param the space does not know is a problem.
    """
    searched = {hp.name for hp in plan.space if not isinstance(hp.domain, Fixed)}
    point = {k: v for k, v in run_params.items() if k in searched}
    params, problems = assign_point(plan.space, point)
    known = {hp.name for hp in plan.space}
    for hp in plan.space.active(params):
        if not isinstance(hp.domain, Fixed):
            continue
        if hp.name not in run_params:
            problems.append((hp.name, f"is missing; the experiment fixes it at {hp.domain.value!r}"))
        elif not same_value(run_params[hp.name], hp.domain.value):
            problems.append((hp.name, f"is {run_params[hp.name]!r} but the experiment fixes it at {hp.domain.value!r}"))
    for name in run_params:
        if name not in known:
            problems.append((name, "is not a hyperparameter of the experiment"))
    return params, problems


def _check_metric(metric: str, runs: Sequence[ImportedRun], source: str | None) -> None:
    if any(metric in run.curves for run in runs):
        return
    seen = sorted({m for run in runs for m in run.curves})
    if any(metric in run.summaries for run in runs):
        raise ImportInputError(f"the objective metric {metric!r} is only a final value given to add_hparams, not a "
                               f"curve: pick a metric the runs log with add_scalar ({', '.join(seen) or 'none'})",
                               source)
    raise ImportInputError(f"no run logs the objective metric {metric!r} (metrics: {', '.join(seen) or 'none'})",
                           source)


def _study_of(plans: list[StudyPlan], run: ImportedRun) -> StudyPlan | None:
    for plan in plans:
        if all(hp_name(k) in run.params and same_value(run.params[hp_name(k)], v) for k, v in plan.scientific.items()):
            return plan
    return None


def hp_name(param_id: str) -> str:
    return param_id.split("[", 1)[0]


def _same_names(runs: Sequence[ImportedRun], source: str | None) -> list[str]:
    names = list(dict.fromkeys(k for run in runs for k in run.params))
    problems = []
    for run in runs:
        missing = [k for k in names if k not in run.params]
        if missing:
            problems.append((run.name, f"lacks {', '.join(missing)}, which other runs set; conditional "
                                       "hyperparameters are not inferred: pass --spec"))
    if problems:
        raise ImportInputError(problems, source)
    return names


def _check_role_names(names: list[str], scientific: Sequence[str], fixed: Sequence[str], source: str | None) -> None:
    problems = []
    for option, given in (("--scientific", scientific), ("--fixed", fixed)):
        for key in given:
            if key not in names:
                problems.append((option, f"no run has a param {key!r} (params: {', '.join(names)})"))
    for key in sorted(set(scientific) & set(fixed)):
        problems.append((key, "is given both --scientific and --fixed"))
    if problems:
        raise ImportInputError(problems, source)


def _points(runs: Sequence[ImportedRun], nuisance: list[str]) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = []
    for run in runs:
        point = {k: run.params[k] for k in nuisance}
        if point not in points:
            points.append(point)
    return points


def distinct_values(values: Sequence[Any]) -> list[Any]:
    """``values`` without repeats (``same_value`` equality: 1 and 1.0 are one), in the order first seen."""
    out: list[Any] = []
    for value in values:
        if not any(same_value(value, seen) for seen in out):
            out.append(value)
    return out


def sorted_values(values: list[Any]) -> list[Any]:
    """``values`` sorted, or as given when their kinds do not compare."""
    try:
        return sorted(values)
    except TypeError:  # mixed kinds: keep the order first seen
        return values
