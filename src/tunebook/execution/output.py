"""Metrics from a command's printed lines: named-group regexes or JSON objects.

Lines that do not parse are ignored, never fatal. Standard library only: the
launcher runs next to the user's program.
"""

from __future__ import annotations

import json
import math
import re
from typing import Iterable

JSON_LINES = "json"
_STEP_LIMIT = 2**63  # steps are stored as int64


def _number(text: object) -> float | None:
    if isinstance(text, bool):
        return None
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON int beyond float
        return None


class OutputParser:
    """Turns one output line into ``(step, {metric: value})`` or None.

    The step comes from a regex's ``step`` group (or a JSON ``step`` field);
    lines without one take a counter of the metric lines seen so far.
    """

    def __init__(self, patterns: Iterable[str]):
        patterns = list(patterns)
        self._json = JSON_LINES in patterns
        self._regexes = [re.compile(p) for p in patterns if p != JSON_LINES]
        self._counter = 0

    def parse(self, line: str) -> tuple[int, dict[str, float]] | None:
        found = self._from_json(line) if self._json else None
        for regex in self._regexes:
            if found is None:
                found = self._from_regex(regex, line)
        if found is None:
            return None
        step, metrics = found
        if step is None:
            step = self._counter
        self._counter += 1
        return step, metrics

    @staticmethod
    def _from_regex(regex: re.Pattern, line: str) -> tuple[int | None, dict[str, float]] | None:
        match = regex.search(line)
        if match is None:
            return None
        groups = match.groupdict()
        step = _step(groups.pop("step", None))
        metrics = {name: v for name, text in groups.items() if (v := _number(text)) is not None}
        return (step, metrics) if metrics else None

    @staticmethod
    def _from_json(line: str) -> tuple[int | None, dict[str, float]] | None:
        text = line.strip()
        if not (text.startswith("{") and text.endswith("}")):
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        step = _step(data.pop("step", None))
        metrics = {k: v for k, raw in data.items() if isinstance(raw, (int, float)) and (v := _number(raw)) is not None}
        return (step, metrics) if metrics else None


def _step(value: object) -> int | None:
    number = _number(value)
    if number is None or not math.isfinite(number) or not 0 <= number < _STEP_LIMIT:
        return None
    return int(number)
