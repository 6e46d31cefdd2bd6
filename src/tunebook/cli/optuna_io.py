"""``tunebook export optuna`` and ``tunebook import optuna``: experiments to and from Optuna storages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tunebook.cli.options import open_cli_store, store_option

storage_option = click.option(
    "--storage", "storage_url", required=True, metavar="URL",
    help="Optuna storage: an RDB URL (sqlite:///optuna.db, postgresql://...) or a SQLite file path.",
)


def storage_url(text: str) -> str:
    """An Optuna storage URL: a plain path is a SQLite file."""
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


@click.group("export")
def export_group() -> None:
    """Write an experiment out for other tools."""


@export_group.command("optuna")
@click.argument("experiment")
@storage_option
@click.option("--replace", is_flag=True,
              help="Delete studies of the same names in the storage first (default: refuse to export).")
@click.option("--max-points", type=click.IntRange(min=10), default=None, metavar="N",
              help="Thin objective curves to N intermediate values (default 200; Optuna writes each one by itself).")
@store_option
def export_optuna_command(experiment: str, storage_url: str, replace: bool, max_points: int | None,
                          store_url: str | None) -> None:
    """Write EXPERIMENT's studies to an Optuna storage as studies EXPERIMENT/STUDY, for optuna-dashboard.

    Infeasible (diverged) and failed (crashed) trials are both Optuna FAIL
    trials, told apart by the user attribute tunebook_state.
    """
    from tunebook.optuna_io import export_experiment
    from tunebook.optuna_io.mapping import MAX_INTERMEDIATE
    from tunebook.optuna_io.mapping import hide_password

    url = _storage(storage_url)
    with open_cli_store(store_url) as store:
        summary = export_experiment(store, experiment, url, replace=replace, max_points=max_points or MAX_INTERMEDIATE)
    shown = hide_password(url)
    click.echo(f"exported experiment {experiment} to {shown} as {len(summary.studies)} Optuna studies:")
    for study in summary.studies:
        fails = [f"{summary_count} {state}" for state, summary_count in sorted(study.states.items())
                 if state != "complete"]
        fail_text = f", {' and '.join(fails)} as FAIL" if fails else ""
        click.echo(f"  {study.name}: {len(study.trials)} trials ({study.states.get('complete', 0)} complete"
                   f"{fail_text}), {study.direction}")
    for name in summary.replaced:
        click.echo(f"  replaced the study {name} that was there")
    if summary.left_out:
        click.echo(f"left out {len(summary.left_out)} trials:")
        for label, why in summary.left_out:
            click.echo(f"  {label}: {why}")
    limit = max_points or MAX_INTERMEDIATE
    thinned = (f" ({summary.thinned} curves thinned to {limit} evenly spaced points, keeping the first, best, last "
               "and first non-finite one)") if summary.thinned else ""
    click.echo(f"the objective curve is each trial's intermediate values{thinned}")
    if summary.other_metrics:
        click.echo(f"other metrics as their best value only, in user attributes: {', '.join(summary.other_metrics)}")
    click.echo(f"open it: optuna-dashboard {shown}")


@click.command("optuna")
@storage_option
@click.option("--study", "studies", multiple=True, required=True, metavar="NAME",
              help="An Optuna study to import (repeatable); several go into one experiment.")
@click.option("--name", default=None, metavar="EXPERIMENT",
              help="Name of the new experiment (default: the exported experiment's, or the one study's name).")
@click.option("--objective", default=None, metavar="METRIC[:min|max]",
              help="Name of the objective's curve (default: the exported one, else 'objective'); a direction given "
                   "must be the studies'.")
@click.option("--scientific", multiple=True, metavar="NAME",
              help="A scientific hyperparameter: a param, or a user attribute of each study (repeatable).")
@click.option("--fixed", multiple=True, metavar="NAME",
              help="A fixed hyperparameter: a param with one value, or a user attribute of each study (repeatable).")
@store_option
def import_optuna_command(storage_url: str, studies: tuple[str, ...], name: str | None, objective: str | None,
                          scientific: tuple[str, ...], fixed: tuple[str, ...], store_url: str | None) -> None:
    """Import Optuna studies as one experiment: params with their distributions, states, values and curves.

    Multi-objective studies are refused. PRUNED trials become complete trials
    judged by the value they reached (reason: pruned at step N).
    """
    from tunebook.optuna_io import read_optuna, record_optuna

    url = _storage(storage_url, must_exist=True)
    metric, mode = _objective(objective)
    imported = read_optuna(url, studies, name=name, metric=metric, mode=mode,
                           scientific=scientific, fixed=fixed)
    with open_cli_store(store_url, create=True) as store:
        try:
            counts = record_optuna(store, imported)
        except KeyboardInterrupt:  # one transaction: it rolled back
            click.echo("interrupted: nothing was imported; run the same command again", err=True)
            raise
    _print_import(imported, counts)


def _print_import(imported: Any, counts: dict) -> None:
    experiment = imported.plan.experiment
    objective = experiment.objective
    click.echo(f"imported {len(imported.plan.trials)} Optuna trials into experiment {experiment.name} "
               f"(objective {objective.metric}:{objective.mode}, {objective.reduce} value of each curve)")
    for key, states in counts.items():
        click.echo(f"  study {key}: " + ", ".join(f"{n} {state}" for state, n in sorted(states.items())))
    for role in ("scientific", "nuisance", "fixed"):
        ids = [hp.id for hp in experiment.space.with_role(role)]
        if ids:
            click.echo(f"  {role}: {', '.join(ids)}")
    if imported.left_out:
        click.echo(f"left out {len(imported.left_out)} trials:")
        for label, why in imported.left_out:
            click.echo(f"  {label}: {why}")
    if imported.notes:
        click.echo("not carried over:")
        for what, why in imported.notes:
            click.echo(f"  {what}: {why}")
    click.echo(f"next: tunebook report {experiment.name}")


def _storage(text: str, must_exist: bool = False) -> str:
    from tunebook.core.errors import StoreError
    from tunebook.storage.url import sqlite_file

    url = storage_url(text)
    file = sqlite_file(url) if url.startswith("sqlite:") else None
    if must_exist and file is not None and not Path(file).exists():
        raise StoreError(f"--storage: no Optuna SQLite file at {file}")
    return url


def _objective(text: str | None) -> tuple[str | None, str | None]:
    if text is None:
        return None, None
    metric, _, mode = text.rpartition(":") if text.endswith((":min", ":max")) else (text, "", "")
    if not metric.strip():
        raise click.BadParameter(f"needs a metric name, got {text!r}", param_hint="--objective")
    return metric.strip(), mode or None
