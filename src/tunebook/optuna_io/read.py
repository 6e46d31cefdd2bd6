"""Read Optuna studies into an import plan: the experiment, one run per Optuna trial, and how each ended.

The space comes from the params' distributions (``import_space``). Each
trial's intermediate values become the objective curve (metric: the
objective an export recorded in the study's user attributes, else
``objective``); states map as ``outcome`` says. Everything is read and
checked before anything is written; every problem (naming the study, the
trial and the field) is raised together in one ImportInputError.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Mapping, Sequence

from tunebook.core.domains import Fixed, same_value
from tunebook.core.experiment import Experiment
from tunebook.core.search_checks import assign_point
from tunebook.core.states import TrialState
from tunebook.importing.errors import ImportInputError
from tunebook.importing.plan import ImportedTrial, ImportPlan, plan_import
from tunebook.importing.record import Outcome
from tunebook.importing.runs import ImportedRun
from tunebook.optuna_io import mapping
from tunebook.optuna_io.import_space import ParamSource, build_sections
from tunebook.optuna_io.outcome import trial_outcome

Problems = list[tuple[str, str]]


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A finished Optuna trial that may become a run: its run name, its Optuna trial and params as read."""

    run_name: str  # STUDY#NUMBER
    trial: Any  # optuna FrozenTrial
    source: ParamSource
    full: bool  # it sampled every param it would (see _is_full)


@dataclasses.dataclass(frozen=True)
class OptunaImport:
    """What an Optuna import writes (``plan``, each run's ``outcomes`` by run name) and what it leaves out."""

    plan: ImportPlan
    outcomes: Mapping[str, Outcome]
    left_out: list[tuple[str, str]]  # (trial, why)
    notes: list[tuple[str, str]]  # (what, what did not carry over)


def read_optuna(storage_url: str, study_names: Sequence[str], *, name: str | None = None, metric: str | None = None,
                mode: str | None = None, scientific: Sequence[str] = (), fixed: Sequence[str] = ()) -> OptunaImport:
    """Read the named studies of the Optuna storage at ``storage_url`` as experiment ``name``.

    ``name`` defaults to the experiment an export recorded in every study,
    else to the one study's name (characters a name cannot hold become '-').
    ``metric`` names the objective's curve (default: the one an export
    recorded, else the study's metric name (``set_metric_names``), else
    ``objective``); ``mode`` (min/max), when given, must agree
    with the studies' direction. ImportInputError lists every problem.
    """
    optuna = mapping.optuna_module()
    source = mapping.hide_password(storage_url)
    studies = _load_studies(optuna, storage_url, study_names, source)
    objective = _objective(studies, metric, mode, source)
    name = name or _default_name(studies, source)
    scientific, joint = _recorded_roles(studies, scientific)
    problems: Problems = []
    notes: Problems = []
    left_out: list[tuple[str, str]] = []
    candidates = _candidates(optuna, studies, scientific, fixed, left_out)
    _check_role_names(candidates, scientific, fixed, problems)
    full = [c.source for c in candidates if c.full] or [c.source for c in candidates]
    sections = build_sections(full, scientific, fixed, problems, notes, joint)
    if problems:
        raise ImportInputError(problems, source)
    spec = {"name": name, "objective": objective, **sections,
            "notes": f"Imported by tunebook import optuna from {source} (studies: {', '.join(study_names)}).",
            "search": {"algorithm": "random", "trials": 1,  # plan_import makes it explicit over the trials
                       "studies": "joint" if joint else "per_scientific_value"}}
    experiment = Experiment.from_dict(spec, source)
    runs, partial, outcomes = _runs(optuna, candidates, experiment, left_out)
    plan = _with_partial(plan_import(experiment, runs, source), partial, [c.run_name for c in candidates], left_out)
    _note_user_attrs(studies, notes)
    return OptunaImport(plan, outcomes, left_out, notes)


def _load_studies(optuna: Any, url: str, names: Sequence[str], source: str) -> list[Any]:
    try:
        storage = optuna.storages.RDBStorage(url, skip_table_creation=True)  # reading adds no tables to a wrong file
        existing = optuna.study.get_all_study_names(storage)
    except Exception as exc:  # noqa: BLE001 - sqlalchemy and optuna raise assorted errors on bad URLs
        raise ImportInputError(f"cannot open the Optuna storage: {exc}", source) from None
    problems: Problems = []
    studies = []
    for study_name in names:
        if study_name not in existing:
            shown = ", ".join(repr(n) for n in existing[:10]) or "none"
            problems.append((f"--study {study_name!r}", f"no such study in the storage (studies: {shown})"))
            continue
        study = optuna.load_study(study_name=study_name, storage=storage)
        if len(study.directions) > 1:
            directions = ", ".join(d.name.lower() for d in study.directions)
            problems.append((f"study {study_name!r}", f"has {len(study.directions)} objectives ({directions}); "
                                                      "tunebook judges trials by one objective, so multi-objective "
                                                      "studies are not imported"))
            continue
        studies.append(study)
    if not names:
        problems.append(("--study", "name at least one study"))
    if problems:
        raise ImportInputError(problems, source)
    return studies


def _recorded_roles(studies: list[Any], scientific: Sequence[str]) -> tuple[list[str], bool]:
    """The scientific names given plus those an export recorded, and whether every study says it was joint."""
    recorded = []
    for study in studies:
        attrs = study.user_attrs
        for key in (*attrs.get(mapping.SCIENTIFIC_ATTR, {}), *attrs.get(mapping.SCIENTIFIC_PARAMS_ATTR, [])):
            recorded.append(mapping.split_id(key)[0])
    joint = all(s.user_attrs.get(mapping.LAYOUT_ATTR) == "joint" for s in studies)
    return list(dict.fromkeys([*scientific, *recorded])), joint


def _default_name(studies: list[Any], source: str) -> str:
    recorded = {s.user_attrs.get(mapping.EXPERIMENT_ATTR) for s in studies}
    if len(recorded) == 1 and None not in recorded:
        return str(recorded.pop())
    if len(studies) == 1:
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", studies[0].study_name).strip("-.") or "optuna"
    raise ImportInputError("--name is required to import several studies that no single export wrote", source)


def _objective(studies: list[Any], metric: str | None, mode: str | None, source: str) -> dict[str, str]:
    """The experiment's objective: the metric, the studies' one direction, and how a curve is reduced.

    An exported study records its objective; other studies' value is the
    trial's final result, so ``reduce`` is ``final`` (``outcome`` puts the
    value last on the curve).
    """
    directions = {s.study_name: ("min" if s.direction.name == "MINIMIZE" else "max") for s in studies}
    if len(set(directions.values())) > 1:
        raise ImportInputError([(f"study {k!r}", f"{'minimizes' if v == 'min' else 'maximizes'}, unlike the others")
                                for k, v in directions.items()], source)
    direction = next(iter(directions.values()))
    if mode is not None and mode != direction:
        verb = "minimize" if direction == "min" else "maximize"
        raise ImportInputError(f"--objective says {mode}, but the studies {verb} their value", source)
    recorded = next((s.user_attrs[mapping.OBJECTIVE_ATTR] for s in studies if mapping.OBJECTIVE_ATTR in s.user_attrs),
                    None)
    recorded = recorded if isinstance(recorded, dict) else {}
    named = next((s.metric_names[0] for s in studies if s.metric_names), None)
    return {"metric": metric or recorded.get("metric") or named or mapping.DEFAULT_METRIC, "mode": direction,
            "reduce": recorded.get("reduce") if recorded.get("reduce") in ("best", "final") else "final"}


def _candidates(optuna: Any, studies: list[Any], scientific: Sequence[str], fixed: Sequence[str],
                left_out: list[tuple[str, str]]) -> list[Candidate]:
    """Every trial of the studies that can be imported; the others go to ``left_out`` with why."""
    candidates = []
    for study in studies:
        study_values = _study_values(study, scientific, fixed)
        for trial in study.get_trials(deepcopy=False):
            label = f"study {study.study_name!r} trial {trial.number}"
            why = _left_out_why(optuna, trial)
            if why:
                left_out.append((label, why))
                continue
            source = ParamSource(label, dict(trial.params), dict(trial.distributions), study_values)
            candidates.append(Candidate(f"{study.study_name}#{trial.number}", trial, source, _is_full(optuna, trial)))
    return candidates


def _study_values(study: Any, scientific: Sequence[str], fixed: Sequence[str]) -> dict[str, Any]:
    """Values this study holds for all its trials: an export's scientific and fixed values, and the study
    user attributes named by --scientific/--fixed that its trials do not set as params."""
    attrs = study.user_attrs
    values = dict(attrs.get(mapping.FIXED_ATTR, {}))
    values.update(attrs.get(mapping.SCIENTIFIC_ATTR, {}))
    params = {k for t in study.get_trials(deepcopy=False) for k in t.params}
    for key in list(scientific) + list(fixed):
        if key not in params and key in attrs and key not in values:
            values[key] = attrs[key]
    return values


def _check_role_names(candidates: list[Candidate], scientific: Sequence[str], fixed: Sequence[str],
                      problems: Problems) -> None:
    known = {mapping.split_id(k)[0] for c in candidates for k in (*c.source.params, *c.source.study_values)}
    for option, given in (("--scientific", scientific), ("--fixed", fixed)):
        for key in given:
            if key not in known:
                problems.append((option, f"{key!r} is neither a param of the trials nor a user attribute of "
                                         f"every study (params: {', '.join(sorted(known)) or 'none'})"))
    for key in sorted(set(scientific) & set(fixed)):
        problems.append((key, "is given both --scientific and --fixed"))


def _left_out_why(optuna: Any, trial: Any) -> str | None:
    states = optuna.trial.TrialState
    if trial.state in (states.RUNNING, states.WAITING):
        return f"{trial.state.name.lower()}, not finished"
    if trial.state == states.PRUNED and not trial.intermediate_values and trial.value is None:
        return "pruned before it reported any value"
    return None


def _is_full(optuna: Any, trial: Any) -> bool:
    """Whether the trial sampled every param it would: anything but a crash (which may stop midway),
    or a crash an export wrote (it carries the tunebook state)."""
    return trial.state != optuna.trial.TrialState.FAIL or mapping.STATE_ATTR in trial.user_attrs


def _runs(optuna: Any, candidates: list[Candidate], experiment: Experiment,
          left_out: list) -> tuple[list[ImportedRun], list[ImportedRun], dict[str, Outcome]]:
    """The runs that fit the space, the crashes that stopped before sampling all params, and every outcome.

    A crash whose params are wrong otherwise (a value outside its domain) is left out.
    """
    runs, partial, outcomes = [], [], {}
    objective = experiment.objective
    for candidate in candidates:
        source = candidate.source
        params = {mapping.split_id(k)[0]: v for k, v in {**source.params, **source.study_values}.items()}
        curve, outcome = trial_outcome(optuna, candidate.trial, objective)
        run = ImportedRun(candidate.run_name, params, {objective.metric: curve} if curve[0] else {}, source.label)
        misfits = [] if candidate.full else assign_point(experiment.space, params)[1]
        if any("is missing" not in message for _, message in misfits):
            path, message = next(m for m in misfits if "is missing" not in m[1])
            left_out.append((source.label, f"a crash whose {path} {message}"))
            continue
        if misfits:
            missing = ", ".join(path for path, _ in misfits)
            outcome = Outcome(TrialState.FAILED, reason=f"crashed before sampling {missing} ({outcome.reason})")
        (partial if misfits else runs).append(run)
        outcomes[candidate.run_name] = outcome
    return runs, partial, outcomes


def _with_partial(plan: ImportPlan, partial: list[ImportedRun], order: list[str],
                  left_out: list[tuple[str, str]]) -> ImportPlan:
    """``plan`` with the crashes that stopped before sampling every param, in Optuna's order within each study.

    Such a trial keeps the params it sampled (the others are absent, as in a
    branch it did not take); one that crashed before a scientific value is
    known fits no study and is left out.
    """
    studies = plan.experiment.studies()
    placed = list(plan.trials)
    for run in partial:
        study = next((s for s in studies if all(mapping.split_id(k)[0] in run.params and
                                                same_value(run.params[mapping.split_id(k)[0]], v)
                                                for k, v in s.scientific.items())), None)
        if study is None:
            left_out.append((run.curve_file, "crashed before its scientific values were sampled"))
            continue
        params: dict[str, Any] = {}
        for hp in study.space:
            if hp.is_active(params) and isinstance(hp.domain, Fixed):
                params[hp.id] = hp.domain.value
            elif hp.is_active(params) and hp.name in run.params and hp.domain.contains(run.params[hp.name]):
                params[hp.id] = run.params[hp.name]
        placed.append(ImportedTrial(run, study, params))
    position = {name: i for i, name in enumerate(order)}
    keys = [s.key for s in studies]
    placed.sort(key=lambda t: (keys.index(t.study.key), position[t.run.name]))
    return ImportPlan(plan.experiment, tuple(placed))


def _note_user_attrs(studies: list[Any], notes: Problems) -> None:
    skipped = {mapping.TRIAL_ATTR, mapping.STATE_ATTR, mapping.REASON_ATTR}
    names = sorted({k for s in studies for t in s.get_trials(deepcopy=False) for k in t.user_attrs} - skipped)
    if names:
        notes.append(("trial user attributes", f"{', '.join(names)}: not imported (single values, not curves)"))
