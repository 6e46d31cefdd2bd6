"""``tunebook run``: run an experiment's studies here, with a live progress table."""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path
from typing import Iterator

import click

from tunebook.cli.options import open_cli_store, runs_option, store_option
from tunebook.cli.progress import PlainLog, live_view
from tunebook.cli.sample import warn_about_run
from tunebook.core.errors import TunebookError


@click.command("run")
@click.argument("spec", type=click.Path(dir_okay=False))
@store_option
@click.option("--parallel", type=click.IntRange(min=1), default=None, help="Trials at once (overrides run.parallel).")
@click.option("--trials", type=click.IntRange(min=1), default=None, help="Trials per study (overrides search.trials).")
@runs_option()
@click.option("--executor", "executor_kind", type=click.Choice(["local", "ray"]), default=None,
              help="Where trials run: processes here, or tasks on a Ray cluster (overrides run.executor).")
@click.option("--ray-address", default=None, metavar="ADDR",
              help="The Ray cluster: HOST:PORT, auto (started here with `ray start`), local (a private one) "
                   "[overrides run.address].")
def run_command(spec: str, store_url: str | None, parallel: int | None, trials: int | None, runs_dir: str,
                executor_kind: str | None, ray_address: str | None) -> None:
    """Run the trials of SPEC until every study reaches its budget; resumable.

    Ctrl-C or SIGTERM (a scheduler's or timeout's stop) hands running trials
    back to the queue. Exits 1 if every trial this run ended failed.
    """
    from tunebook.core.experiment import Experiment

    experiment = Experiment.from_yaml(spec)
    config = experiment.run_config()
    warn_about_run(config)
    from tunebook.execution.choose import make_executor
    from tunebook.storage.url import normalize_url

    given = parallel or (config.parallel if "parallel" in experiment.run else None)
    # before the store is opened: a store the cluster cannot reach is refused with nothing written
    executor = make_executor(config, given, normalize_url(store_url), executor_kind, ray_address)
    _refuse_missing_warm_start_store(experiment, store_url)
    with open_cli_store(store_url, create=True) as store:
        progress = run_with_progress(experiment, store, given or config.parallel, trials, Path(runs_dir),
                                     executor=executor)
        click.echo(_summary(experiment.name, store.url, Path(runs_dir), progress))
        print_run_verdict(experiment.name, store, spec, runs=_given("runs_dir", runs_dir))


def _refuse_missing_warm_start_store(experiment, store_url: str | None) -> None:  # noqa: ANN001
    """A spec whose ``search.warm_start`` names earlier rounds needs a store that exists: refuse before creating one."""
    from tunebook.core.errors import StoreError
    from tunebook.storage.url import normalize_url, sqlite_file

    file = sqlite_file(normalize_url(store_url))
    if experiment.search.warm_start and file is not None and not file.exists():
        raise StoreError(f"search.warm_start names {', '.join(experiment.search.warm_start)}, but there is no store "
                         f"at {file}: name the store the earlier rounds ran with (--store PATH or TUNEBOOK_STORE)")


class EveryTrialFailed(TunebookError):
    """Every trial a run ended, failed: nothing to analyse, something to fix first."""


def run_with_progress(experiment, store, parallel: int, trials: int | None, runs_dir: Path,  # noqa: ANN001, ANN201
                      executor=None, **runner_options):  # noqa: ANN001, ANN003
    """Run with a live display (plain lines when stderr is not a terminal); the final progress.

    ``executor``: where trials run (default: the spec's ``run.executor`` with
    ``parallel`` trials at once). ``runner_options`` go to the Runner
    (``studies``, ``workdir``, ...).
    Raises Interrupted on Ctrl-C or SIGTERM (running trials handed back),
    and EveryTrialFailed when every trial this run ended failed.
    """
    import functools

    from rich.console import Console
    from rich.live import Live

    from tunebook.execution import Runner
    from tunebook.execution.choose import make_executor
    from tunebook.execution.live import live_status

    if executor is None:
        executor = make_executor(experiment.run_config(), parallel, store.url)
    console = Console(stderr=True)
    metric = experiment.objective.metric
    make_runner = functools.partial(Runner, experiment, store, executor, runs_dir, trials=trials, **runner_options)
    with _sigterm_as_ctrl_c():
        if console.is_terminal:
            with Live(console=console, auto_refresh=False, transient=False) as live:
                def tick(runner: Runner) -> None:
                    view = live_view(experiment.name, metric, live_status(runner), console.width)
                    live.update(view, refresh=True)

                runner = make_runner(on_tick=_warming(_every(1.0, tick)))
                progress = runner.run()
                tick(runner)
        else:
            log = PlainLog(experiment.name, lambda line: click.echo(line, err=True))
            runner = make_runner(on_tick=_warming(_every(1.0, lambda r: log.update(live_status(r), r))))
            progress = runner.run()
            log.update(live_status(runner), runner)
    _refuse_if_every_trial_failed(runner)
    return progress


@contextlib.contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (what schedulers and ``timeout`` send) stops the run the way Ctrl-C does."""
    def interrupt(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the hand-back short
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _refuse_if_every_trial_failed(runner) -> None:  # noqa: ANN001
    from tunebook.core.readable import reason_line
    from tunebook.core.records import trial_name
    from tunebook.core.states import TrialState
    from tunebook.execution.prepare import trial_dir

    final = {t.id: (key, t) for key, t in runner.ended if t.state is not TrialState.WAITING}
    if not final or any(t.state is not TrialState.FAILED for _, t in final.values()):
        return
    key, first = min(final.values(), key=lambda kt: (kt[1].study_id, kt[1].number))  # the first in the table
    reason = reason_line(first.reason)
    folder = trial_dir(runner.runs_dir, runner.experiment.name, key, first.number)
    raise EveryTrialFailed(
        f"every trial this run ended failed ({len(final)}); {trial_name(key, first.number)}: {reason} "
        f"(its output: {folder}/stderr.log)"
    )


def _every(seconds: float, action):  # noqa: ANN001, ANN202
    import time

    last = [0.0]

    def maybe(runner) -> None:  # noqa: ANN001
        if time.monotonic() - last[0] >= seconds:
            last[0] = time.monotonic()
            action(runner)

    return maybe


def _warming(on_tick):  # noqa: ANN001, ANN202
    """``on_tick`` that, on the runner's first tick (its first trials launched), also starts importing the
    closing verdict's libraries in the background (``cli.warm_imports``); earlier, they would compete with
    the store's opening and the first launches."""
    started = []

    def first_warms(runner) -> None:  # noqa: ANN001
        if not started:
            from tunebook.cli.warm_imports import warm_in_background

            started.append(warm_in_background())
        on_tick(runner)

    return first_warms


def _summary(name: str, store_url: str, runs_dir: Path, progress) -> str:  # noqa: ANN001
    from tunebook.cli.progress import suggestion_lines
    from tunebook.execution.prepare import experiment_dir
    from tunebook.storage.url import display_url

    total = sum(p.finished for p in progress)
    failed = sum(p.failed for p in progress)
    lines = [
        f"{name}: {total} trial(s) finished ({failed} failed).",
        f"  store:  {display_url(store_url)}",
        f"  trials: {experiment_dir(runs_dir.resolve(), name)}",
    ]
    lines += [f"  how trials were chosen: {line}" for line in suggestion_lines(progress)]
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
    from tunebook.storage.url import command_url

    url = command_url(store.url)
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
