"""The Experiment page's trials table, sorted, filtered and paged on the server.

``/api/trials?name=EXP`` answers one page of rows. Query parameters (each
error names the parameter and the value, status 400):

- ``page`` (0-based) and ``size`` (1..500, default 50);
- ``sort``: a column (``trial``, ``study``, ``state``, ``objective``, a
  parameter id, ...), ``desc=1`` for descending; missing values sort last
  either way; numbers by value, text by its characters;
- ``state``: comma-separated trial states (``complete,infeasible``);
- ``study``: comma-separated study keys;
- ``range``: ``COLUMN:LOW:HIGH`` (either bound may be empty), repeatable, on
  numeric columns; a trial without a value in that column is left out.

Trials are named ``STUDY/NUMBER`` (the store's ids stay internal).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tunebook.core.states import TrialState
from tunebook.ui.params import BadRequest, integer, number, required
from tunebook.ui.responses import plain_json

MAX_PAGE = 500
SHOWN = ("trial", "study", "state", "objective", "best_step", "duration", "attempt", "reason", "suggested_by")


def columns_of(data: Any) -> list[str]:
    """The table's columns: the trial's name and outcome, then every parameter (conditional ids included)."""
    return [*SHOWN, *(c for c in data.trials.columns if c not in SHOWN and c not in _HIDDEN)]


_HIDDEN = ("trial_id", "number", "started_at", "finished_at")


def filtered(data: Any, request: Any) -> pd.DataFrame:
    """The rows of ``data.trials`` the request's ``state``, ``study`` and ``range`` filters keep."""
    rows = data.trials
    states = _listed(request, "state")
    if states:
        known = {s.value for s in TrialState}
        for state in states:
            if state not in known:
                raise BadRequest(f"state={state!r} is not a trial state (one of {', '.join(sorted(known))})")
        rows = rows[rows["state"].isin(states)]
    studies = _listed(request, "study")
    if studies:
        rows = rows[rows["study"].isin(studies)]
    for text in request.query_params.getlist("range"):
        rows = rows[_in_range(rows, text, data)]
    return rows


def _listed(request: Any, name: str) -> list[str]:
    return [part for text in request.query_params.getlist(name) for part in text.split(",") if part]


def _in_range(rows: pd.DataFrame, text: str, data: Any) -> pd.Series:
    column, _, bounds = text.partition(":")
    low_text, _, high_text = bounds.rpartition(":") if bounds.count(":") else (bounds, "", "")
    if column not in data.trials.columns or column in _HIDDEN:
        raise BadRequest(f"range={text!r}: no column {column!r} (columns: {', '.join(columns_of(data))})")
    values = pd.to_numeric(rows[column], errors="coerce")
    keep = values.notna()
    if low_text:
        keep &= values >= number(low_text, f"range low of {column}")
    if high_text:
        keep &= values <= number(high_text, f"range high of {column}")
    return keep


def sorted_rows(rows: pd.DataFrame, column: str, descending: bool, data: Any) -> pd.DataFrame:
    """``rows`` by ``column`` (missing values last), ties by study then number."""
    if column == "trial":
        return rows.sort_values(["study", "number"], ascending=not descending, kind="stable")
    if column not in columns_of(data):
        raise BadRequest(f"sort={column!r} is not a column (columns: {', '.join(columns_of(data))})")
    values = rows[column]
    numeric = pd.to_numeric(values, errors="coerce")
    key = numeric if numeric.notna().sum() >= values.notna().sum() else values.map(
        lambda v: None if v is None or v != v else str(v))
    order = key.sort_values(ascending=not descending, na_position="last", kind="stable").index
    return rows.loc[order]


def page_rows(data: Any, rows: pd.DataFrame) -> list[list[Any]]:
    """The page's cells in ``columns_of(data)`` order; the trial named ``STUDY/NUMBER``."""
    names = [data.trial_name(t) for t in rows["trial_id"]]
    cells = []
    for column in columns_of(data):
        if column == "trial":
            cells.append(names)
        else:
            cells.append([_cell(v) for v in rows[column].tolist()])
    return [list(row) for row in zip(*cells)] if cells and names else []


def _cell(value: Any) -> Any:
    """A missing value (NaN: a parameter the trial's branch lacks, no objective) is None; inf stays inf."""
    return None if isinstance(value, float) and np.isnan(value) else value


def trials_api(request: Any) -> Any:
    """``/api/trials``: one page of the experiment's trials (see the module docstring)."""
    ui = request.app.state.ui
    data = ui.trials(required(request, "name"))
    size = integer(request, "size", 50, 1, MAX_PAGE)
    page_number = integer(request, "page", 0, 0, 10**9)
    rows = filtered(data, request)
    sort = request.query_params.get("sort") or "trial"
    rows = sorted_rows(rows, sort, request.query_params.get("desc") in ("1", "true"), data)
    shown = rows.iloc[page_number * size:(page_number + 1) * size]
    return plain_json({
        "columns": columns_of(data), "total": len(data.trials), "matching": len(rows), "page": page_number,
        "size": size, "sort": sort, "rows": page_rows(data, shown),
        "studies": sorted(data.trials["study"].unique().tolist()),
    })
