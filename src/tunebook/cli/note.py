"""``tunebook note``: attach a timestamped note to an experiment, or to one of its trials."""

from __future__ import annotations

import click

from tunebook.cli.options import open_cli_store, store_option


@click.command("note")
@click.argument("experiment")
@click.argument("text")
@click.option("--trial", "trial_ref", metavar="STUDY/NUMBER", default=None,
              help="Note this trial of EXPERIMENT (named as tunebook trials prints it) instead of the experiment.")
@store_option
def note_command(experiment: str, text: str, trial_ref: str | None, store_url: str | None) -> None:
    """Record TEXT as a note on EXPERIMENT (shown by tunebook status and tunebook ui), or with --trial on one
    trial (shown by tunebook trials EXPERIMENT --show STUDY/NUMBER, the report's trial table and tunebook ui)."""
    if not text.strip():
        raise click.BadParameter("a note needs some text", param_hint="TEXT")
    with open_cli_store(store_url) as store:
        record = store.get_experiment(experiment)
        if trial_ref is None:
            note = store.add_note(record.id, text)
            click.echo(f"noted on {experiment} at {note.created_at:%Y-%m-%d %H:%M} UTC")
            return
        from tunebook.cli.show_trial import find_trial
        from tunebook.core.records import trial_name

        study, trial = find_trial(store, record.id, experiment, trial_ref, option="--trial")
        note = store.add_note(record.id, text, trial_id=trial.id)
    click.echo(f"noted on trial {trial_name(study.key, trial.number)} of {experiment} "
               f"at {note.created_at:%Y-%m-%d %H:%M} UTC")
