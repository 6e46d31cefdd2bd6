"""``tunebook import``: bring runs done before tunebook into an experiment, for ``tunebook report``."""

from __future__ import annotations

from typing import Any, Callable

import click

from tunebook.cli.options import open_cli_store, store_option

SHOWN_CURVES = 12  # curves listed by name after an import; the rest are counted


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
    folder and file (or MLflow run) and nothing is written. The import then
    says which curves it took and what it left out, and why.
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

    from pathlib import Path

    _import(read_runs(directory, params_file, metrics_file, step_column), str(Path(directory).resolve()), **options)


@import_group.command("tensorboard")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--params", "params_file", default=None, metavar="FILE",
              help="JSON params file in each run folder (default: TensorBoard's hparams data).")
@_shared_options
def import_tensorboard_command(directory: str, params_file: str | None, **options: Any) -> None:
    """Import DIRECTORY: one sub-folder per run holding TensorBoard event files (scalars become curves)."""
    from pathlib import Path

    from tunebook.importing import read_tensorboard_runs

    left_out: list = []
    runs = read_tensorboard_runs(directory, params_file, left_out)
    _import(runs, str(Path(directory).resolve()), left_out=left_out, **options)


@import_group.command("mlflow")
@click.option("--tracking-uri", required=True, metavar="URI",
              help="The MLflow tracking store: sqlite:///mlflow.db, a folder of mlruns, or http://host:5000.")
@click.option("--experiment", "experiment_name", required=True, metavar="NAME",
              help="The MLflow experiment whose runs to import, by name (or id).")
@_shared_options
def import_mlflow_command(tracking_uri: str, experiment_name: str, **options: Any) -> None:
    """Import an MLflow experiment's finished runs: params, metric histories by step, and status.

    Runs still RUNNING or SCHEDULED, and parent runs of nested runs, are
    left out and listed. Needs the mlflow extra.
    """
    from tunebook.importing.mlflow import mlflow_source, read_mlflow_runs

    left_out: list = []
    runs = read_mlflow_runs(tracking_uri, experiment_name, left_out)
    _import(runs, mlflow_source(tracking_uri, experiment_name), left_out=left_out, **options)


def _import(runs: list, source: str, *, name: str | None, objective: str | None, scientific: tuple[str, ...],
            fixed: tuple[str, ...], spec: str | None, store_url: str | None, left_out: list = ()) -> None:
    """Plan, write all or nothing, then say what was taken and what was ``left_out`` (LeftOut notes)."""
    from tunebook.importing import build_plan, check_absent, record_import

    plan = build_plan(runs, name=name, objective=objective, scientific=scientific, fixed=fixed, spec=spec,
                      source=source)
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
    _echo_taken(plan, left_out)
    click.echo(f"next: tunebook report {experiment.name}")


def _echo_taken(plan: Any, left_out: list) -> None:
    """The curves imported (in how many runs, how many points) and each kind of thing left out, with why."""
    from collections import defaultdict

    runs_of: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for trial in plan.trials:
        for metric, (steps, _) in trial.run.curves.items():
            runs_of[metric][0] += 1
            runs_of[metric][1] += len(steps)
    listed = [f"{metric} ({runs} runs, {points} points)" for metric, (runs, points) in sorted(runs_of.items())]
    more = f" and {len(listed) - SHOWN_CURVES} more" if len(listed) > SHOWN_CURVES else ""
    click.echo(f"  curves: {', '.join(listed[:SHOWN_CURVES]) or 'none'}{more}")
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for note in left_out:
        grouped[(note.what, note.why)].append(note.run)
    for (what, why), runs in sorted(grouped.items()):
        names = ", ".join(runs[:3]) + (f" and {len(runs) - 3} more" if len(runs) > 3 else "")
        click.echo(f"  left out {what} (in {names}): {why}" if what else f"  left out runs {names}: {why}")
