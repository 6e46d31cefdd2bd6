"""One guard for optional dependencies: the error names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from tunebook.core.errors import MissingExtraError


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise MissingExtraError naming ``pip install tunebook[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{purpose} needs the '{module}' package: pip install 'tunebook[{extra}]'"
        ) from exc
