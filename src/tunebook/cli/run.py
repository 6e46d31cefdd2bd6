"""``tunebook run``: run an experiment's studies here, with a live progress table."""

from __future__ import annotations

from pathlib import Path

import click

from tunebook.cli.options import open_cli_store, store_option
from tunebook.cli.render import cell_text


@click.command("run")
@click.argument("spec", type=click.Path(dir_okay=False))
@store_option
@click.option("--parallel", type=click.IntRange(min=1), default=None, help="Trials at once (overrides run.parallel).")
@click.option("--trials", type=click.IntRange(min=1), default=None, help="Trials per study (overrides search.trials).")
@click.option("--runs", "runs_dir", type=click.Path(file_okay=False), default="tunebook-runs", show_default=True,
              help="Folder for trial folders (logs, params, checkpoints).")
def run_command(spec: str, store_url: str | None, parallel: int | None, trials: int | None, runs_dir: str) -> None:
    """Run the trials of SPEC until every study reaches its budget; resumable."""
    from tunebook.core.experiment import Experiment

    experiment = Experiment.from_yaml(spec)
    config = experiment.run_config()
    with open_cli_store(store_url) as store:
        progress = run_with_progress(experiment, store, parallel or config.parallel, trials, Path(runs_dir))
        click.echo(_summary(experiment.name, store.url, Path(runs_dir), progress))
        print_run_verdict(experiment.name, store, spec, runs=_given("runs_dir", runs_dir))


def run_with_progress(experiment, store, parallel: int, trials: int | None, runs_dir: Path):  # noqa: ANN001
    """Run with a live table on a terminal (plain lines otherwise); the final progress."""
    from rich.console import Console
    from rich.live import Live

    from tunebook.execution import LocalExecutor, Runner

    config = experiment.run_config()
    executor = LocalExecutor(parallel, config.gpus_per_trial)
    console = Console(stderr=True)
    with Live(console=console, auto_refresh=False, transient=False) as live:
        def tick(runner: Runner) -> None:
            live.update(progress_table(experiment.name, runner.progress()), refresh=True)

        runner = Runner(experiment, store, executor, runs_dir, trials=trials, on_tick=_every(0.5, tick))
        progress = runner.run()
        tick(runner)
    return progress


def _every(seconds: float, action):  # noqa: ANN001, ANN202
    import time

    last = [0.0]

    def maybe(runner) -> None:  # noqa: ANN001
        if time.monotonic() - last[0] >= seconds:
            last[0] = time.monotonic()
            action(runner)

    return maybe


def progress_table(name: str, progress):  # noqa: ANN001, ANN201
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"tunebook run {name}"), title_justify="left")
    for column in ("study", "done", "running", "infeasible", "failed", "budget", "best objective", "best trial"):
        table.add_column(column, justify="left" if column == "study" else "right")
    for p in progress:
        table.add_row(
            escape(p.key), str(p.complete), str(p.running), str(p.infeasible), str(p.failed),
            str(p.budget), cell_text(p.best), "-" if p.best_trial is None else str(p.best_trial),
        )
    return table


def _summary(name: str, store_url: str, runs_dir: Path, progress) -> str:  # noqa: ANN001
    from tunebook.storage.url import display_url

    total = sum(p.finished for p in progress)
    failed = sum(p.failed for p in progress)
    lines = [
        f"{name}: {total} trial(s) finished ({failed} failed).",
        f"  store:  {display_url(store_url)}",
        f"  trials: {runs_dir.resolve() / name}",
    ]
    return "\n".join(lines)


def print_run_verdict(name: str, store, spec: str, runs: str | None = None) -> None:  # noqa: ANN001
    """The verdict on the experiment as it stands, its next commands (``--runs runs`` in a ``tunebook run`` when
    given), and where the full report is."""
    import shlex

    from tunebook.analysis import load
    from tunebook.analysis.checklist import metrics_read, run_checklist
    from tunebook.analysis.verdict import decide
    from tunebook.cli.report import print_verdict
    from tunebook.core.experiment import Experiment
    from tunebook.storage.url import display_url

    url = display_url(store.url)
    metric = Experiment.from_dict(store.get_experiment(name).spec).objective.metric
    data = load(name, store, metrics=metrics_read(metric))
    print_verdict(decide(data, run_checklist(data), store=url, spec=spec, runs=runs))
    click.echo("Every trial, and the whole report (isolation plot, checklist, every plot):")
    for command in ("trials", "report"):
        click.echo("    " + shlex.join(["tunebook", command, name, "--store", url]))


def _given(parameter: str, value: str) -> str | None:
    """``value`` if the user gave ``parameter`` on the command line or in the environment, None for its default."""
    from click.core import ParameterSource

    source = click.get_current_context().get_parameter_source(parameter)
    return None if source in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP) else value
