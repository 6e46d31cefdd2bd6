"""``tunebook status``: the playbook's tracking spreadsheet, one row per study."""

from __future__ import annotations

import collections
from typing import Any

import click

from tunebook.cli.options import open_cli_store, store_option
from tunebook.cli.render import emit, format_option
from tunebook.core.states import TrialState
from tunebook.storage.url import display_url

COLUMNS = ("experiment", "study", "goal", "notes", "config", "trials", "complete", "infeasible",
           "failed", "running", "best objective", "best trial", "reproduce")
TABLE_COLUMNS = ("study", "trials", "complete", "infeasible", "failed", "running", "best objective", "best trial")


@click.command("status")
@click.argument("experiment", required=False)
@store_option
@format_option
def status_command(experiment: str | None, store_url: str | None, fmt: str) -> None:
    """Every study in the store: goal, notes, config, trials by state, best objective."""
    with open_cli_store(store_url) as store:
        records = [store.get_experiment(experiment)] if experiment else store.list_experiments()
        rows = [row for record in records for row in _study_rows(store, record)]
    if fmt != "table":
        emit(rows, fmt, columns=COLUMNS)
    elif not rows:
        click.echo(f"no experiments in store {display_url(store.url)} yet; start one with: tunebook run SPEC")
    else:
        _print_terminal(rows)


def _print_terminal(rows: list[dict[str, Any]]) -> None:
    """Per experiment: its words once, then one compact line per study."""
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    for name in dict.fromkeys(r["experiment"] for r in rows):
        mine = [r for r in rows if r["experiment"] == name]
        first = mine[0]
        console.print(f"[bold]{escape(name)}[/bold]  {escape(first['goal'])}")
        for label in ("notes", "config", "reproduce"):
            if first[label] and first[label] != "-":
                console.print(f"  {label}: {escape(' '.join(str(first[label]).split()))}")
        emit(mine, "table", columns=TABLE_COLUMNS)


def _study_rows(store: Any, record: Any) -> list[dict[str, Any]]:
    spec = record.spec
    mode = spec.get("objective", {}).get("mode", "min")
    notes = store.list_notes(record.id)
    note = notes[-1].text if notes else spec.get("notes", "")
    by_study = collections.defaultdict(list)
    for trial in store.list_trials(experiment_id=record.id):
        by_study[trial.study_id].append(trial)
    rows = []
    for study in store.list_studies(record.id):
        trials = by_study[study.id]
        counts = collections.Counter(t.state for t in trials)
        best = _best(trials, mode)
        rows.append({
            "experiment": record.name, "study": study.key, "goal": spec.get("goal", ""), "notes": note,
            "config": record.source or "-",
            "trials": f"{sum(counts[s] for s in TrialState if s.is_finished)}/{study.budget}",
            "complete": counts[TrialState.COMPLETE], "infeasible": counts[TrialState.INFEASIBLE],
            "failed": counts[TrialState.FAILED], "running": counts[TrialState.RUNNING],
            "best objective": best.objective if best else None,
            "best trial": f"{best.number} (step {best.best_step})" if best else None,
            "reproduce": f"tunebook run {record.source} --store {display_url(store.url)}" if record.source else "-",
        })
    return rows


def _best(trials: list, mode: str) -> Any:
    scored = [t for t in trials if t.state is TrialState.COMPLETE and t.objective is not None]
    if not scored:
        return None
    pick = min if mode == "min" else max
    return pick(scored, key=lambda t: t.objective)
