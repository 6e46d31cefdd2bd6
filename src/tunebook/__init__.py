"""tunebook: tune deep learning models the way the Deep Learning Tuning Playbook describes.

The top level imports lazily so that ``import tunebook`` stays cheap inside
training programs; each name is loaded from its subpackage on first use.
"""

from __future__ import annotations

import importlib
TYPE_CHECKING = False  # typing costs a trial process ~5 ms to import; annotations only need it for checkers
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Experiment": "tunebook.core",
    "Objective": "tunebook.core",
    "SearchConfig": "tunebook.core",
    "Range": "tunebook.core",
    "Choice": "tunebook.core",
    "Fixed": "tunebook.core",
    "TrialState": "tunebook.core",
    "TunebookError": "tunebook.core",
    "SpecError": "tunebook.core",
    "StoreError": "tunebook.core",
    "sample": "tunebook.search",
    "make_sampler": "tunebook.search",
    "open_store": "tunebook.storage",
    "trial": "tunebook.tracking",
    "Diverged": "tunebook.tracking",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tunebook' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
