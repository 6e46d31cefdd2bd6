"""``tunebook ui``: the tracking spreadsheet, experiments and trials as a local web app.

Pages (``app.py`` routes them): Experiments (the playbook's tracking
spreadsheet), Experiment (verdict, isolation, checklist, plots, every trial
sorted, filtered and paged on the server), Trial (params, curves, logs, code,
notes) and Live (what changed since the last poll). Everything is read through
``tunebook.analysis`` and ``tunebook.plots``, as ``tunebook report`` does; the
store is only written (notes) with ``--allow-write``. Needs the ``ui`` extra
(starlette, uvicorn, jinja2, plotly, python-multipart).
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def create_app(*args: Any, **kwargs: Any) -> Any:
    """The Starlette application (``app.create_app``); MissingExtraError naming the ``ui`` extra without it."""
    import importlib.util

    from tunebook.core.imports import require

    for module in ("starlette", "jinja2", "plotly"):
        require(module, "ui", "tunebook ui")
    if not (importlib.util.find_spec("python_multipart") or importlib.util.find_spec("multipart")):
        require("python_multipart", "ui", "tunebook ui (its note form)")
    from tunebook.ui.app import create_app as create

    return create(*args, **kwargs)
