"""Where tunebook keeps experiments, trials and curves: SQLite (default) or PostgreSQL::

    store = open_store("runs/tunebook.db")  # or "postgresql://user@host/db"
    experiment = store.ensure_experiment("lr-sweep", spec)

``open_store()`` with no argument opens ``$TUNEBOOK_STORE``, else
``tunebook.db`` in the current directory.
"""

from __future__ import annotations

from tunebook.storage.base import CurvePoints, Store
from tunebook.storage.sql import SQLStore
from tunebook.storage.url import default_store_url

__all__ = ["CurvePoints", "SQLStore", "Store", "default_store_url", "open_store"]


def open_store(url: str | None = None) -> Store:
    """Open (creating or upgrading if needed) the store at ``url``.

    ``url``: a file path, ``sqlite:///path`` or ``postgresql://...``; None
    means ``default_store_url()``. Raises StoreError if it cannot be opened.
    """
    return SQLStore(url)
