"""Full garbage collections paused while a short-lived command builds a large result.

CPython's cyclic collector walks every tracked object on a full (oldest
generation) collection: the imported libraries' and the result's alike. A
``tunebook report`` of 10,000 trials holds a few hundred thousand (pandas,
scikit-learn, plotly, the trial records, the plots' figures) and met two
full collections on its way, 0.28 s of its ~4 s of CPU (measured with
``gc.callbacks``), to free almost nothing: what it makes lives until the
process ends. Young collections still run (they cost little and free the
cycles that die young), and the previous thresholds come back on exit, so a
long-lived process that calls a command in-process (the tests, ``tunebook
ui``) keeps its usual collector.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

__all__ = ["full_collections_paused"]

_NEVER = 1 << 30  # young collections before a full one: none within a command's lifetime


@contextmanager
def full_collections_paused() -> Iterator[None]:
    """Within the block, no full collection starts (the young generations are collected as usual)."""
    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], _NEVER)
    try:
        yield
    finally:
        gc.set_threshold(*before)
