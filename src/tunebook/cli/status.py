"""``tunebook status``: the playbook's tracking spreadsheet, one row per study.

Per experiment it shows the goal, every note (the spec's first, then each
``tunebook note`` with its date), the config and how to reproduce it, then
one row per study. RUNNING trials whose heartbeat is older than a runner's
``stale_after`` are marked stale: their runner is probably gone, and the
next ``tunebook run`` re-queues them.
"""

from __future__ import annotations

import collections
from datetime import datetime, timezone
from typing import Any

import click

from tunebook.cli.options import open_cli_store, store_option
from tunebook.cli.render import Column, emit, format_option
from tunebook.core.provenance import code_line, rerun_command, versions_by_id, versions_line
from tunebook.core.readable import format_duration
from tunebook.core.records import trial_name
from tunebook.core.states import TrialState
from tunebook.execution.base import STALE_AFTER_S
from tunebook.execution.workers import dead_here
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
        rows = [row for record in records for row in _study_rows(store, record)]
    if fmt != "table":
        emit(rows, fmt, columns=COLUMNS)
    elif not rows:
        click.echo(f"no experiments in store {display_url(store.url)} yet; start one with: tunebook run SPEC")
    else:
        _print_terminal(rows, display_url(store.url))


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


def notes_of(store: Any, record: Any) -> list[dict[str, Any]]:
    """The spec's notes first (``at`` None), then every ``tunebook note``, oldest first."""
    notes = [{"at": None, "text": record.spec["notes"]}] if record.spec.get("notes") else []
    return notes + [{"at": n.created_at.isoformat(), "text": n.text} for n in store.list_notes(record.id)]


def _study_rows(store: Any, record: Any) -> list[dict[str, Any]]:
    spec = record.spec
    mode = spec.get("objective", {}).get("mode", "min")
    notes = notes_of(store, record)
    by_study = collections.defaultdict(list)
    all_trials = store.list_trials(experiment_id=record.id)
    for trial in all_trials:
        by_study[trial.study_id].append(trial)
    versions = versions_by_id(store.get_code_version, (t.code_version_id for t in all_trials))
    url = command_url(store.url)
    rerun_spec = f"tunebook run {record.source} --store {url}" if record.source else "-"
    now = datetime.now(timezone.utc)
    rows = []
    for study in store.list_studies(record.id):
        trials = by_study[study.id]
        counts = collections.Counter(t.state for t in trials)
        best = _best(trials, mode)
        stale = _stale(trials, now)
        rows.append({
            "experiment": record.name, "study": study.key, "goal": spec.get("goal", ""), "notes": notes,
            "config": record.source or "-",
            "trials": f"{sum(counts[s] for s in TrialState if s.is_finished)}/{study.budget}",
            "complete": counts[TrialState.COMPLETE], "infeasible": counts[TrialState.INFEASIBLE],
            "failed": counts[TrialState.FAILED], "running": counts[TrialState.RUNNING], "stale": len(stale),
            "best objective": best.objective if best else None,
            "best trial": f"{trial_name(study.key, best.number)} (step {best.best_step})" if best else None,
            "code": code_line(versions[best.code_version_id]) if best and best.code_version_id in versions else "",
            "reproduce": rerun_command(record.name, trial_name(study.key, best.number), url)
            if best and best.code_version_id in versions else rerun_spec,
            "mode": mode, "versions": versions_line((t.code_version_id for t in all_trials), versions),
            "stale_names": [trial_name(study.key, t.number) for t in stale],
            "stale_age": max(((now - (t.heartbeat_at or t.started_at)).total_seconds() for t in stale), default=0.0),
        })
    return rows


def _stale(trials: list, now: datetime) -> list:
    """RUNNING trials whose runner is gone: a dead process on this host, or silent
    (no heartbeat, else no start) for more than STALE_AFTER_S seconds."""
    return [
        t for t in trials if t.state is TrialState.RUNNING
        and (dead_here(t.worker) or (now - (t.heartbeat_at or t.started_at or now)).total_seconds() > STALE_AFTER_S)
    ]


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


def _best(trials: list, mode: str) -> Any:
    scored = [t for t in trials if t.state is TrialState.COMPLETE and t.objective is not None]
    if not scored:
        return None
    pick = min if mode == "min" else max
    return pick(scored, key=lambda t: t.objective)
