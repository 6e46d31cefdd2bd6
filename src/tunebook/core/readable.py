"""Values as people read them in tables: numbers to 4 digits, durations with units, reasons in one line.

One format for every table and display (terminal and report), so a trial's
duration or reason reads the same wherever it is shown.
"""

from __future__ import annotations

import math


def format_number(number: float) -> str:
    """4 significant digits (``0.02222``, ``1.235e+07``); a whole number below a million whole (``300``);
    ``nan``, ``inf``, ``-inf`` as Python writes them. The report's trial table and ``tunebook ui`` use it."""
    if math.isfinite(number) and float(number).is_integer() and abs(number) < 1e6:
        return str(int(number))
    return f"{number:.4g}"


def format_duration(seconds: float | None) -> str:
    """``seconds`` with a unit: ``0.42 s``, ``12.3 s``, ``4 min 10 s``, ``2 h 05 min``, ``3 d 4 h``.

    Two significant parts at most; ``-`` for None or a non-finite or negative value.
    """
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "-"
    if seconds < 0.95:
        return f"{seconds:.2g} s"
    if round(seconds, 1) < 60:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


STDERR_MARK = "; stderr ends:"  # how execution.settle joins a failure's cause and its stderr tail


def reason_line(reason: str | None) -> str:
    """A trial's reason in one line: its first line, plus the last line of a quoted stderr tail.

    ``exit code 1 after 2 attempt(s); stderr ends:\n...\nRuntimeError: out of memory``
    reads ``exit code 1 after 2 attempt(s): RuntimeError: out of memory``. '' for None
    (or a frame's NaN).
    """
    if not isinstance(reason, str) or not reason:
        return ""
    lines = [line for line in reason.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    first = lines[0]
    if first.endswith(STDERR_MARK) and len(lines) > 1:
        return f"{first[: -len(STDERR_MARK)]}: {lines[-1].strip()}"
    return first
