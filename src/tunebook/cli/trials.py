"""``tunebook trials``: one row per trial of an experiment."""

from __future__ import annotations

from typing import Any

import click

from tunebook.cli.options import open_cli_store, store_option
from tunebook.cli.render import Column, emit, format_option
from tunebook.core.provenance import code_cell, code_summary, versions_by_id
from tunebook.core.readable import format_duration, reason_line
from tunebook.core.records import plain_name, trial_name

FIXED_COLUMNS = ("study", "trial", "state", "objective", "best step", "duration s", "attempt", "reason", "code")


@click.command("trials")
@click.argument("experiment")
@click.option("--show", "show", metavar="STUDY/NUMBER", default=None,
              help="One trial in full: outcome, params, the code version that produced it, the rerun command.")
@click.option("--diff", "diff_only", is_flag=True, help="With --show: print the trial's stored diff alone (for git apply).")
@store_option
@format_option
def trials_command(experiment: str, show: str | None, diff_only: bool, store_url: str | None, fmt: str) -> None:
    """Trials of EXPERIMENT: name (STUDY/NUMBER), params, state, objective, best step, duration, reason.

    The table shows the scientific then the nuisance hyperparameters in the
    spec's order (fixed ones are the same in every trial and left out) and
    fits the terminal, with a code column when the trials ran on different code
    versions; csv and json hold every field in full. ``--show STUDY/NUMBER``
    prints one trial with its code version and the command that reruns it.
    """
    from tunebook.core.experiment import Experiment

    if diff_only and show is None:
        raise click.UsageError("--diff needs --show STUDY/NUMBER: the diff of which trial?")
    with open_cli_store(store_url) as store:
        if show is not None:
            from tunebook.cli.show_trial import show_trial

            show_trial(store, experiment, show, fmt, diff_only)
            return
        record = store.get_experiment(experiment)
        keys = {s.id: s.key for s in store.list_studies(record.id)}
        trials = store.list_trials(experiment_id=record.id)
        versions = versions_by_id(store.get_code_version, (t.code_version_id for t in trials))
    code = {i: (code_cell(v), code_summary(v)) for i, v in versions.items()}  # once per version, not per trial
    rows = [_row(keys[t.study_id], t, *code.get(t.code_version_id, (code_cell(None), None))) for t in trials]
    if fmt == "json":
        emit(rows, fmt)
        return
    param_ids = list(dict.fromkeys(k for t in trials for k in t.params))
    flat = [{**{k: v for k, v in r.items() if k != "params"}, **r["params"]} for r in rows]
    if fmt == "csv":
        emit(flat, fmt, columns=list(FIXED_COLUMNS[:2]) + param_ids + list(FIXED_COLUMNS[2:]))
        return
    for row, trial in zip(flat, trials):
        row["name"] = trial_name(row["study"], row["trial"])
        row["duration"] = format_duration(row["duration s"])
        row["reason"] = reason_line(trial.reason)
    spec = Experiment.from_dict(dict(record.spec))
    per_value = spec.search.studies != "joint"
    columns = table_columns(spec.space, param_ids, scientific_in_name=per_value)
    if len({t.code_version_id for t in trials}) < 2:  # one version for all: `--show` tells it
        columns = [c for c in columns if c.key != "code"]
    emit(flat, fmt, title=f"trials of {experiment}", columns=columns)


def table_columns(space: Any, param_ids: list[str], scientific_in_name: bool = True) -> list[Column]:
    """The terminal table's columns: name, scientific, nuisance (space order), outcome, reason.

    On a narrow terminal the attempt, best step, duration and the later
    nuisance hyperparameters give way first (and the scientific ones before
    them when the trial's name, ``STUDY/NUMBER``, already holds their values);
    the reason is cut to fit.
    """
    roles = {hp.id: hp.role for hp in space}
    plain = [plain_name(i) for i in param_ids]
    params = []
    for role, keep in (("scientific", 55 if scientific_in_name else 90), ("nuisance", 70)):
        ids = [hp.id for hp in space if hp.role == role and hp.id in param_ids]
        for rank, hp_id in enumerate(ids):
            name = plain_name(hp_id) if plain.count(plain_name(hp_id)) == 1 else hp_id
            short = _initials(name) if role == "nuisance" else name  # lr, wd: as people write them
            params.append(Column(hp_id, short=short, keep=keep - rank, justify="right"))
    unknown = [Column(i, keep=20, justify="right") for i in param_ids if i not in roles]
    return [
        Column("name", header="trial"),
        *params, *unknown,
        Column("state", keep=95),
        Column("objective", keep=95, justify="right"),
        Column("best step", short="step", keep=40, justify="right"),
        Column("duration", short="time", keep=45, justify="right"),
        Column("attempt", short="att.", keep=10, justify="right"),
        Column("code", keep=50),
        Column("reason", keep=80, flex=True),
    ]


def _initials(name: str) -> str:
    """``learning_rate`` -> ``lr``, ``weight_decay`` -> ``wd`` (a branch id keeps its plain name); short names as they are."""
    if "[" in name or "_" not in name or len(name) <= 8:
        return name
    return "".join(part[0] for part in name.split("_") if part)


def _row(study_key: str, trial: Any, code: str, code_version: dict[str, Any] | None) -> dict[str, Any]:
    duration = None
    if trial.started_at and trial.finished_at:
        duration = round((trial.finished_at - trial.started_at).total_seconds(), 2)
    return {
        "study": study_key, "trial": trial.number, "name": trial_name(study_key, trial.number),
        "params": dict(trial.params), "state": trial.state.value,
        "objective": trial.objective, "best step": trial.best_step, "duration s": duration,
        "attempt": trial.attempt, "reason": trial.reason,
        "code": code, "code_version": code_version,
    }
