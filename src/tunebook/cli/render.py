"""Rows of plain values printed as a rich table that fits the terminal, CSV or JSON.

A terminal table never breaks a header into fragments: when the natural
table is wider than the terminal it first uses the columns' short headers,
then drops the columns worth least (empty ones first), and finally cuts the
one ``flex`` column's cells with an ellipsis. CSV and JSON always hold
every column in full.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from typing import Any, Mapping, Sequence

import click

FORMATS = ("table", "csv", "json")
format_option = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
FLEX_MIN = 20  # the default narrowest a flex column is cut to
EMPTY_CELLS = ("-", "", "0")


@dataclasses.dataclass(frozen=True)
class Column:
    """A table column: its key in the rows, and how it gives way on a narrow terminal."""

    key: str
    header: str = ""  # default: the key
    short: str = ""  # a shorter header, used when the full ones do not fit
    keep: int = 100  # columns with the lowest ``keep`` are dropped first; 100: never dropped
    justify: str = "left"
    flex: bool = False  # cut with an ellipsis to fit (one per table, e.g. a reason)
    min_width: int = FLEX_MIN  # a flex column is never cut narrower than this (or its header)

    @property
    def title(self) -> str:
        return self.header or self.key


def emit(rows: Sequence[Mapping[str, Any]], fmt: str, title: str = "",
         columns: Sequence[str | Column] | None = None) -> None:
    """Print ``rows`` (dicts with the same keys) in ``fmt``; columns by key or as Column."""
    specs = [c if isinstance(c, Column) else Column(c) for c in (columns or (rows[0].keys() if rows else []))]
    if fmt == "json":
        keys = [c.key for c in specs]
        click.echo(json.dumps([{k: r.get(k) for k in keys} for r in rows], indent=2, default=str))
    elif fmt == "csv":
        keys = [c.key for c in specs]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=keys, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _csv_cell(r.get(k)) for k in keys} for r in rows)
        click.echo(out.getvalue(), nl=False)
    else:
        from rich.console import Console

        console = Console()
        console.print(fitted_table(rows, specs, console.width, title))


def _csv_cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (dict, list)) else ("" if value is None else value)


def fitted_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], width: int, title: str = "") -> Any:
    """A rich Table of ``rows`` no wider than ``width`` where possible (see the module's rule)."""
    from rich.markup import escape
    from rich.table import Table

    cells = [[cell_text(row.get(c.key)) for c in columns] for row in rows]
    kept, headers, flex_width = fit(columns, cells, width)
    table = Table(title=escape(title) if title else None, title_justify="left")
    for i in kept:
        column = columns[i]
        table.add_column(escape(headers[i]), justify=column.justify, no_wrap=True,  # type: ignore[arg-type]
                         overflow="ellipsis", max_width=flex_width if column.flex else None)
    for row in cells:
        table.add_row(*(escape(row[i]) for i in kept))
    return table


def fit(columns: Sequence[Column], cells: Sequence[Sequence[str]], width: int) -> tuple[list[int], list[str], int | None]:
    """(indices of the columns kept, the header of each column, the flex column's width or None).

    A table of columns ``w_i`` wide takes ``sum(w_i) + 3n + 1`` characters
    (rich's padding and borders).
    """
    headers = [c.title for c in columns]
    kept = list(range(len(columns)))
    if _width(columns, cells, headers, kept, flex_min=True) > width:
        headers = [c.short or c.title for c in columns]
    order = sorted((i for i in kept if columns[i].keep < 100),
                   key=lambda i: (not _empty(cells, i), columns[i].keep, -i))
    for i in order:
        if _width(columns, cells, headers, kept, flex_min=True) <= width:
            break
        kept.remove(i)
    flex = [i for i in kept if columns[i].flex]
    if not flex or _width(columns, cells, headers, kept) <= width:
        return kept, headers, None
    kept = [i for i in kept if columns[i].keep >= 100 or columns[i].flex or not _empty(cells, i)]  # room for it
    others = _width(columns, cells, headers, [i for i in kept if i not in flex]) + 3
    return kept, headers, max(width - others, columns[flex[0]].min_width, len(headers[flex[0]]))


def _width(columns: Sequence[Column], cells: Sequence[Sequence[str]], headers: Sequence[str],
           kept: Sequence[int], flex_min: bool = False) -> int:
    total = 1
    for i in kept:
        natural = max([len(headers[i])] + [len(row[i]) for row in cells])
        if flex_min and columns[i].flex:
            natural = min(natural, max(columns[i].min_width, len(headers[i])))
        total += natural + 3
    return total


def _empty(cells: Sequence[Sequence[str]], i: int) -> bool:
    return all(row[i] in EMPTY_CELLS for row in cells)


def cell_text(value: Any) -> str:
    """A value as a short table cell."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value.splitlines()[0][:120] if value else ""
    return str(value)
