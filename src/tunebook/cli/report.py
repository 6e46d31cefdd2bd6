"""``tunebook report``: which scientific value won, whether to trust it, what to do next."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click

from tunebook.cli.options import open_cli_store, store_option
from tunebook.core.provenance import code_summary, trials_code_line

BEST_COLUMNS = ("group", "trial", "objective", "best_step", "n_complete")
BEST_HEADERS = ("scientific value", "best trial", "objective", "best step", "complete trials")


@dataclasses.dataclass(frozen=True)
class Analysis:
    """What every format of the report shows: the frames, the best per scientific value, findings, verdict."""

    data: Any
    best: Any
    findings: list
    verdict: Any
    importance: Any = None  # analysis.importance.Importance; None without the importance extra


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
    """The verdict, the isolation result (best per scientific value) and the playbook's checklist for EXPERIMENT."""
    from tunebook.cli.short_lived import full_collections_paused

    with full_collections_paused():
        result = analyse(experiment, store_url, objective, reduce)
        if fmt == "json":
            click.echo(json.dumps(report_json(result), indent=2, default=str))
            return
        print_report(result)
        if fmt == "html":
            path = write_html(result, Path(out_dir))
            click.echo(f"\nreport: {path.resolve()} (opens offline in any browser)")


def analyse(experiment: str, store_url: str | None, objective: str | None = None,
            reduce: str | None = None, runs: str | None = None) -> Analysis:
    """Load EXPERIMENT (judged by ``objective``/``reduce`` if given), run the checklist and decide the verdict;
    ``runs``: the trial folders' root, for the verdict's ``tunebook run`` commands."""
    from tunebook.analysis import load
    from tunebook.analysis.best import best_per_scientific_value
    from tunebook.analysis.checklist import metrics_read, run_checklist
    from tunebook.analysis.objective import parse_objective, with_objective
    from tunebook.analysis.verdict import decide
    from tunebook.core.experiment import Experiment
    from tunebook.report.reads import report_reads
    from tunebook.storage.url import command_url

    with open_cli_store(store_url) as store:
        record = store.get_experiment(experiment)
        # the curves the report reads; with --objective all of them, so a misspelt metric is named with the others
        metrics = None if objective else metrics_read(Experiment.from_dict(record.spec).objective.metric)
        # of the other metrics, only the trials the report reads (report.reads); the objective's of every trial
        data = load(experiment, store, metrics=metrics, chooser=report_reads)
        url = command_url(store.url)
    if objective or reduce:
        target = parse_objective(objective) if objective else data.objective
        data = with_objective(data, target.metric, target.mode if objective else None, reduce)
    findings = run_checklist(data)
    spec = record.source if record.source and Path(record.source).is_file() else None
    verdict = decide(data, findings, store=url, spec=spec, runs=runs)
    return Analysis(data, best_per_scientific_value(data), findings, verdict, importance_or_none(data))


def importance_or_none(data: Any) -> Any:
    """The experiment's importances (``analysis.importance``), or None when scikit-learn (the importance extra)
    is not installed: the rest of the report does not need it."""
    from tunebook.analysis.importance import importance
    from tunebook.core.errors import MissingExtraError

    try:
        return importance(data)
    except MissingExtraError:
        return None


def report_json(result: Analysis) -> dict[str, Any]:
    """The report for scripts: the verdict first, then the objective, the best rows (trials by name), findings."""
    o = result.data.objective
    return {
        "experiment": result.data.experiment.name,
        "verdict": result.verdict.to_dict(),
        "objective": {"metric": o.metric, "mode": o.mode, "reduce": o.reduce},
        "best": best_rows(result.data, result.best),
        "code_versions": code_versions_json(result.data),
        "findings": [f.to_dict() for f in result.findings],
        "importance": None if result.importance is None else result.importance.to_dict(),
        "notes": [{"at": at.isoformat() if at else None, "text": text} for at, text in result.data.notes],
    }


def best_rows(data: Any, best: Any) -> list[dict[str, Any]]:
    """The best per scientific value as plain rows, the trial named ``STUDY/NUMBER`` (no store ids)."""
    rows = json.loads(best.to_json(orient="records"))
    out = []
    for row in rows:
        trial_id = row.pop("trial_id")
        row.pop("number", None)
        code = code_summary(data.code_versions.get(int(trial_id)))
        out.append({"group": row.pop("group"), "trial": data.trial_name(trial_id), **row, "code": code})
    return out


def code_versions_json(data: Any) -> list[dict[str, Any]]:
    """Each code version the experiment's trials ran on (``core.provenance.code_summary``) with its trials' names;
    trials with none recorded come last, under a None commit and ``"recorded": False``."""
    groups: dict[Any, list[str]] = {}
    for trial_id in data.trials["trial_id"]:
        version = data.code_versions.get(int(trial_id))
        groups.setdefault(version.id if version else None, []).append(data.trial_name(trial_id))
    by_id = {v.id: v for v in data.code_versions.values()}
    out = [{**code_summary(by_id[i]), "recorded": True, "trials": names} for i, names in groups.items() if i is not None]
    if None in groups:
        out.append({"commit": None, "dirty": None, "recorded": False, "trials": groups[None]})
    return out


def write_html(result: Analysis, out_dir: Path) -> Path:
    """The self-contained HTML report of ``result`` in ``out_dir``."""
    from tunebook.core.imports import require
    from tunebook.report import write_html_report

    require("plotly", "report", "the HTML report")
    return write_html_report(result.data, out_dir, result.findings, result.best, result.verdict,
                             importance=result.importance)


def print_report(result: Analysis, with_verdict: bool = True) -> None:
    """The text report: the verdict (unless ``with_verdict`` is False), the best per value, the checklist."""
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    data, o = result.data, result.data.objective
    console.print(f"[bold]{escape(data.experiment.name)}[/bold]  {escape(data.experiment.goal)}")
    console.print(f"objective: {escape(o.metric)} ({o.mode}, {o.reduce} over training)")
    code = trials_code_line(data.trials["trial_id"], data.code_versions)
    if code:
        console.print(f"code: {escape(code)}")
    if with_verdict:
        print_verdict(result.verdict, console)
    console.print(_best_table(data, result.best))
    console.print(_checklist_table(result.findings))
    if result.importance is not None:
        from tunebook.report.importance_section import importance_lines

        console.print("\n".join(importance_lines(result.importance)), markup=False, highlight=False)
    _print_notes(console, data.notes)


def print_verdict(verdict: Any, console: Any = None) -> None:
    """The verdict as a reader meets it: headline, paragraph, then each next step with its command unwrapped.

    Commands are printed with ``soft_wrap`` so a narrow terminal never breaks
    one in two: they copy and paste as printed.
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.padding import Padding

    console = console or Console()
    colour = "green" if verdict.supported else "yellow"
    console.print()
    console.print(f"[bold {colour}]Verdict: {escape(verdict.headline)}[/]")
    console.print(escape(verdict.text))
    if verdict.next_steps:
        console.print("[bold]Next:[/bold]")
    for step in verdict.next_steps:
        console.print(Padding(f"- {escape(step.what)}" + (":" if step.command else ""), (0, 0, 0, 2), expand=False))
        if step.command:
            console.print(f"    {step.command}", soft_wrap=True, markup=False, highlight=False)
    console.print()


def _best_table(data: Any, best: Any) -> Any:
    from rich.markup import escape
    from rich.table import Table

    from tunebook.cli.render import cell_text

    table = Table(title="Best trial per scientific value (the isolation result)", title_justify="left")
    for header in BEST_HEADERS:
        table.add_column(header)
    for row in best_rows(data, best):
        table.add_row(*(escape(cell_text(row.get(c))) for c in BEST_COLUMNS))
    return table


def _checklist_table(findings: list) -> Any:
    """The findings as a list, problems first: one headed block each, readable at 80 columns.

    A five-column table folds every message into a ribbon a few words wide
    on a terminal; a block keeps the message and what to do at full width.
    """
    from rich.console import Group
    from rich.markup import escape
    from rich.padding import Padding
    from rich.text import Text

    colour = {"problem": "bold red", "warning": "bold yellow", "info": "dim"}
    blocks: list[Any] = [Text("Checklist (problems first)", style="italic")]
    for f in findings:
        where = f"  [dim]{escape(f.study)}[/dim]" if f.study else ""
        blocks.append(f"[{colour[f.severity.value]}]{f.severity.value:<8}[/] [bold]{escape(f.id)}[/bold]{where}")
        blocks.append(Padding(escape(f.message), (0, 0, 0, 9)))
        blocks.append(Padding(f"[dim]what to do:[/dim] {escape(f.action)} [dim]({escape(f.section)})[/dim]",
                              (0, 0, 1, 9)))
    if not findings:
        blocks.append("  no findings")
    return Group(*blocks)


def _print_notes(console: Any, notes: Any) -> None:
    """The spec's notes, then each ``tunebook note`` with its date."""
    from rich.markup import escape

    if notes:
        console.print("[bold]Notes[/bold]")
    for at, text in notes:
        console.print(f"  [dim]{f'{at:%Y-%m-%d %H:%M} UTC' if at else 'spec'}[/dim]  {escape(text)}")
