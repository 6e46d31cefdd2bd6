"""Repository-wide test settings."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A plain ``pytest`` stays fast: ``slow`` tests run only when ``-m`` selects tests.

    ``make test`` runs ``-m "not slow"`` and then ``-m slow``, so CI runs both.
    """
    if config.option.markexpr:
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow (make test does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
