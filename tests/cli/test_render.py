"""Tables that fit the terminal: short headers first, then the least useful columns, then the flex column cut."""

from __future__ import annotations

from rich.console import Console

from tunebook.cli.render import FLEX_MIN, Column, fit, fitted_table

COLUMNS = [
    Column("trial"), Column("learning_rate", short="lr", keep=70), Column("state", keep=95),
    Column("duration", short="time", keep=45), Column("attempt", short="att.", keep=10),
    Column("reason", keep=80, flex=True),
]
ROWS = [
    {"trial": "num_layers=2/0", "learning_rate": 0.0123, "state": "complete", "duration": "4 min 10 s",
     "attempt": 0, "reason": None},
    {"trial": "num_layers=2/1", "learning_rate": 0.9, "state": "infeasible", "duration": "12.3 s", "attempt": 0,
     "reason": "train/loss is 1.2e+30 at step 40, more than 10x its first value 2.3"},
]


def rendered(width: int) -> list[str]:
    console = Console(width=width, record=True)
    console.print(fitted_table(ROWS, COLUMNS, width))
    return console.export_text().splitlines()


def headers(lines: list[str]) -> list[str]:
    return [c.strip() for c in lines[1].split("┃")[1:-1]]


def test_a_wide_terminal_shows_every_column_with_its_full_header_and_text():
    lines = rendered(180)
    assert headers(lines) == ["trial", "learning_rate", "state", "duration", "attempt", "reason"]
    assert "more than 10x its first value 2.3" in "\n".join(lines)


def test_a_narrow_terminal_drops_empty_and_low_value_columns_and_cuts_only_the_reason():
    lines = rendered(80)
    assert max(len(line) for line in lines) <= 80
    assert headers(lines) == ["trial", "lr", "state", "time", "reason"]  # attempt (all 0) went first
    assert all("…" not in h for h in headers(lines))
    body = "\n".join(lines)
    assert "num_layers=2/1" in body and "4 min 10 s" in body and "train/loss is 1.2e+30 a…" in body


def test_the_flex_column_keeps_a_readable_width_before_other_columns_go():
    cells = [[str(r.get(c.key)) for c in COLUMNS] for r in ROWS]
    kept, _, flex_width = fit(COLUMNS, cells, 70)
    assert [COLUMNS[i].key for i in kept] == ["trial", "learning_rate", "state", "reason"]
    assert flex_width is not None and flex_width >= FLEX_MIN
