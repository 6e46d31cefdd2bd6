"""The closing verdict's libraries imported while a run's first trials run, not after its last one.

``tunebook run`` ends with the verdict, which reads the store with pandas and
runs the checklist (numpy, scipy.ndimage's rank filter for the curve checks):
about 0.6 s of imports on this project's 2-core machine that used to start
after the last trial ended, and the first settle imports pandas as well.
Started on a daemon thread before the first trial, they load while trials
run (on a core the trials leave free, or in the gaps of a GPU-bound trial);
whoever needs a module first waits for it on Python's import lock, so the
thread changes when the work happens, never what is imported or its result.
A failed import here is ignored: the code that needs the module imports it
again and reports the error there.
"""

from __future__ import annotations

import importlib
import threading

__all__ = ["VERDICT_MODULES", "warm_in_background"]

VERDICT_MODULES = (
    "pandas", "tunebook.analysis.data", "tunebook.execution.settle", "tunebook.analysis.checklist",
    "tunebook.analysis.verdict", "scipy.ndimage",
)


def warm_in_background(modules: tuple[str, ...] = VERDICT_MODULES) -> threading.Thread:
    """Import ``modules`` in order on a daemon thread; the thread, started."""
    thread = threading.Thread(target=_import_all, args=(modules,), name="tunebook-warm-imports", daemon=True)
    thread.start()
    return thread


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the code that needs it imports it again and reports the error there
            return
