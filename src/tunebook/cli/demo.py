"""``tunebook demo``: tune a small PyTorch MLP on scikit-learn's digits, here, now."""

from __future__ import annotations

from pathlib import Path

import click

from tunebook.core.errors import TunebookError

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
def demo_command(folder: str) -> None:
    """Run the digits experiment (does depth help?), its tracking table and its report."""
    from tunebook.cli.report import report_command
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
        run_with_progress(experiment, store, experiment.run_config().parallel, None, home / "runs")
    click.echo()
    status_command.main([experiment.name, "--store", store_url], standalone_mode=False)
    click.echo()
    report_command.main([experiment.name, "--store", store_url, "--out", str(home / "reports")], standalone_mode=False)
    click.echo(
        f"\nWhere everything is:\n"
        f"  spec:          {experiment.source}\n"
        f"  training code: {Path(experiment.source).parent / 'train.py'}\n"
        f"  store:         {home / 'tunebook.db'}\n"
        f"  trial folders: {home / 'runs' / experiment.name}/<study>/<trial>/ (params.json, stdout.log, checkpoints/)\n"
        f"Next: tunebook trials {experiment.name} --store {store_url}\n"
        f"      tunebook report {experiment.name} --store {store_url} --format json"
    )
