"""Run trials: the runner loop and its executors (local processes; Ray later).

Names load on first use: the trial launcher (``tunebook.execution.launch``)
lives in this package and must start without SQLAlchemy or pandas.
"""

from __future__ import annotations

import importlib
TYPE_CHECKING = False  # typing costs a trial process ~5 ms to import; annotations only need it for checkers
if TYPE_CHECKING:
    from typing import Any

_EXPORTS = {
    "Executor": "tunebook.execution.base",
    "Exit": "tunebook.execution.base",
    "Launch": "tunebook.execution.base",
    "LocalExecutor": "tunebook.execution.local",
    "PlannedStudy": "tunebook.execution.runner",
    "StudyProgress": "tunebook.execution.progress",
    "Interrupted": "tunebook.execution.runner",
    "Runner": "tunebook.execution.runner",
    "Timing": "tunebook.execution.runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tunebook.execution' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
