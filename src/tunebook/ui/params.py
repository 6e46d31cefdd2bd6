"""Reading a request's query parameters, with errors that name the parameter and the value."""

from __future__ import annotations

from typing import Any

from tunebook.core.errors import TunebookError


class BadRequest(TunebookError):
    """A query parameter is missing or malformed: answered with 400 and this message."""


def required(request: Any, name: str) -> str:
    """The query parameter ``name``; BadRequest when missing or empty."""
    value = request.query_params.get(name, "")
    if not value:
        raise BadRequest(f"missing query parameter {name!r}")
    return value


def integer(request: Any, name: str, default: int, low: int, high: int) -> int:
    """The query parameter ``name`` as an integer in ``[low, high]`` (``default`` when absent)."""
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{name}={text!r} is not a whole number") from None
    if not low <= value <= high:
        raise BadRequest(f"{name}={value} is outside {low}..{high}")
    return value


def number(text: str, name: str) -> float:
    """``text`` as a float; BadRequest naming ``name`` otherwise."""
    try:
        return float(text)
    except ValueError:
        raise BadRequest(f"{name}={text!r} is not a number") from None


def trial_ref(text: str) -> tuple[str, int]:
    """``STUDY/NUMBER`` -> (study, number); BadRequest otherwise."""
    study, _, number_text = text.rpartition("/")
    if not study or not number_text.isdigit():
        raise BadRequest(f"trial={text!r} is not STUDY/NUMBER (e.g. num_layers=2/5)")
    return study, int(number_text)
