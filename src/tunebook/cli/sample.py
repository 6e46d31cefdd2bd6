"""``tunebook sample``: the trials a spec would run, without running anything."""

from __future__ import annotations

import json
import math
from typing import Any

import click

from tunebook.core.experiment import Experiment
from tunebook.core.records import plain_name
from tunebook.core.run_spec import RunConfig, run_warnings


def warn_about_run(config: RunConfig) -> None:
    """Print (to stderr) what in ``run:`` is legal but probably unintended."""
    for warning in run_warnings(config):
        click.echo(f"warning: {warning}", err=True)


@click.command("sample")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-n", "count", type=click.IntRange(min=1), default=None,
              help="Trials per study to show (default: each study's budget).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def sample_command(spec: str, count: int | None, fmt: str) -> None:
    """Print the first trials of every study of SPEC (a YAML experiment spec)."""
    from tunebook.search import sample

    experiment = Experiment.from_yaml(spec)
    if experiment.run:  # what `tunebook run` would refuse, refused here too
        warn_about_run(experiment.run_config())
    planned = sample(experiment, count)
    if fmt == "json":
        rows = [
            {
                "study": t.study,
                "number": t.number,
                "params": {plain_name(k): v for k, v in t.params.items()},
                "ids": t.params,
            }
            for t in planned
        ]
        click.echo(json.dumps(rows, indent=2, default=_json_default))
        if experiment.search.algorithm == "bayesian":
            click.echo(_later_points_note(experiment, planned), err=True)
        return
    _print_tables(experiment, planned)
    if experiment.search.algorithm == "bayesian":
        click.echo(_later_points_note(experiment, planned))


def _later_points_note(experiment: Experiment, planned: list) -> str:
    """What a Bayesian spec's listing leaves out, and why."""
    initial = max((t.number for t in planned), default=-1) + 1
    budget = experiment.search.trials or 0
    note = (
        f"search.algorithm bayesian: these are the {initial} initial (quasi-random) trial(s) of each study. "
        f"Trials {initial}..{budget - 1} are chosen by the model from the results of the trials before them, "
        "so they depend on those results (and on the order in which trials finish) and cannot be listed in advance."
    )
    if experiment.search.warm_start:
        note += (f" At run time, the finished trials of {', '.join(experiment.search.warm_start)} that lie in a "
                 "study's space count toward its initial design, so it may be shorter.")
    return note


def _json_default(value: Any) -> Any:
    return str(value)


def _print_tables(experiment: Experiment, planned: list) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{escape(experiment.name)}[/bold]  {escape(experiment.goal)}")
    caveats = ", ".join(f"{hp.id}={hp.domain.value!r}" for hp in experiment.caveats)
    if caveats:
        console.print(f"fixed (caveats on every conclusion): {escape(caveats)}")
    for key in dict.fromkeys(t.study for t in planned):
        rows = [t for t in planned if t.study == key]
        varied = _varied_columns(experiment, rows)
        table = Table(title=escape(f"study {key}"), title_justify="left")
        table.add_column("trial", justify="right")
        for column in varied:
            table.add_column(escape(column), justify="right")
        for t in rows:
            table.add_row(str(t.number), *(escape(_cell(t.params.get(c))) for c in varied))
        console.print(table)


def _varied_columns(experiment: Experiment, rows: list) -> list[str]:
    fixed_ids = {hp.id for hp in experiment.caveats}
    columns = dict.fromkeys(k for t in rows for k in t.params if k not in fixed_ids)
    return [c for c in columns if len({repr(t.params.get(c)) for t in rows}) > 1]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.4g}"
    return str(value)
