"""What every route answers with: JSON that survives NaN and inf, and pages from autoescaped templates.

JSON has no NaN or infinity; curves and objectives hold them (a diverged
trial). ``plain_json`` writes them as the strings ``"NaN"``, ``"Infinity"``
and ``"-Infinity"``, which the page's script (``static/common.js``
``num``) turns back into numbers. Text reaches a page only through Jinja2
templates with autoescaping on, or as data that the scripts set with
``textContent``: never as HTML.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.autoescape = True  # every {{ value }} escaped, also in templates not named .html
NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def plain(value: Any) -> Any:
    """``value`` as JSON-able data: non-finite floats as strings, numpy scalars as Python, datetimes ISO."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else NON_FINITE[repr(value)]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if value != value:  # pandas NA / NaT
        return None
    return str(value)


def script_json(data: Any) -> Any:
    """``data`` as JSON safe inside ``<script type="application/json">``: ``<``, ``>``, ``&``, ``'`` escaped as
    ``\\u00XX`` (so no ``</script>`` can close the element), for ``JSON.parse`` in the page."""
    from markupsafe import Markup

    text = json.dumps(plain(data), allow_nan=False, separators=(",", ":"))
    for char in "<>&'":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return Markup(text)


def number_text(value: Any) -> str:
    """A number as the report's tables write it (``core.readable.format_number``: 4 significant digits,
    whole numbers whole); anything else (text, a bool, None) as ``str``."""
    from tunebook.core.readable import format_number

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    return format_number(float(value))


TEMPLATES.env.filters["plainjson"] = script_json
TEMPLATES.env.filters["number"] = number_text


def plain_json(data: Any, status: int = 200) -> Response:
    """``data`` as ``application/json`` (non-finite floats as strings, never invalid JSON)."""
    body = json.dumps(plain(data), allow_nan=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


def page(request: Any, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from ``templates/``; ``context`` values are escaped by the template, never trusted as HTML."""
    ui = request.app.state.ui
    context.update(allow_write=ui.allow_write, csrf_token=ui.csrf_token, store_url=ui.store_label,
                   plotly_src=ui.plotly_url)
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)


def error(request: Any, status: int, message: str) -> Response:
    """An error as JSON for ``/api/`` paths, else as a page; ``message`` shown as text."""
    if request.url.path.startswith("/api/"):
        return plain_json({"error": message}, status)
    return page(request, "error.html", status=status, title=f"{status}", message=message)
