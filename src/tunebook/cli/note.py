"""``tunebook note``: attach a timestamped note to an experiment."""

from __future__ import annotations

import click

from tunebook.cli.options import open_cli_store, store_option


@click.command("note")
@click.argument("experiment")
@click.argument("text")
@store_option
def note_command(experiment: str, text: str, store_url: str | None) -> None:
    """Record TEXT as a note on EXPERIMENT (shown by tunebook status)."""
    if not text.strip():
        raise click.BadParameter("a note needs some text", param_hint="TEXT")
    with open_cli_store(store_url) as store:
        record = store.get_experiment(experiment)
        note = store.add_note(record.id, text)
    click.echo(f"noted on {experiment} at {note.created_at:%Y-%m-%d %H:%M} UTC")
