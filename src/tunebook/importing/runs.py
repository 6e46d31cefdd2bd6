"""Read runs done before tunebook: one folder per run, a JSON params file and a CSV of curves.

A run folder ``run-07/`` holds, say, ``hparams.json`` (a JSON object from
hyperparameter name to a number, text, true/false or null) and ``eval.csv``
whose header names the step column and one column per metric. Empty cells
are skipped (a metric logged at fewer steps); ``nan`` and ``inf`` are kept,
as the store keeps them. Every problem of every run is collected and raised
together in one ImportInputError, before anything is written.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from tunebook.importing.errors import ImportInputError

Curves = Mapping[str, tuple[tuple[int, ...], tuple[float, ...]]]
Problems = list[tuple[str, str]]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCALAR = (str, int, float, bool, type(None))


@dataclasses.dataclass(frozen=True)
class ImportedRun:
    """One run as read from disk: its folder name, params by plain name, and curves."""

    name: str
    params: Mapping[str, Any]
    curves: Curves
    curve_file: str  # where the curves came from, for messages ("run-07/eval.csv")
    summaries: tuple[str, ...] = ()  # metrics seen only as final values (add_hparams), not as curves
    started_at: datetime | None = None  # when the run ran (timezone-aware), where its source recorded it
    finished_at: datetime | None = None
    failed: str | None = None  # why its source says the run crashed (stored FAILED unless it diverged)


@dataclasses.dataclass(frozen=True)
class LeftOut:
    """Something a reader saw and did not import: in which run, what (a metric; '' for the run itself), and why."""

    run: str
    what: str
    why: str


def run_folders(root: Path) -> list[Path]:
    """The run folders directly under ``root``, by name; ImportInputError if there are none."""
    if not root.is_dir():
        raise ImportInputError(f"{root} is not a folder")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise ImportInputError(f"{root} holds no run folders (one sub-folder per run)")
    return folders


def read_runs(root: str | Path, params_file: str, metrics_file: str, step_column: str) -> list[ImportedRun]:
    """Every run under ``root``; one ImportInputError listing all problems found."""
    root = Path(root)
    problems: Problems = []
    runs = []
    for folder in run_folders(root):
        params = read_params(folder / params_file, f"{folder.name}/{params_file}", problems)
        label = f"{folder.name}/{metrics_file}"
        curves = read_csv_curves(folder / metrics_file, label, step_column, problems)
        if params is not None and curves is not None:
            runs.append(ImportedRun(folder.name, params, curves, label))
    if problems:
        raise ImportInputError(problems, str(root))
    return runs


def read_params(path: Path, label: str, problems: Problems) -> dict[str, Any] | None:
    """A run's params from a JSON object of scalars; None after recording a problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append((label, "file not found"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append((label, f"cannot read: {exc}"))
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append((label, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"))
        return None
    return check_params(data, label, problems)


def check_params(data: Any, label: str, problems: Problems) -> dict[str, Any] | None:
    """``data`` as params (name -> scalar), or None after recording what is wrong with it."""
    if not isinstance(data, dict):
        problems.append((label, f"params must be a JSON object of name: value, got {type(data).__name__}"))
        return None
    before = len(problems)
    for key, value in data.items():
        if not _IDENT.fullmatch(key):
            problems.append((label, f"{key!r} cannot name a hyperparameter (letters, digits, '_', not starting "
                                    "with a digit)"))
        elif not isinstance(value, _SCALAR):
            problems.append((label, f"{key}: values must be numbers, text, true/false or null, got {value!r}"))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append((label, f"{key}: a hyperparameter value must be finite, got {value!r}"))
    return dict(data) if len(problems) == before else None


def read_csv_curves(path: Path, label: str, step_column: str, problems: Problems) -> dict[str, tuple] | None:
    """Curves from a CSV with a header row; None after recording a problem."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        problems.append((label, "file not found"))
        return None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append((label, f"cannot read as CSV: {exc}"))
        return None
    if not rows:
        problems.append((label, "empty file (expected a header row naming the step and metric columns)"))
        return None
    header = [name.strip() for name in rows[0]]
    dupes = sorted({n for n in header if header.count(n) > 1})
    if dupes:
        problems.append((label, f"column {dupes[0]!r} appears more than once"))
        return None
    if step_column not in header:
        problems.append((label, f"no column {step_column!r} (columns: {', '.join(header)})"))
        return None
    return _parse_rows(rows, header, step_column, label, problems)


def _parse_rows(rows: list[list[str]], header: list[str], step_column: str, label: str,
                problems: Problems) -> dict[str, tuple] | None:
    points: dict[str, tuple[list[int], list[float]]] = {h: ([], []) for h in header if h != step_column}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            problems.append((label, f"line {line} has {len(row)} cells but the header names {len(header)} columns"))
            return None
        cells = dict(zip(header, (c.strip() for c in row)))
        step = _step(cells.get(step_column, ""))
        if step is None:
            problems.append((label, f"line {line}, column {step_column!r}: a step must be a whole number, "
                                    f"got {cells.get(step_column, '')!r}"))
            return None
        for metric, (steps, values) in points.items():
            cell = cells.get(metric, "")
            if not cell:
                continue
            try:
                values.append(float(cell))
            except ValueError:
                problems.append((label, f"line {line}, column {metric!r}: {cell!r} is not a number"))
                return None
            steps.append(step)
    return {m: (tuple(s), tuple(v)) for m, (s, v) in points.items() if s}


def _step(cell: str) -> int | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    if not math.isfinite(value) or value != int(value):
        return None
    return int(value)
