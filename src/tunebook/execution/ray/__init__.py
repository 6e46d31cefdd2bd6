"""Trials on a Ray cluster (``run.executor: ray``); needs the ``ray`` extra, imported on first use."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "RayExecutor":
        from tunebook.execution.ray.executor import RayExecutor

        return RayExecutor
    raise AttributeError(f"module 'tunebook.execution.ray' has no attribute {name!r}")
