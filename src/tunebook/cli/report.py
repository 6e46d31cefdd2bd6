"""``tunebook report``: which scientific value won, whether to trust it, what to do next."""

from __future__ import annotations

import json
from typing import Any

import click

from tunebook.cli.options import open_cli_store, store_option


@click.command("report")
@click.argument("experiment")
@store_option
@click.option("--format", "fmt", type=click.Choice(["html", "text", "json"]), default="html", show_default=True,
              help="html: one self-contained file (plus the findings here); text: tables; json: for scripts.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="tunebook-reports", show_default=True,
              help="Folder for the HTML report.")
@click.option("--objective", "objective", default=None, metavar="METRIC[:min|max]",
              help="Judge trials by another metric, from the stored curves (nothing is rerun).")
@click.option("--reduce", type=click.Choice(["best", "final"]), default=None,
              help="best: the best value over training (default); final: the last value.")
def report_command(
    experiment: str, store_url: str | None, fmt: str, out_dir: str, objective: str | None, reduce: str | None
) -> None:
    """The isolation result (best per scientific value) and the playbook's checklist for EXPERIMENT."""
    from tunebook.analysis import load
    from tunebook.analysis.best import best_per_scientific_value
    from tunebook.analysis.checklist import metrics_read, run_checklist
    from tunebook.analysis.objective import parse_objective, with_objective
    from tunebook.core.experiment import Experiment

    with open_cli_store(store_url) as store:
        # the curves the report reads; with --objective all of them, so a misspelt metric is named with the others
        metrics = None if objective else metrics_read(Experiment.from_dict(store.get_experiment(experiment).spec)
                                                      .objective.metric)
        data = load(experiment, store, metrics=metrics)
    if objective or reduce:
        target = parse_objective(objective) if objective else data.objective
        data = with_objective(data, target.metric, target.mode if objective else None, reduce)
    best = best_per_scientific_value(data)
    findings = run_checklist(data)
    if fmt == "json":
        click.echo(json.dumps({
            "experiment": experiment,
            "objective": {"metric": data.objective.metric, "mode": data.objective.mode, "reduce": data.objective.reduce},
            "best": json.loads(best.to_json(orient="records")),
            "findings": [f.to_dict() for f in findings],
            "notes": [{"at": at.isoformat() if at else None, "text": text} for at, text in data.notes],
        }, indent=2, default=str))
        return
    _print_text(data, best, findings)
    if fmt == "html":
        from pathlib import Path

        from tunebook.core.imports import require
        from tunebook.report import write_html_report

        require("plotly", "report", "the HTML report")
        path = write_html_report(data, Path(out_dir), findings, best)
        click.echo(f"\nreport: {path.resolve()} (opens offline in any browser)")


def _print_text(data: Any, best: Any, findings: list) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from tunebook.cli.render import cell_text

    console = Console()
    o = data.objective
    console.print(f"[bold]{escape(data.experiment.name)}[/bold]  {escape(data.experiment.goal)}")
    console.print(f"objective: {escape(o.metric)} ({o.mode}, {o.reduce} over training)")
    table = Table(title="Best trial per scientific value (the isolation result)", title_justify="left")
    for column in ("group", "n_complete", "objective", "number", "best_step"):
        if column in best.columns:
            table.add_column(column)
    shown = [c for c in ("group", "n_complete", "objective", "number", "best_step") if c in best.columns]
    for _, row in best.iterrows():
        table.add_row(*(escape(cell_text(row[c])) for c in shown))
    console.print(table)
    checks = Table(title="Checklist (problems first)", title_justify="left", show_lines=True)
    for column in ("severity", "check", "study", "finding", "what to do"):
        checks.add_column(column, overflow="fold")
    colour = {"problem": "red", "warning": "yellow", "info": "dim"}
    for f in findings:
        severity = f"[{colour[f.severity.value]}]{f.severity.value}[/]"
        checks.add_row(severity, f.id, escape(f.study or "-"), escape(f.message), escape(f"{f.action} ({f.section})"))
    console.print(checks)
    _print_notes(console, data.notes)


def _print_notes(console: Any, notes: Any) -> None:
    """The spec's notes, then each ``tunebook note`` with its date."""
    from rich.markup import escape

    if notes:
        console.print("[bold]Notes[/bold]")
    for at, text in notes:
        console.print(f"  [dim]{f'{at:%Y-%m-%d %H:%M} UTC' if at else 'spec'}[/dim]  {escape(text)}")
