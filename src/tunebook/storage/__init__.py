"""Where tunebook keeps experiments, trials and curves: SQLite (default) or PostgreSQL::

    store = open_store("runs/tunebook.db")  # or "postgresql://user@host/db"
    experiment = store.ensure_experiment("lr-sweep", spec)

``open_store()`` with no argument opens ``$TUNEBOOK_STORE``, else
``tunebook.db`` in the current directory.
"""

from __future__ import annotations

import importlib
TYPE_CHECKING = False  # typing costs a trial process ~5 ms to import; annotations only need it for checkers
if TYPE_CHECKING:
    from typing import Any, Callable, TypeVar

    from tunebook.storage.base import Store

    T = TypeVar("T")

# Names load on first use, so that the in-training writer can share
# storage/sqlite_setup.py without importing SQLAlchemy.
_EXPORTS = {
    "CurvePoints": "tunebook.storage.base",
    "Store": "tunebook.storage.base",
    "SQLStore": "tunebook.storage.sql",
    "default_store_url": "tunebook.storage.url",
}

__all__ = ["CurvePoints", "SQLStore", "Store", "default_store_url", "open_store", "with_store"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tunebook.storage' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def open_store(url: str | None = None) -> Store:
    """Open (creating or upgrading if needed) the store at ``url``.

    ``url``: a file path, ``sqlite:///path`` or ``postgresql://...``; None
    means ``default_store_url()``. Raises StoreError if it cannot be opened.
    """
    from tunebook.storage.sql import SQLStore

    return SQLStore(url)


def with_store(store: "Store | str | None", action: Callable[["Store"], T]) -> T:
    """``action(store)`` on an open Store: the one given, or one opened (and closed) from a URL or the default."""
    from tunebook.storage.base import Store as StoreType

    if isinstance(store, StoreType):
        return action(store)
    with open_store(store) as opened:
        return action(opened)
