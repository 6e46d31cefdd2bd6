"""Results computed once per ExperimentData object, kept while it lives.

Many checks and plots ask the same question of the same data (its rankings,
its groups by scientific value, which studies share nuisance points); at
10,000 trials asking each time costs more than the checks themselves.
``cached(data, key, make)`` runs ``make()`` the first time a data object is
asked for ``key`` and keeps the answer, dropped with the object. Treat a
data object as a value: do not mutate its frames after analysing it, and
do not mutate what ``cached`` returns (hand out copies where callers might).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Callable, Hashable

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

__all__ = ["cached"]

_MEMOS: dict[int, tuple[weakref.ref, dict]] = {}


def cached(data: "ExperimentData", key: Hashable, make: Callable[[], Any]) -> Any:
    """``make()``, computed once per (data object, ``key``) while the data object lives."""
    entry = _MEMOS.get(id(data))
    if entry is None or entry[0]() is not data:
        entry = (weakref.ref(data), {})
        _MEMOS[id(data)] = entry
        weakref.finalize(data, _MEMOS.pop, id(data), None)
    memo = entry[1]
    if key not in memo:
        memo[key] = make()
    return memo[key]
