"""``tunebook status``: the playbook's tracking spreadsheet, one row per study.

Per experiment it shows the goal, every note (the spec's first, then each
``tunebook note`` with its date), the config and how to reproduce it, then
one row per study. RUNNING trials whose heartbeat is older than a runner's
``stale_after`` are marked stale: their runner is probably gone, and the
next ``tunebook run`` re-queues them.
"""

from __future__ import annotations

from typing import Any

import click

from tunebook.cli.options import open_cli_store, store_option
from tunebook.cli.render import Column, emit, format_option
from tunebook.analysis.spreadsheet import study_rows
from tunebook.core.readable import format_duration
from tunebook.storage.url import command_url, display_url

COLUMNS = ("experiment", "study", "goal", "notes", "config", "trials", "complete", "infeasible",
           "failed", "running", "stale", "best objective", "best trial", "code", "reproduce")
TABLE_COLUMNS = (
    Column("study"), Column("trials", justify="right"), Column("complete", short="compl.", justify="right"),
    Column("infeasible", short="infeas.", keep=60, justify="right"),
    Column("failed", keep=70, justify="right"), Column("running", short="run.", keep=75, justify="right"),
    Column("best objective", short="best", justify="right"), Column("best trial", keep=80, flex=True, min_width=14),
)


@click.command("status")
@click.argument("experiment", required=False)
@store_option
@format_option
def status_command(experiment: str | None, store_url: str | None, fmt: str) -> None:
    """Every study in the store: goal, notes, config, trials by state, best objective.

    RUNNING trials whose runner is gone (a dead process here, or no heartbeat for a minute) are
    marked stale, with the command that re-queues them.
    """
    with open_cli_store(store_url) as store:
        records = [store.get_experiment(experiment)] if experiment else store.list_experiments()
        rows = [row for record in records for row in study_rows(store, record)]
    if fmt != "table":
        emit(rows, fmt, columns=COLUMNS)
    elif not rows:
        click.echo(f"no experiments in store {display_url(store.url)} yet; start one with: tunebook run SPEC")
    else:
        _print_terminal(rows, command_url(store.url))


def _print_terminal(rows: list[dict[str, Any]], url: str) -> None:
    """Per experiment: its words once, then one compact line per study."""
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    for name in dict.fromkeys(r["experiment"] for r in rows):
        mine = [r for r in rows if r["experiment"] == name]
        first = mine[0]
        console.print(f"[bold]{escape(name)}[/bold]  {escape(first['goal'])}")
        for i, note in enumerate(first["notes"]):
            label = "notes:" if i == 0 else "      "
            when = note["at"][:16].replace("T", " ") + " UTC" if note["at"] else "spec"
            console.print(f"  {label} [dim]{escape(when)}[/dim]  {escape(' '.join(note['text'].split()))}")
        for label, value in experiment_lines(mine):
            console.print(f"  {label}: {escape(' '.join(str(value).split()))}")
        table_rows = [{**r, "running": _running_cell(r)} for r in mine]
        emit(table_rows, "table", columns=TABLE_COLUMNS)
        hint = stale_hint(mine, url)
        if hint:
            console.print(f"[yellow]  ! {escape(hint)}[/yellow]")


def experiment_lines(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The config, the code versions its trials ran on, and how to reproduce the experiment's best trial.

    ``reproduce`` reruns the best trial of all studies from its recorded code
    (``tunebook rerun``); without a recorded version it is the ``tunebook run``
    command of the spec.
    """
    first = rows[0]
    lines = [("config", first["config"])] if first["config"] != "-" else []
    if first["versions"]:
        lines.append(("code", first["versions"]))
    scored = [r for r in rows if r["best objective"] is not None]
    best = (min if first["mode"] == "min" else max)(scored, key=lambda r: r["best objective"]) if scored else first
    if best["reproduce"] != "-":
        lines.append(("reproduce", best["reproduce"] + ("  (the best trial)" if best["code"] else "")))
    return lines


def _running_cell(row: dict[str, Any]) -> str:
    return f"{row['running']} ({row['stale']} stale)" if row["stale"] else str(row["running"])


def stale_hint(rows: list[dict[str, Any]], url: str) -> str:
    """What to do about an experiment's stale RUNNING trials ('' if none)."""
    names = [name for row in rows for name in row["stale_names"]]
    if not names:
        return ""
    oldest = max(row["stale_age"] for row in rows)
    shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    source = rows[0]["config"]
    again = f"tunebook run {source if source != '-' else 'SPEC'} --store {url}"
    return (f"{len(names)} RUNNING trial(s) whose runner is gone ({shown}; last heartbeat up to "
            f"{format_duration(oldest)} ago, a live runner beats every few seconds). `{again}` re-queues them")
