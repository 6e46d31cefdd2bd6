"""One page of an experiment's trials, sorted, filtered and counted by the database (``Store.page_trials``).

What a table of 50,000 trials shows first must not wait for all 50,000 to be
read: the database sorts, filters, counts and cuts the page (ORDER BY,
WHERE, LIMIT/OFFSET) and only the page's rows cross over. Sortable and
filterable here are the trial's own columns (``SORTABLE``, ``RANGED``);
parameters live in the ``params`` JSON text and are left to the caller.
Missing values (NULL) sort last in either direction; ties go by study, then
trial number, as ``list_trials`` orders them.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from tunebook.storage.schema import studies, trials

# table column -> what the database sorts by ("trial": its study's key, then its number)
SORTABLE: Mapping[str, Any] = {
    "study": studies.c.key, "state": trials.c.state, "objective": trials.c.objective,
    "best_step": trials.c.best_step, "attempt": trials.c.attempt, "reason": trials.c.reason,
}
RANGED = ("objective", "best_step", "attempt")  # numeric columns a ``ranges`` filter may name


def page_query(experiment_id: int, sort: str, descending: bool, states: Sequence[str], study_keys: Sequence[str],
               ranges: Mapping[str, tuple[float | None, float | None]]) -> tuple[Any, Any]:
    """(the ordered SELECT of the matching trials' rows, the SELECT counting them); ValueError naming an
    unknown ``sort`` or range column."""
    where = _conditions(experiment_id, states, study_keys, ranges)
    joined = trials.join(studies, trials.c.study_id == studies.c.id)
    ties = [studies.c.key, trials.c.number] if sort == "trial" else [studies.c.id, trials.c.number]
    order: list[Any] = []
    if sort != "trial":
        if sort not in SORTABLE:
            raise ValueError(f"sort={sort!r}: the store sorts by trial or {', '.join(SORTABLE)}")
        column = SORTABLE[sort]
        order = [column.is_(None), column.desc() if descending else column.asc()]
    else:
        ties = [c.desc() for c in ties] if descending else ties
    rows = select(trials).select_from(joined).where(where).order_by(*order, *ties)
    count = select(func.count()).select_from(joined).where(where)
    return rows, count


def _conditions(experiment_id: int, states: Sequence[str], study_keys: Sequence[str],
                ranges: Mapping[str, tuple[float | None, float | None]]) -> ColumnElement:
    conditions = [studies.c.experiment_id == experiment_id]
    if states:
        conditions.append(trials.c.state.in_(list(states)))
    if study_keys:
        conditions.append(studies.c.key.in_(list(study_keys)))
    for name, (low, high) in ranges.items():
        if name not in RANGED:
            raise ValueError(f"range on {name!r}: the store filters ranges of {', '.join(RANGED)}")
        column = trials.c[name]
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
