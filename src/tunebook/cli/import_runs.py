"""``tunebook import``: bring runs done before tunebook into an experiment, for ``tunebook report``."""

from __future__ import annotations

from typing import Any, Callable

import click

from tunebook.cli.options import open_cli_store, store_option


def _shared_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--name", default=None, metavar="EXPERIMENT",
                     help="Name of the new experiment (default with --spec: the spec's name)."),
        click.option("--objective", default=None, metavar="METRIC[:min|max]",
                     help="The metric trials are judged by, and its direction (default min)."),
        click.option("--scientific", multiple=True, metavar="NAME",
                     help="A scientific hyperparameter: one study per value (repeatable)."),
        click.option("--fixed", multiple=True, metavar="NAME",
                     help="A fixed hyperparameter (repeatable); params with one value are fixed anyway."),
        click.option("--spec", type=click.Path(dir_okay=False), default=None, metavar="SPEC.yaml",
                     help="Take roles, domains and objective from this spec; each run must fit it."),
        store_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group("import")
def import_group() -> None:
    """Import runs done before tunebook (by hand or with other tools) as an experiment.

    Every run is read and checked first; if any is wrong, the error names its
    folder and file and nothing is written.
    """


@import_group.command("runs")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--params", "params_file", required=True, metavar="FILE",
              help="JSON file of hyperparameters in each run folder, e.g. hparams.json.")
@click.option("--metrics", "metrics_file", required=True, metavar="FILE",
              help="CSV file of curves in each run folder: a step column and one column per metric.")
@click.option("--step", "step_column", default="step", show_default=True, metavar="COLUMN",
              help="The CSV column holding the training step.")
@_shared_options
def import_runs_command(directory: str, params_file: str, metrics_file: str, step_column: str,
                        **options: Any) -> None:
    """Import DIRECTORY: one sub-folder per run, each with a JSON params file and a CSV of curves."""
    from tunebook.importing import read_runs

    _import(read_runs(directory, params_file, metrics_file, step_column), directory, **options)


@import_group.command("tensorboard")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--params", "params_file", default=None, metavar="FILE",
              help="JSON params file in each run folder (default: TensorBoard's hparams data).")
@_shared_options
def import_tensorboard_command(directory: str, params_file: str | None, **options: Any) -> None:
    """Import DIRECTORY: one sub-folder per run holding TensorBoard event files (scalars become curves)."""
    from tunebook.importing import read_tensorboard_runs

    _import(read_tensorboard_runs(directory, params_file), directory, **options)


def _import(runs: list, directory: str, *, name: str | None, objective: str | None, scientific: tuple[str, ...],
            fixed: tuple[str, ...], spec: str | None, store_url: str | None) -> None:
    from pathlib import Path

    from tunebook.importing import build_plan, check_absent, record_import

    plan = build_plan(runs, name=name, objective=objective, scientific=scientific, fixed=fixed, spec=spec,
                      source=str(Path(directory).resolve()))
    with open_cli_store(store_url, create=True) as store:
        check_absent(store, plan.experiment.name)
        try:
            counts = record_import(store, plan)
        except KeyboardInterrupt:  # the import is one transaction: it rolled back
            click.echo(f"interrupted: nothing of {plan.experiment.name} was imported; run the same command again",
                       err=True)
            raise
    experiment = plan.experiment
    click.echo(f"imported {len(plan.trials)} runs into experiment {experiment.name} "
               f"(objective {experiment.objective.metric}:{experiment.objective.mode})")
    for key, states in counts.items():
        shown = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        click.echo(f"  study {key}: {shown}")
    roles = {role: [hp.name for hp in experiment.space.with_role(role)] for role in ("scientific", "nuisance", "fixed")}
    for role, names in roles.items():
        if names:
            click.echo(f"  {role}: {', '.join(names)}")
    click.echo(f"next: tunebook report {experiment.name}")
