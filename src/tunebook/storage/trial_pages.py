"""One page of an experiment's trials, sorted, filtered and counted by the database (``Store.page_trials``).

What a table of 50,000 trials shows first must not wait for all 50,000 to be
read: the database sorts, filters, counts and cuts the page (ORDER BY,
WHERE, LIMIT/OFFSET) and only the page's rows cross over. Sortable and
filterable here are the trial's own columns (``SORTABLE``, ``RANGED``) and
the numeric parameters the caller names, read out of the ``params`` JSON
text by the database (SQLite ``json_extract``, PostgreSQL ``jsonb``; on
SQLite a params text that is not strict JSON, such as one holding NaN,
counts as missing). Missing values (NULL) sort last in either direction;
ties go by study, then trial number, as ``list_trials`` orders them.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from sqlalchemy import Float, and_, case, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from tunebook.storage.schema import studies, trials

# table column -> what the database sorts by ("trial": its study's key, then its number)
SORTABLE: Mapping[str, Any] = {
    "study": studies.c.key, "state": trials.c.state, "objective": trials.c.objective,
    "best_step": trials.c.best_step, "attempt": trials.c.attempt, "reason": trials.c.reason,
}
RANGED = ("objective", "best_step", "attempt")  # numeric columns a ``ranges`` filter may name


def param_number(dialect: str, param_id: str) -> Any:
    """The SQL value of parameter ``param_id`` of a trial as a number (NULL where it has none)."""
    if dialect == "sqlite":
        path = '$."' + param_id + '"'  # page_query leaves out ids holding a double quote
        return case((func.json_valid(trials.c.params) == 1, func.json_extract(trials.c.params, path)), else_=None)
    value = cast(trials.c.params, JSONB)[param_id]
    return case((func.jsonb_typeof(value) == "number", cast(value.astext, Float)), else_=None)


def page_query(dialect: str, experiment_id: int, sort: str, descending: bool, states: Sequence[str],
               study_keys: Sequence[str], ranges: Mapping[str, tuple[float | None, float | None]],
               numeric_params: Sequence[str] = ()) -> tuple[Any, Any]:
    """(the ordered SELECT of the matching trials' rows, the SELECT counting them); ValueError naming an
    unknown ``sort`` or range column. ``numeric_params``: parameter ids sorted and ranged as numbers."""
    numeric_params = [p for p in numeric_params if p not in SORTABLE and '"' not in p]
    columns = {**SORTABLE, **{p: param_number(dialect, p) for p in numeric_params}}
    ranged = {**{c: SORTABLE[c] for c in RANGED}, **{p: columns[p] for p in numeric_params}}
    where = _conditions(experiment_id, states, study_keys, ranges, ranged)
    joined = trials.join(studies, trials.c.study_id == studies.c.id)
    ties = [studies.c.key, trials.c.number] if sort == "trial" else [studies.c.id, trials.c.number]
    order: list[Any] = []
    if sort != "trial":
        if sort not in columns:
            raise ValueError(f"sort={sort!r}: the store sorts by trial or {', '.join(columns)}")
        column = columns[sort]
        order = [column.is_(None), column.desc() if descending else column.asc()]
    else:
        ties = [c.desc() for c in ties] if descending else ties
    rows = select(trials).select_from(joined).where(where).order_by(*order, *ties)
    count = select(func.count()).select_from(joined).where(where)
    return rows, count


def _conditions(experiment_id: int, states: Sequence[str], study_keys: Sequence[str],
                ranges: Mapping[str, tuple[float | None, float | None]], ranged: Mapping[str, Any]) -> ColumnElement:
    conditions = [studies.c.experiment_id == experiment_id]
    if states:
        conditions.append(trials.c.state.in_(list(states)))
    if study_keys:
        conditions.append(studies.c.key.in_(list(study_keys)))
    for name, (low, high) in ranges.items():
        if name not in ranged:
            raise ValueError(f"range on {name!r}: the store filters ranges of {', '.join(ranged)}")
        column = ranged[name]
        conditions.append(column.is_not(None))
        if low is not None:
            conditions.append(column >= low)
        if high is not None:
            conditions.append(column <= high)
    return and_(*conditions)


def read_page(conn: Connection, queries: tuple[Any, Any], offset: int, limit: int) -> tuple[list[Row], int]:
    """(the rows of the page at ``offset``, at most ``limit``; how many match in all)."""
    rows_query, count_query = queries
    rows = conn.execute(rows_query.offset(offset).limit(limit)).all()
    return list(rows), int(conn.execute(count_query).scalar() or 0)
