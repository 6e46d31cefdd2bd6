"""Entry point: the ``tunebook`` command group and its error handling.

User mistakes (TunebookError) print one clear message and exit 1, with no
traceback; click's own usage errors exit 2.
"""

from __future__ import annotations

import sys

import click

from tunebook import __version__
from tunebook.cli.sample import sample_command
from tunebook.core.errors import TunebookError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tunebook")
def cli() -> None:
    """Tune deep learning models the way the Deep Learning Tuning Playbook describes."""


cli.add_command(sample_command)


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
