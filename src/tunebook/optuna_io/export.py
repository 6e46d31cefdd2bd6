"""Write an experiment's studies to an Optuna storage, one Optuna study per tunebook study.

Each study becomes ``EXPERIMENT/STUDY`` (``depth/num_layers=2``) with the
objective's direction and metric name (Optuna's ``metric_names``), its scientific values, fixed values and objective as
study user attributes, and one Optuna trial per finished tunebook trial
(mapping in ``mapping``): params with their distributions, the state, the
objective as value, the objective curve as intermediate values (thinned to
``MAX_INTERMEDIATE`` points), the trial's name (``STUDY/NUMBER``) and the
best value of every other metric as user attributes. Waiting and running
trials are left out (Optuna would show them as running forever).

All or nothing: everything is built and checked before the first write,
and studies written before a failure are deleted again. Studies of those
names already in the storage are refused, or deleted first with ``replace``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections import Counter
from typing import Any, Mapping

from tunebook.core.domains import Fixed
from tunebook.core.errors import ProblemsError
from tunebook.core.experiment import Experiment
from tunebook.core.objective import latest_per_step
from tunebook.core.records import StudyRecord, Trial, trial_name
from tunebook.core.space import SearchSpace
from tunebook.core.states import TrialState
from tunebook.optuna_io import mapping
from tunebook.storage.base import Store


class OptunaExportError(ProblemsError):
    """The experiment cannot be written to the Optuna storage as asked; nothing was written."""

    subject = "cannot export to Optuna"
    footer = "(nothing was written to the Optuna storage)"


@dataclasses.dataclass(frozen=True)
class StudyExport:
    """One Optuna study to write: its name, direction, user attributes and trials."""

    name: str
    direction: str
    attrs: Mapping[str, Any]
    trials: list  # optuna FrozenTrial
    states: Counter  # tunebook state -> trials written


@dataclasses.dataclass(frozen=True)
class ExportSummary:
    """What an export wrote and left out, for the user."""

    studies: list[StudyExport]
    left_out: list[tuple[str, str]]  # (trial name, why)
    thinned: int  # curves cut down to max_points
    other_metrics: list[str]  # exported as best values only
    replaced: list[str]  # study names deleted first


def export_experiment(store: Store, name: str, storage_url: str, replace: bool = False,
                      max_points: int = mapping.MAX_INTERMEDIATE) -> ExportSummary:
    """Write experiment ``name`` of ``store`` to the Optuna storage at ``storage_url``; what was written.

    Objective curves longer than ``max_points`` are thinned (``mapping.thin``).

    OptunaExportError (nothing written) when the storage cannot be opened,
    holds studies of these names and ``replace`` is False, or a trial does
    not fit its study's space. NotFoundError if there is no such experiment.
    """
    optuna = mapping.optuna_module()
    record = store.get_experiment(name)
    experiment = Experiment.from_dict(dict(record.spec))
    studies = store.list_studies(record.id)
    trials = store.list_trials(experiment_id=record.id)
    curves = _curves(store, record.id)
    left_out: list[tuple[str, str]] = []
    thinning = _Thinning(max_points)
    exports = [_study_export(optuna, experiment, study, [t for t in trials if t.study_id == study.id], curves,
                             left_out, thinning) for study in studies]
    storage = _open(optuna, storage_url)
    existing = set(optuna.study.get_all_study_names(storage))
    taken = [export.name for export in exports if export.name in existing]
    if taken and not replace:
        raise OptunaExportError([(study, "is already in the storage; pass --replace to overwrite it")
                                 for study in taken], mapping.hide_password(storage_url))
    _write(optuna, storage, exports, taken)
    others = sorted({metric for per_trial in curves.values() for metric in per_trial} - {experiment.objective.metric})
    return ExportSummary(exports, left_out, thinning.count, others, taken)


@dataclasses.dataclass
class _Thinning:
    """The most intermediate values a trial gets, and how many curves were thinned to it so far."""

    limit: int
    count: int = 0


def _open(optuna: Any, url: str) -> Any:
    """Optuna's storage at ``url``; refused when it is a SQLite file holding something else (a tunebook store
    named by mistake would otherwise receive Optuna's tables)."""
    from tunebook.storage.url import sqlite_file

    file = sqlite_file(url)
    if file is not None and file.exists() and file.stat().st_size:
        tables = _sqlite_tables(file)
        if tables is None or tables and "trial_intermediate_values" not in tables:  # Optuna's own table
            raise OptunaExportError(f"{file} is a SQLite file but not an Optuna storage "
                                    f"(tables: {', '.join(sorted(tables or [])) or 'unreadable'})")
    try:
        return optuna.storages.RDBStorage(url)
    except Exception as exc:  # noqa: BLE001 - sqlalchemy and optuna raise assorted errors on bad URLs
        raise OptunaExportError(f"cannot open the Optuna storage: {exc}", mapping.hide_password(url)) from None


def _sqlite_tables(file: Any) -> set[str] | None:
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as connection:
            return {row[0] for row in connection.execute("select name from sqlite_master where type = 'table'")}
    except sqlite3.Error:
        return None


def _curves(store: Store, experiment_id: int) -> dict[int, dict[str, tuple[list[int], list[float]]]]:
    """trial id -> metric -> (steps, values), the last value logged at each step."""
    frame = store.load_curves(experiment_id=experiment_id)
    found: dict[int, dict[str, tuple[list[int], list[float]]]] = {}
    for (trial_id, metric), points in frame.groupby(["trial_id", "metric"], observed=True, sort=False):
        found.setdefault(int(trial_id), {})[str(metric)] = latest_per_step(points["step"].tolist(),
                                                                            points["value"].tolist())
    return found


def _study_export(optuna: Any, experiment: Experiment, study: StudyRecord, trials: list[Trial],
                  curves: Mapping[int, Mapping[str, tuple]], left_out: list, thinning: _Thinning) -> StudyExport:
    space = experiment.space.resolve(study.scientific)
    objective = experiment.objective
    attrs = {
        mapping.EXPERIMENT_ATTR: experiment.name,
        mapping.STUDY_ATTR: study.key,
        mapping.OBJECTIVE_ATTR: dataclasses.asdict(objective),
        mapping.SCIENTIFIC_ATTR: dict(study.scientific),
        mapping.FIXED_ATTR: {hp.id: hp.domain.value for hp in space.with_role("fixed")},  # type: ignore[union-attr]
        mapping.SCIENTIFIC_PARAMS_ATTR: [hp.id for hp in space.with_role("scientific")
                                         if not isinstance(hp.domain, Fixed)],
        mapping.LAYOUT_ATTR: experiment.search.studies,
    }
    frozen, states, problems = [], Counter(), []
    for trial in trials:
        label = trial_name(study.key, trial.number)
        if not trial.state.is_finished:
            left_out.append((label, f"{trial.state.value}, not finished"))
            continue
        try:
            frozen.append(_frozen_trial(optuna, trial, label, space, objective, curves.get(trial.id, {}), thinning))
        except ValueError as exc:
            problems.append((label, str(exc)))
            continue
        states[trial.state.value] += 1
    if problems:
        raise OptunaExportError(problems, f"experiment {experiment.name}")
    direction = "minimize" if objective.mode == "min" else "maximize"
    return StudyExport(f"{experiment.name}/{study.key}", direction, attrs, frozen, states)


def _frozen_trial(optuna: Any, trial: Trial, label: str, space: SearchSpace, objective: Any,
                  curves: Mapping[str, tuple], thinning: _Thinning) -> Any:
    """The Optuna trial for a finished tunebook trial; ValueError naming the param that does not fit."""
    params, distributions = {}, {}
    for param_id, value in trial.params.items():
        try:
            hp = space[param_id]
        except KeyError:
            raise ValueError(f"param {param_id} = {value!r} is not in the experiment's space (its spec changed?)")
        if not isinstance(hp.domain, Fixed):  # fixed values are study attributes
            params[param_id], distributions[param_id] = value, mapping.distribution(hp.domain)
    attrs: dict[str, Any] = {mapping.TRIAL_ATTR: label, mapping.STATE_ATTR: trial.state.value}
    if trial.reason:
        attrs[mapping.REASON_ATTR] = trial.reason
    for metric, (_, values) in curves.items():
        best = mapping.best_value(metric, values) if metric != objective.metric else None
        if best is not None:
            attrs[mapping.BEST_PREFIX + metric] = best
    steps, values = curves.get(objective.metric, ((), ()))
    if len(steps) > thinning.limit:
        thinning.count += 1
    steps, values = mapping.thin(steps, values, [trial.best_step] if trial.best_step is not None else [],
                                 thinning.limit)
    complete = trial.state is TrialState.COMPLETE and trial.objective is not None
    frozen = optuna.trial.create_trial(
        state=optuna.trial.TrialState.COMPLETE if complete else optuna.trial.TrialState.FAIL,
        value=trial.objective if complete else None, params=params, distributions=distributions,
        user_attrs=attrs, system_attrs={} if complete else {"fail_reason": trial.reason or trial.state.value},
        intermediate_values=dict(zip(steps, values)),
    )
    if trial.started_at and trial.finished_at:  # Optuna keeps naive local times
        frozen.datetime_start = trial.started_at.astimezone().replace(tzinfo=None)
        frozen.datetime_complete = trial.finished_at.astimezone().replace(tzinfo=None)
    return frozen


def _write(optuna: Any, storage: Any, exports: list[StudyExport], replaced: list[str]) -> None:
    """Create every study; on any failure delete the ones this call created and raise OptunaExportError."""
    for name in replaced:
        optuna.delete_study(study_name=name, storage=storage)
    created: list[str] = []
    try:
        for export in exports:
            study = optuna.create_study(storage=storage, study_name=export.name, direction=export.direction)
            created.append(export.name)
            with warnings.catch_warnings():  # experimental since Optuna 3.2; the dashboard labels the value with it
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.set_metric_names([export.attrs[mapping.OBJECTIVE_ATTR]["metric"]])
            for key, value in export.attrs.items():
                study.set_user_attr(key, value)
            study.add_trials(export.trials)
    except BaseException as exc:
        for name in created:
            try:
                optuna.delete_study(study_name=name, storage=storage)
            except Exception:  # noqa: BLE001 - the storage is failing already; report the first error
                pass
        if not isinstance(exc, Exception):
            raise
        lost = f"; the studies it replaced ({', '.join(replaced)}) were deleted first" if replaced else ""
        raise OptunaExportError(f"writing failed: {exc}{lost}") from None
