"""The fault suite's figures: every fault test adds what it injected and what it checked
to ``FIGURES``, and the session ends with a table of them (quoted in the README).

Rows are fault kinds; columns: faults injected, acknowledged points checked,
points lost, trials left RUNNING, studies at exactly their budget / studies,
error messages checked.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import pytest


@dataclasses.dataclass
class FaultFigures:
    faults: int = 0
    acked_points: int = 0
    lost_points: int = 0
    left_running: int = 0
    studies_at_budget: int = 0
    studies: int = 0
    messages: int = 0


FIGURES: dict[str, FaultFigures] = {}


@pytest.fixture
def figures() -> Callable[[str], FaultFigures]:
    """``figures(kind)``: the FaultFigures row of fault kind ``kind``, to add to."""

    def row(kind: str) -> FaultFigures:
        return FIGURES.setdefault(kind, FaultFigures())

    return row


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    if not FIGURES:
        return
    write = terminalreporter.write_line
    terminalreporter.section("fault injection figures")
    head = f"{'fault':<34} {'injected':>8} {'acked pts':>10} {'lost':>5} {'RUNNING':>8} {'at budget':>10} {'messages':>9}"
    write(head)
    total = FaultFigures()
    for kind, row in FIGURES.items():
        write(_line(kind, row))
        for field in dataclasses.fields(FaultFigures):
            setattr(total, field.name, getattr(total, field.name) + getattr(row, field.name))
    write(_line("all", total))


def _line(kind: str, row: FaultFigures) -> str:
    budget = f"{row.studies_at_budget}/{row.studies}"
    return (f"{kind:<34} {row.faults:>8} {row.acked_points:>10} {row.lost_points:>5} {row.left_running:>8} "
            f"{budget:>10} {row.messages:>9}")
