"""Rows of plain values printed as a rich table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any, Mapping, Sequence

import click

FORMATS = ("table", "csv", "json")
format_option = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)


def emit(rows: Sequence[Mapping[str, Any]], fmt: str, title: str = "", columns: Sequence[str] | None = None) -> None:
    """Print ``rows`` (dicts with the same keys) in ``fmt``."""
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        click.echo(json.dumps([dict(r) for r in rows], indent=2, default=str))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({c: _csv_cell(r.get(c)) for c in columns} for r in rows)
        click.echo(out.getvalue(), nl=False)
    else:
        _table(rows, columns, title)


def _csv_cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (dict, list)) else ("" if value is None else value)


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], title: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title) if title else None, title_justify="left")
    for column in columns:
        table.add_column(escape(column), overflow="fold")
    for row in rows:
        table.add_row(*(escape(cell_text(row.get(c))) for c in columns))
    Console().print(table)


def cell_text(value: Any) -> str:
    """A value as a short table cell."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value.splitlines()[0][:120] if value else ""
    return str(value)
