"""``tunebook launch``, ``tunebook launches`` and ``tunebook baseline``: the launch log of a line of experiments.

A *line* is one succession of baselines (``main`` unless ``--line`` names
another: one store usually holds one line of work; name more when it holds
several models). ``launch`` makes a trial's configuration the line's new
baseline after showing the evidence; ``launches`` lists the line's log,
verified; ``baseline`` prints the current baseline as a spec's ``fixed:``.
"""

from __future__ import annotations

import math
import shutil
import sys
from typing import Any

import click

from tunebook.cli.launch_text import CSV_KEYS, JSON_KEYS, LAUNCH_COLUMNS, decision_warning, entry_text, launch_rows
from tunebook.cli.options import open_cli_store, store_option
from tunebook.cli.render import FORMATS, emit
from tunebook.core.errors import NotFoundError, TunebookError
from tunebook.storage.launches import DEFAULT_LINE

line_option = click.option("--line", default=DEFAULT_LINE, show_default=True, metavar="NAME",
                           help="The line of baselines (one store usually holds one: 'main').")


class LaunchInputError(TunebookError, ValueError):
    """An option of a launch command is invalid; names the option and the value."""


@click.command("launch")
@click.argument("trial")
@click.option("--note", required=True, metavar="TEXT", help="Why this configuration is launched (kept in the log).")
@line_option
@click.option("--min-effect", type=float, default=0.0, show_default=True, metavar="X",
              help="The smallest improvement worth adopting, in the objective's units (for the comparison).")
@click.option("--seed-param", default="seed", show_default=True, metavar="NAME",
              help="The parameter that only seeds a run: trials equal apart from it are repeats.")
@click.option("--yes", is_flag=True, help="Launch without asking (the evidence is still printed).")
@store_option
def launch_command(trial: str, note: str, line: str, min_effect: float, seed_param: str, yes: bool,
                   store_url: str | None) -> None:
    """Make TRIAL's configuration the new baseline of the line, after showing the evidence.

    TRIAL is EXPERIMENT/STUDY/NUMBER (or EXPERIMENT, EXPERIMENT/STUDY for the
    best trial there; the log keeps the trial it named). The
    entry records the configuration, its change from the previous baseline,
    the comparison with it (tunebook compare), the repeats' values, the test
    metrics, the report's open problems, the code version and the command
    that reproduces the trial. It asks before writing unless --yes.
    """
    from tunebook.analysis.checklist import run_checklist
    from tunebook.analysis.next_steps import Where
    from tunebook.cli.compare import comparison_text
    from tunebook.plans.baseline import check_launchable, compare_with_baseline, current_baseline, launch_entry
    from tunebook.plans.reference import resolve_trial
    from tunebook.storage.url import command_url

    note, line = _checked(note, line, min_effect)
    with open_cli_store(store_url) as store:
        previous = current_baseline(store, line)
        candidate = resolve_trial(trial, store)
        check_launchable(candidate, previous)
        compared = compare_with_baseline(store, previous, candidate, min_effect, seed_param)
        entry = launch_entry(store, candidate, previous, note=note, findings=run_checklist(candidate.data),
                             compared=compared, store_url=command_url(store.url), seed_param=seed_param)
        seq = 0 if previous is None else previous.seq + 1
        click.echo(entry_text(entry, line, seq))
        if not isinstance(compared, str):
            layout = comparison_text(compared, width=shutil.get_terminal_size().columns)
            click.echo(f"\nThe comparison with the current baseline (tunebook compare):\n{layout}", nl=False)
        warning = decision_warning(entry)
        if warning:
            click.echo(f"\n{warning}")
        _confirm(entry, line, yes)
        record = store.append_launch(line, entry, expect_seq=seq)
        next_command = Where(entry["experiment"], store=command_url(store.url)).command("baseline", "--line", line)
    click.echo(f"\nlaunched: {entry['trial']} is launch #{record.seq} of line {line!r}, the baseline now "
               f"(hash {record.hash[:12]}); its values for the next spec's fixed:\n    {next_command}")


def _checked(note: str, line: str, min_effect: float) -> tuple[str, str]:
    """The note and line stripped; LaunchInputError naming the option for an empty one or a bad --min-effect."""
    if not note.strip():
        raise LaunchInputError("--note: say why this configuration is launched, got an empty note")
    if not line.strip():
        raise LaunchInputError(f"--line: a line needs a name, got {line!r}")
    if not math.isfinite(min_effect) or min_effect < 0:
        raise LaunchInputError(f"--min-effect: must be a finite number >= 0 (in the objective's units), "
                               f"got {min_effect!r}")
    return note.strip(), line.strip()


def _confirm(entry: dict[str, Any], line: str, yes: bool) -> None:
    """Ask before launching; without a terminal to ask on and no --yes, refuse (nothing is written)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise LaunchInputError("not launched: there is no terminal to confirm on (stdin is not a TTY); read the "
                               "evidence above and pass --yes to launch without asking")
    decision = (entry.get("comparison") or {}).get("decision")
    against = f" although the comparison says {decision!r}" if decision not in (None, "adopt") else ""
    if not click.confirm(f"\nMake {entry['trial']} the baseline of line {line!r}{against}?", default=False):
        raise LaunchInputError("not launched: you answered no; nothing was written")


@click.command("launches")
@line_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@store_option
def launches_command(line: str, fmt: str, store_url: str | None) -> None:
    """The launch log of the line, oldest first, after verifying its hash chain.

    A log edited outside tunebook (an entry changed, deleted or moved) is an
    error naming the first broken entry. The newest entry's hash (printed
    under the table) is worth keeping elsewhere: it also catches the newest
    entries removed together.
    """
    from tunebook.storage.launches import verify_chain

    with open_cli_store(store_url) as store:
        records = store.list_launches(line)
        others = store.launch_lines()
    verify_chain(line, records)  # before anything is printed
    if not records:
        _no_launches(line, others, fmt)
        return
    rows = launch_rows(records)
    columns = {"table": LAUNCH_COLUMNS, "csv": CSV_KEYS, "json": JSON_KEYS}[fmt]
    emit(rows, fmt, title=f"launches of line {line!r}", columns=columns)
    if fmt == "table":
        click.echo(f"chain verified: {len(records)} launch{'es' if len(records) != 1 else ''}, "
                   f"newest hash {records[-1].hash}")


def _no_launches(line: str, others: list[str], fmt: str) -> None:
    if others:
        raise NotFoundError(f"line {line!r} has no launches; lines with launches: {', '.join(others)}")
    if fmt == "json":
        click.echo("[]")
    elif fmt == "table":
        click.echo(f"no launches yet on line {line!r}; make one with: tunebook launch TRIAL --note TEXT")


@click.command("baseline")
@line_option
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True,
              help="yaml: a spec's fixed: section, with comments naming the launch; json: for scripts.")
@store_option
def baseline_command(line: str, fmt: str, store_url: str | None) -> None:
    """The current baseline's configuration, as the fixed: section of the next round's spec."""
    import json

    from tunebook.cli.launch_text import baseline_yaml
    from tunebook.plans.baseline import current_baseline

    with open_cli_store(store_url) as store:
        record = current_baseline(store, line)
        others = store.launch_lines()
    if record is None:
        where = f"; lines with launches: {', '.join(others)}" if others else ""
        raise NotFoundError(f"line {line!r} has no baseline yet: make one with tunebook launch TRIAL --note TEXT"
                            f"{where}")
    if fmt == "json":
        entry = record.entry
        click.echo(json.dumps({"line": record.line, "seq": record.seq, "trial": entry.get("trial"),
                               "launched_at": entry.get("launched_at"), "note": entry.get("note"),
                               "hash": record.hash, "configuration": entry.get("configuration", {})}, indent=2))
        return
    click.echo(baseline_yaml(record), nl=False)
