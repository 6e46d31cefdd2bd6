"""A big report's trial table in a real headless browser: paged from its JSON, every row reachable, sorting
over all rows (not one page), filtering by state, a search box; and a small table's plain HTML rows are the
very rows the script draws."""

from __future__ import annotations

import math

import pytest

from tests.analysis import synthetic
from tunebook.report import trial_table

from .test_browser import browser  # noqa: F401 - the shared headless Chromium fixture

TRIALS_PER_STUDY = 617  # two studies: 1,234 rows, 13 pages of 100
ODD_REASON = "RuntimeError: <b>not bold</b> & 'quoted' \"twice\""


def _data(per_study: int):
    """Trials of two studies, 1 in 9 infeasible and 1 in 13 failed, one failure with markup in its reason."""
    exp = synthetic.experiment(scientific={"width": [4, 16]}, trials=per_study)
    objective = synthetic.quadratic(0.4, noise=0.05)

    def outcome(params):
        outcome.n += 1
        return "infeasible" if outcome.n % 9 == 0 else "failed" if outcome.n % 13 == 0 else objective(params)

    outcome.n = 0
    data = synthetic.sweep(exp, outcome)
    failed = data.trials.index[data.trials["state"] == "failed"]
    data.trials.loc[failed[0], "reason"] = ODD_REASON
    return data


def _page(tmp_path, data, name: str) -> str:
    """A page holding only the trial table (its style and script as the report has them)."""
    path = tmp_path / f"{name}.html"
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><style>{trial_table.STYLE}</style></head>"
                    f"<body>{trial_table.trials_section(data)}<script>{trial_table.SCRIPT}</script></body></html>",
                    encoding="utf-8")
    return path.as_uri()


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    data = _data(TRIALS_PER_STUDY)
    assert len(data.trials) > trial_table.PLAIN_ROWS
    return data, _page(tmp_path_factory.mktemp("pages"), data, "big")


def _column(page, header: str) -> int:
    return page.locator("table.trials th").all_inner_texts().index(header) + 1


def _every_page(page, cell: str) -> list:
    """``cell`` (JS of a td ``t``) of every row on every page, from the first page, pressing "next" to the end."""
    first = page.locator("button[data-go=first]")
    if not first.is_disabled():
        first.click()
    seen = []
    while True:
        seen += page.locator("table.trials tbody tr").evaluate_all(f"trs => trs.map(tr => {{ {cell} }})")
        following = page.locator("button[data-go=next]")
        if following.is_disabled():
            return seen
        following.click()


def test_a_big_table_draws_one_page_and_every_row_is_reachable(browser, big):  # noqa: F811
    data, url = big
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    assert page.locator("table.trials tbody tr").count() == trial_table.PAGE_SIZE
    assert page.locator(".trial-tools .shown").inner_text() == "rows 1–100 of 1,234, page 1 of 13"
    names = _every_page(page, "return tr.cells[0].textContent;")
    expected = [data.trial_name(t) for t in data.trials["trial_id"]]
    assert names == expected  # all 1,234, once each, in the report's order
    page.locator("select.size").select_option("500")
    assert page.locator("table.trials tbody tr").count() == 500
    page.close()


def test_sorting_orders_all_rows_across_pages_with_no_value_last(browser, big):  # noqa: F811
    data, url = big
    page = browser.new_page()
    page.goto(url)
    column = _column(page, "objective")
    header = page.locator("table.trials th", has_text="objective")
    complete = sorted(data.trials["objective"].dropna().tolist())
    missing = int(data.trials["objective"].isna().sum())
    for clicks, expected in ((1, complete), (2, complete[::-1])):
        header.click()
        assert page.locator(".trial-tools .shown").inner_text().startswith("rows 1–100 of 1,234")  # back to page 1
        values = _every_page(page, f"return tr.cells[{column - 1}].dataset.v;")
        numbers = [float(v) for v in values if v]
        assert numbers == pytest.approx(expected, rel=1e-12)
        assert values[len(numbers):] == [""] * missing  # infeasible and failed trials last, either way
    page.close()


def test_the_state_filter_and_the_search_box_find_rows_on_any_page(browser, big):  # noqa: F811
    data, url = big
    page = browser.new_page()
    page.goto(url)
    failed = int((data.trials["state"] == "failed").sum())
    page.locator("select.state").select_option("failed")
    assert page.locator(".trial-tools .shown").inner_text() == f"rows 1–{failed} of {failed} (filtered from 1,234)"
    assert page.locator("table.trials tbody tr").evaluate_all("trs => trs.every(t => t.className === 'failed')")
    reason = page.locator("table.trials tbody td.rest div").first
    assert reason.get_attribute("title") == ODD_REASON and reason.inner_text() == ODD_REASON  # shown as text
    page.locator("select.state").select_option("")
    query = "width=16/60"  # width=16/60 and width=16/600 .. 609: the last on page 13 unfiltered
    page.locator("input[type=search]").fill(query)
    names = page.locator("table.trials tbody tr td:first-child").all_inner_texts()
    assert names == [n for n in (data.trial_name(t) for t in data.trials["trial_id"]) if query in n]
    assert len(names) == 11
    page.locator("input[type=search]").fill("NOT bold")  # any cell, any case: the reason's text
    assert page.locator("table.trials tbody tr").count() == 1
    page.close()


def test_a_small_table_is_plain_html_and_the_script_draws_the_same_rows(browser, tmp_path):  # noqa: F811
    data = _data(12)
    assert len(data.trials) <= trial_table.PLAIN_ROWS
    section = trial_table.trials_section(data)
    assert section.count("<tr class=") == len(data.trials)  # every row in the HTML itself: Ctrl-F finds it
    page = browser.new_page()
    page.goto(_page(tmp_path, data, "small"))
    cells = """trs => trs.map(tr => [tr.className, ...Array.from(tr.cells).map(td => [td.className,
        td.dataset.v === undefined ? null
          : td.className === 'num' && td.dataset.v ? parseFloat(td.dataset.v) : td.dataset.v,
        td.querySelector('div') ? td.querySelector('div').className + '|' + td.querySelector('div').title : null,
        td.innerText])])"""
    written = page.locator("table.trials tbody tr").evaluate_all(cells)
    assert len(written) == len(data.trials) and page.locator(".trial-tools .shown").inner_text() == "rows 1–24 of 24"
    page.locator("input[type=search]").fill("x")
    page.locator("input[type=search]").fill("")  # the script draws every row again, from the JSON
    drawn = page.locator("table.trials tbody tr").evaluate_all(cells)
    assert drawn == written
    kinds = {(cell[0], cell[2] is not None) for row in written for cell in row[1:]}
    assert {("num", False), ("rest", True), ("", False)} <= kinds  # numbers, cut reasons and plain text compared
    assert not any(isinstance(c[1], float) and math.isnan(c[1]) for row in written for c in row[1:])  # numbers
    page.close()
