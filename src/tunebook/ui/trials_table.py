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

Two sources answer the same question. A page sorted and filtered by the
trial's own columns (trial, study, state, objective, best step, attempt,
reason; ranges on objective, best step, attempt) or by a numeric parameter
(``numeric_params``) comes straight from the store (``Store.page_trials``:
the database sorts, counts and cuts the page), so a page of 50,000 trials
answers in tens of milliseconds with nothing read before. A page sorted or
filtered by a text parameter, the duration or ``suggested_by`` comes from
the experiment's trials read whole and cached (``UIContext.trials``).
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


_HIDDEN = ("trial_id", "number", "started_at", "finished_at")
SQL_SORTED = ("trial", "study", "state", "objective", "best_step", "attempt", "reason")
SQL_RANGED = ("objective", "best_step", "attempt")


def columns_of(data: Any) -> list[str]:
    """The table's columns: the trial's name and outcome, every parameter of the space (conditional ids
    included), then any other parameter the trials hold (``table_columns``)."""
    return table_columns(data.experiment, [c for c in data.trials.columns if c not in SHOWN and c not in _HIDDEN])


def table_columns(experiment: Any, params_seen: Any) -> list[str]:
    """``SHOWN``, the space's parameter ids in its order, then the other ``params_seen`` in their order."""
    space = [hp.id for hp in experiment.space]
    return [*SHOWN, *space, *(k for k in dict.fromkeys(params_seen) if k not in space and k not in SHOWN)]


def filtered(data: Any, request: Any) -> pd.DataFrame:
    """The rows of ``data.trials`` the request's ``state``, ``study`` and ``range`` filters keep."""
    rows = data.trials
    states = _listed(request, "state")
    _check_states(states)
    if states:
        rows = rows[rows["state"].isin(states)]
    studies = _listed(request, "study")
    if studies:
        rows = rows[rows["study"].isin(studies)]
    for text in request.query_params.getlist("range"):
        rows = rows[_in_range(rows, text, data)]
    return rows


def _check_states(states: list[str]) -> None:
    known = {s.value for s in TrialState}
    for state in states:
        if state not in known:
            raise BadRequest(f"state={state!r} is not a trial state (one of {', '.join(sorted(known))})")


def _listed(request: Any, name: str) -> list[str]:
    return [part for text in request.query_params.getlist(name) for part in text.split(",") if part]


def _in_range(rows: pd.DataFrame, text: str, data: Any) -> pd.Series:
    column, low_text, high_text = _range_parts(text)
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
        elif column not in rows.columns:  # a parameter of the space no trial has
            cells.append([None] * len(names))
        else:
            cells.append([_cell(v) for v in rows[column].tolist()])
    return [list(row) for row in zip(*cells)] if cells and names else []


def _cell(value: Any) -> Any:
    """A missing value (NaN: a parameter the trial's branch lacks, no objective) is None; inf stays inf."""
    return None if isinstance(value, float) and np.isnan(value) else value


def trials_api(request: Any) -> Any:
    """``/api/trials``: one page of the experiment's trials (see the module docstring)."""
    ui = request.app.state.ui
    name = required(request, "name")
    size = integer(request, "size", 50, 1, MAX_PAGE)
    page_number = integer(request, "page", 0, 0, 10**9)
    sort = request.query_params.get("sort") or "trial"
    descending = request.query_params.get("desc") in ("1", "true")
    ranges = [_range_parts(text) for text in request.query_params.getlist("range") if text]
    answer = _from_store(ui, name, request, sort, descending, ranges, page_number, size)
    if answer is not None:
        return plain_json(answer)
    data = ui.trials(name)
    rows = filtered(data, request)
    rows = sorted_rows(rows, sort, descending, data)
    shown = rows.iloc[page_number * size:(page_number + 1) * size]
    return plain_json({
        "columns": columns_of(data), "total": len(data.trials), "matching": len(rows), "page": page_number,
        "size": size, "sort": sort, "rows": page_rows(data, shown),
        "studies": sorted(data.trials["study"].unique().tolist()),
    })


def _range_parts(text: str) -> tuple[str, str, str]:
    """``COLUMN:LOW:HIGH`` -> (column, low text, high text); either bound may be empty."""
    column, _, bounds = text.partition(":")
    low_text, _, high_text = bounds.rpartition(":") if bounds.count(":") else (bounds, "", "")
    return column, low_text, high_text


def _from_store(ui: Any, name: str, request: Any, sort: str, descending: bool, ranges: list[tuple[str, str, str]],
                page_number: int, size: int) -> dict[str, Any] | None:
    """The answer of ``trials_api`` read page by page from the store (``Store.page_trials``); None when the
    store cannot sort or filter so (a text parameter, the duration, ``suggested_by``): the caller uses the
    cached frame then."""
    from tunebook.core.errors import StoreError
    from tunebook.core.experiment import Experiment

    record = ui.store.get_experiment(name)
    experiment = Experiment.from_dict(record.spec)
    numeric = numeric_params(experiment)
    if sort not in (*SQL_SORTED, *numeric) or any(c not in (*SQL_RANGED, *numeric) for c, _, _ in ranges):
        return None
    states = _listed(request, "state")
    _check_states(states)
    bounds = {column: (number(low, f"range low of {column}") if low else None,
                       number(high, f"range high of {column}") if high else None) for column, low, high in ranges}
    try:
        trials, matching = ui.store.page_trials(record.id, sort=sort, descending=descending, states=states,
                                                studies=_listed(request, "study"), ranges=bounds,
                                                offset=page_number * size, limit=size, numeric_params=numeric)
    except (StoreError, ValueError):  # e.g. PostgreSQL refusing a params text that holds NaN
        return None
    keys = {s.id: s.key for s in ui.store.list_studies(record.id)}
    columns = table_columns(experiment, (k for t in trials for k in t.params))
    return {"columns": columns, "total": sum(ui.store.count_trials(record.id).values()), "matching": matching,
            "page": page_number, "size": size, "sort": sort, "rows": [_row(t, keys, columns) for t in trials],
            "studies": sorted(keys.values())}


def numeric_params(experiment: Any) -> list[str]:
    """The space's parameter ids whose values are all numbers (a range, or choices of numbers): the ones
    the store sorts and filters by; the cached frame does the others."""
    from tunebook.core.domains import Choice, Fixed, Range

    def numbers(values: Any) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)

    return [hp.id for hp in experiment.space if isinstance(hp.domain, Range)
            or (isinstance(hp.domain, Choice) and numbers(hp.domain.values))
            or (isinstance(hp.domain, Fixed) and numbers([hp.domain.value]))]


def _row(trial: Any, keys: dict[int, str], columns: list[str]) -> list[Any]:
    """One trial's cells in ``columns`` order, as ``page_rows`` makes them from the cached frame."""
    from tunebook.core.records import trial_name

    started, finished = trial.started_at, trial.finished_at
    own = {"trial": trial_name(keys[trial.study_id], trial.number), "study": keys[trial.study_id],
           "state": trial.state.value, "objective": trial.objective, "best_step": trial.best_step,
           "duration": (finished - started).total_seconds() if started and finished else None,
           "attempt": trial.attempt, "reason": trial.reason, "suggested_by": (trial.suggestion or {}).get("by")}
    return [_cell(own[c] if c in own else trial.params.get(c)) for c in columns]
