"""How a launch entry reads: the evidence before confirming, the log's rows, the baseline as a spec's ``fixed:``."""

from __future__ import annotations

import shutil
import textwrap
from typing import Any, Mapping, Sequence

from tunebook.cli.render import Column
from tunebook.core.records import LaunchRecord
from tunebook.core.space import format_value

LABEL = 16  # width of the labels of the evidence block
NOTE_CELL = 40  # a note's first line is cut to this in the terminal table (csv and json hold it whole)
LAUNCH_COLUMNS = (  # on a narrow terminal the hash, then the date, the value and the note give way first
    Column("seq", short="#", justify="right"),
    Column("launched", keep=60),
    Column("trial"),
    Column("value", justify="right", keep=70),
    Column("decision", keep=95),
    Column("change", keep=90, flex=True, min_width=16),
    Column("note_cell", header="note", keep=80),
    Column("hash", keep=30),
)

CSV_KEYS = ("seq", "launched_at", "trial", "metric", "value", "decision", "change", "note", "sha256", "prev_sha256")
JSON_KEYS = ("seq", "launched_at", "trial", "decision", "sha256", "prev_sha256", "entry")

_WARNINGS = {
    "keep baseline": "the comparison says KEEP THE BASELINE: the candidate is worse than the current baseline "
                     "beyond trial variance, or an improvement of at least --min-effect is ruled out (see why "
                     "above). Launching it anyway makes a configuration that did not beat the baseline the new "
                     "baseline.",
    "not enough evidence": "the comparison says NOT ENOUGH EVIDENCE: with the seeds at hand it cannot show the "
                           "candidate is better than the current baseline (see why above), so the difference may "
                           "be luck. Gather the seeds it asks for (the next: commands above) and compare again "
                           "before launching.",
}


def entry_text(entry: Mapping[str, Any], line: str, seq: int) -> str:
    """The evidence block shown before confirming: one labelled line (or a few) per part of the entry."""
    o = entry["objective"]
    parts = [
        ("objective", f"{o['metric']} ({o['mode']}) {_number(o['value'])} at step {o['best_step']}"),
        ("configuration", _params(entry["configuration"])),
        ("change" + (f" from #{entry['previous']['seq']}" if entry.get("previous") else ""),
         change_text(entry.get("change"), _seed_param(entry))),
        ("comparison", _comparison(entry["comparison"], entry.get("previous"))),
        ("retrain values", _retrain(entry["retrain"])),
        ("test metrics", _tests(entry["test_metrics"])),
        ("open problems", _problems(entry["open_problems"])),
        ("code version", entry["code_version"]["summary"]),
        ("reproduce", entry["reproduce"]),
        ("note", entry["note"]),
        ("by", f"{entry['launched_by']} at {entry['launched_at']}"),
    ]
    lines = [f"Launch #{seq} of line {line!r}: {entry['trial']} becomes the baseline"]
    width = max(60, shutil.get_terminal_size().columns - LABEL - 3)
    for label, text in parts:
        body = text.splitlines() if label == "reproduce" else _wrapped(text, width)  # a command stays whole
        body = body or [""]
        lines.append(f"  {label:<{LABEL}}{body[0]}")
        lines += [f"  {'':<{LABEL}}{more}" for more in body[1:]]
    return "\n".join(lines)


def _wrapped(text: str, width: int) -> list[str]:
    """Each line of ``text`` wrapped to ``width``, its continuation lines indented two spaces."""
    return [piece for line in text.splitlines()
            for piece in textwrap.wrap(line, width, subsequent_indent="  ", break_on_hyphens=False) or [""]]


def decision_warning(entry: Mapping[str, Any]) -> str:
    """A plain warning when the comparison does not say adopt (or could not be made); "" otherwise."""
    comparison = entry["comparison"]
    decision = comparison.get("decision")
    if decision == "adopt" or entry.get("previous") is None:
        return ""
    if decision in _WARNINGS:
        text = _WARNINGS[decision]
    else:
        text = f"the candidate was NOT COMPARED with the current baseline: {comparison.get('headline')}"
    width = min(100, shutil.get_terminal_size().columns)
    return textwrap.fill(f"WARNING: {text}", width=width, break_on_hyphens=False)


def change_text(change: Mapping[str, Any] | None, seed_param: str | None = None) -> str:
    """``lr: 0.1 -> 0.01; added: wd=0.001; removed: dropout=0.1``; a first baseline's "first baseline".

    A change of ``seed_param`` comes last, marked "(another seed)": it is not
    a change of configuration.
    """
    if change is None:
        return "first baseline"
    moved = {k: f"{k}: {format_value(v['old'])} -> {format_value(v['new'])}" for k, v in change["changed"].items()}
    seed = moved.pop(seed_param, None) if seed_param else None
    pieces = list(moved.values())
    if change["added"]:
        pieces.append(f"added: {_params(change['added'])}")
    if change["removed"]:
        pieces.append(f"removed: {_params(change['removed'])}")
    if seed:
        pieces.append(f"{seed} (another seed)")
    return "; ".join(pieces) or "same configuration (another run of it)"


def launch_rows(records: Sequence[LaunchRecord]) -> list[dict[str, Any]]:
    """One row per launch: seq, date, trial, objective value, decision, change, note, hash (and the full entry)."""
    rows = []
    for record in records:
        entry = record.entry
        decision = entry.get("comparison", {}).get("decision") or ("first" if record.seq == 0 else "not compared")
        rows.append({
            "seq": record.seq, "launched": f"{record.created_at:%Y-%m-%d %H:%M} UTC",
            "launched_at": record.created_at.isoformat(), "trial": entry.get("trial"),
            "metric": entry.get("objective", {}).get("metric"), "value": entry.get("objective", {}).get("value"),
            "decision": decision, "change": change_text(entry.get("change"), _seed_param(entry)), "note": entry.get("note"),
            "note_cell": _cut(str(entry.get("note") or ""), NOTE_CELL), "hash": record.hash[:12],
            "sha256": record.hash, "prev_sha256": record.prev_hash, "entry": entry,
        })
    return rows


def baseline_yaml(record: LaunchRecord) -> str:
    """The baseline's configuration under ``fixed:``, with comments naming the launch; loads as a spec section."""
    from tunebook.core.yaml_loader import dump_yaml

    entry = record.entry
    configuration = dict(entry.get("configuration", {}))
    note = " ".join(str(entry.get("note", "")).split())
    lines = [
        f"# the baseline of line {record.line!r}: launch #{record.seq}, trial {entry.get('trial')}",
        f"# launched {record.created_at:%Y-%m-%d %H:%M} UTC by {entry.get('launched_by')}; note: {note}",
        f"# reproduce: {entry.get('reproduce')}",
    ]
    seed = entry.get("retrain", {}).get("seed_param")
    if seed in configuration:
        lines.append(f"# {seed}: the seed this trial ran with; drop it (or make it a nuisance) to vary seeds")
    body = dump_yaml({"fixed": configuration}, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return "\n".join(lines) + "\n" + body


def _seed_param(entry: Mapping[str, Any]) -> str | None:
    return (entry.get("retrain") or {}).get("seed_param")


def _cut(text: str, width: int) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= width and "\n" not in text.strip() else first[: width - 1] + "…"


def _params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={format_value(v)}" for k, v in params.items()) or "(none)"


def _number(value: Any) -> str:
    return "-" if value is None else (f"{value:.6g}" if isinstance(value, float) else str(value))


def _comparison(comparison: Mapping[str, Any], previous: Mapping[str, Any] | None) -> str:
    if previous is None:
        return comparison["headline"]
    decision = comparison.get("decision") or "not compared"
    return f"against {comparison.get('baseline')} (launch #{previous['seq']}): {decision}\n{comparison['headline']}"


def _retrain(retrain: Mapping[str, Any]) -> str:
    """How many runs the configuration has, then each seed's outcome (a lost run shows its state)."""
    runs, seed = retrain["runs"], retrain["seed_param"]
    seeded = any(run["seed"] is not None for run in runs)
    head = f"{len(runs)} run{'s' if len(runs) != 1 else ''} of this configuration"
    if len(runs) == 1:
        head += " (no repeats: tunebook retrain TRIAL -n 5 measures its trial variance)"
    if not seeded:
        head += f" (no {seed!r} parameter: runs differ only by the program's own randomness)"
    lines = [head]
    for run in runs:
        outcome = _number(run["value"]) if run["state"] == "complete" else run["state"]
        label = f"{seed} {format_value(run['seed'])}" if run["seed"] is not None else "run"
        lines.append(f"{label}: {outcome}  ({run['trial']})")
    return "\n".join(lines)


def _tests(tests: Sequence[Mapping[str, Any]]) -> str:
    if not tests:
        return "none logged (no test/... or test_... curve)"
    return "\n".join(f"{t['metric']} {_number(t['value'])} at step {t['step']}"
                     + (" (the best step)" if t["step"] == t["best_step"] else
                        f" (the nearest logged step to the best step, {t['best_step']})") for t in tests)


def _problems(problems: Sequence[Mapping[str, Any]]) -> str:
    if not problems:
        return "none (no warning or problem in the report's checklist)"
    return "\n".join(f"{p['severity']} {p['id']}" + (f" ({p['study']})" if p.get("study") else "")
                     + f": {p['summary']}" for p in problems)
