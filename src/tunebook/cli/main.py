"""Entry point: the ``tunebook`` command group and its error handling.

User mistakes (TunebookError) print one clear message and exit 1, with no
traceback; click's own usage errors exit 2.
"""

from __future__ import annotations

import sys

import click

from tunebook import __version__
from tunebook.cli.advise import advise_group
from tunebook.cli.compare import compare_command
from tunebook.cli.demo import demo_command
from tunebook.cli.import_runs import import_group
from tunebook.cli.importance import importance_command
from tunebook.cli.launch import baseline_command, launch_command, launches_command
from tunebook.cli.note import note_command
from tunebook.cli.optuna_io import export_group, import_optuna_command
from tunebook.cli.plan import plan_group
from tunebook.cli.probe import probe_group
from tunebook.cli.report import report_command
from tunebook.cli.rerun import rerun_command
from tunebook.cli.retrain import retrain_command
from tunebook.cli.run import run_command
from tunebook.cli.sample import sample_command
from tunebook.cli.status import status_command
from tunebook.cli.trials import trials_command
from tunebook.cli.ui import ui_command
from tunebook.core.errors import TunebookError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tunebook")
def cli() -> None:
    """Tune deep learning models the way the Deep Learning Tuning Playbook describes."""


for command in (run_command, status_command, trials_command, report_command, note_command, sample_command,
                import_group, plan_group, advise_group, probe_group, demo_command, retrain_command,
                rerun_command):
    cli.add_command(command)
cli.add_command(compare_command)
cli.add_command(importance_command)  # cli/importance.py
for command in (launch_command, launches_command, baseline_command):  # the launch log (cli/launch.py)
    cli.add_command(command)
cli.add_command(export_group)  # tunebook export optuna (cli/optuna_io.py)
import_group.add_command(import_optuna_command)  # tunebook import optuna
cli.add_command(ui_command)  # tunebook ui: the web app (cli/ui.py, tunebook.ui)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status instead of raising on user errors."""
    try:
        cli.main(args=argv, prog_name="tunebook", standalone_mode=False)
    except TunebookError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
