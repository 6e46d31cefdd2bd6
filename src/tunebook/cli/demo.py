"""``tunebook demo``: tune a small PyTorch MLP on scikit-learn's digits, here, now."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tunebook.core.errors import TunebookError

if TYPE_CHECKING:
    from tunebook.core.experiment import Experiment

DEMO_SPEC = Path("examples") / "digits" / "spec.yaml"


def demo_spec() -> Path:
    """The demo's spec in the source checkout tunebook runs from."""
    import tunebook

    root = Path(tunebook.__file__).resolve().parents[2]
    spec = root / DEMO_SPEC
    if not spec.exists():
        raise TunebookError(f"the demo ships with tunebook's source checkout; {spec} is not here")
    return spec


@click.command("demo")
@click.option("--dir", "folder", type=click.Path(file_okay=False), default="tunebook-demo", show_default=True,
              help="Where the demo keeps its store and trial folders.")
@click.option("--trials", type=click.IntRange(min=1), default=None,
              help="Trials per depth [default: the spec's 8]; fewer is quicker, and the verdict says what it costs.")
def demo_command(folder: str, trials: int | None) -> None:
    """Run the digits experiment (does depth help?), its tracking table, its report and the verdict."""
    from tunebook.cli.report import analyse, print_report, print_verdict, write_html
    from tunebook.cli.run import run_with_progress
    from tunebook.cli.status import status_command
    from tunebook.core.experiment import Experiment
    from tunebook.core.imports import require
    from tunebook.storage import open_store

    require("torch", "demo", "the demo")
    require("sklearn", "demo", "the demo")
    require("plotly", "demo", "the demo")
    experiment = Experiment.from_yaml(str(demo_spec()))
    home = Path(folder).resolve()
    home.mkdir(parents=True, exist_ok=True)
    store_url = f"sqlite:///{home / 'tunebook.db'}"
    with open_store(store_url) as store:
        run_with_progress(experiment, store, experiment.run_config().parallel, trials, home / "runs")
    click.echo()
    status_command.main([experiment.name, "--store", store_url], standalone_mode=False)
    result = analyse(experiment.name, store_url, runs=str(home / "runs"))
    print_report(result, with_verdict=False)
    page = write_html(result, home / "reports")
    click.echo(f"\nreport: {page} (opens offline in any browser)")
    click.echo(where_everything_is(experiment, home))
    print_verdict(result.verdict)
    click.echo(explore_commands(experiment.name, store_url, runs=str(home / "runs")))


def where_everything_is(experiment: "Experiment", home: Path) -> str:
    """The demo's files: spec, training code, store, trial folders."""
    return (
        f"\nWhere everything is:\n"
        f"  spec:          {experiment.source}\n"
        f"  training code: {Path(experiment.source).parent / 'train.py'}\n"
        f"  store:         {home / 'tunebook.db'}\n"
        f"  trial folders: {home / 'runs' / experiment.name}/<study>/<trial>/ (params.json, stdout.log, checkpoints/)"
    )


def explore_commands(name: str, store_url: str, runs: str | None = None) -> str:
    """How to explore the demo's experiment from any folder: point TUNEBOOK_STORE at its store (and
    TUNEBOOK_RUNS at its trial folders, for retrain, rerun and ui), then the README's commands as they are
    written. If ``tunebook`` is not on PATH, how to put it there first."""
    lines = ["Explore it from any folder (TUNEBOOK_STORE points tunebook at the demo's store, TUNEBOOK_RUNS at "
             "its trial folders):" if runs else
             "Explore it from any folder (TUNEBOOK_STORE points tunebook at the demo's store):"]
    activate = _activate_line()
    if activate:
        lines.append(f"  {activate}")
    lines += [
        f"  export TUNEBOOK_STORE={shlex.quote(store_url)}",
        *([f"  export TUNEBOOK_RUNS={shlex.quote(runs)}"] if runs else []),
        "  tunebook status",
        f"  tunebook trials {shlex.quote(name)}",
        f"  tunebook report {shlex.quote(name)} --format text",
    ]
    return "\n".join(lines)


def _activate_line() -> str | None:
    """``source .../activate`` when this tunebook runs from a virtualenv whose ``tunebook`` is not on PATH."""
    here = Path(sys.executable).parent
    script, activate = here / "tunebook", here / "activate"
    on_path = shutil.which("tunebook")
    if on_path and Path(on_path).resolve() == script.resolve():
        return None
    if not (script.exists() and activate.exists()):
        return None
    return f"source {shlex.quote(str(activate))}   # puts tunebook on PATH in this shell"
