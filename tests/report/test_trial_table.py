"""The report's trial table and notes, from a real run, in a real headless browser:
it fits the page, names trials STUDY/NUMBER, keeps every row one line high, and
keeps the full reason in a tooltip."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.cli.test_tables import TRAIN
from tests.execution.harness import run_cli, store_url, write_program, write_spec

from .test_browser import browser  # noqa: F401 - the shared headless Chromium fixture

LONG_REASON = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """(path of the HTML report, store URL) of a run with complete, infeasible and failed trials and two notes."""
    folder = tmp_path_factory.mktemp("report_table")
    write_program(folder, "model.py", TRAIN)
    points = [{"lr": lr, "weight_decay": 1e-4, "label_smoothing": 0.1} for lr in (0.1, 0.5, 0.9)]
    spec = write_spec(
        folder, {"function": "model:train", "retries": 0, "parallel": 2}, scientific={"width": [4, 16]},
        nuisance={"lr": {"low": 0.01, "high": 1.0, "scale": "log"}, "weight_decay": {"low": 1e-5, "high": 1e-3},
                  "label_smoothing": {"low": 0.0, "high": 0.2}},
        fixed={"batch_size": 128, "max_train_steps": 30}, notes="width is the question; lr is tuned away",
        search={"algorithm": "explicit", "points": points},
    )
    url = store_url(folder)
    assert run_cli("run", str(spec), "--store", url, cwd=folder).returncode == 0
    assert run_cli("note", "exp", "lr 0.9 runs out of memory", "--store", url, cwd=folder).returncode == 0
    done = run_cli("report", "exp", "--store", url, "--out", str(folder / "reports"), cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "reports" / "exp.html", url


def test_the_trial_table_fits_the_page_with_one_line_rows_and_full_reasons_on_hover(browser, report):  # noqa: F811
    path, _ = report
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.as_uri())
    table = page.locator("table.trials")
    box, page_box = table.bounding_box(), page.locator("body").bounding_box()
    assert box["width"] <= page_box["width"]  # inside the page, no horizontal scroll
    headers = table.locator("thead th").evaluate_all("ths => ths.map(t => t.textContent)")
    assert headers == ["trial", "width", "lr", "weight_decay", "label_smoothing", "state", "objective", "best step",
                       "duration", "reason"]  # scientific, nuisance in the spec's order; no fixed columns
    rows = table.locator("tbody tr")
    heights = rows.evaluate_all("trs => trs.map(t => t.getBoundingClientRect().height)")
    assert len(heights) == 6 and max(heights) == min(heights)  # infeasible and failed rows are not taller
    names = rows.locator("td:first-child").all_inner_texts()
    assert names == [f"width={w}/{n}" for w in (4, 16) for n in range(3)]
    durations = rows.locator("td:nth-child(9)").all_inner_texts()
    assert all(re.fullmatch(r"[\d.]+ s", d) for d in durations), durations
    reason = table.locator("tr.failed td.rest div").first
    assert reason.get_attribute("title").endswith(f"RuntimeError: {LONG_REASON}")  # the full text, on hover
    assert reason.inner_text().startswith("exit code 1 after 1 attempt(s): RuntimeError: CUDA")
    reason_width = reason.bounding_box()["width"]
    assert reason_width >= 160  # readable, not one word wide
    # sorting by duration sorts by seconds, not by text
    table.locator("th", has_text="duration").click()
    seconds = rows.locator("td:nth-child(9)").evaluate_all("tds => tds.map(t => parseFloat(t.dataset.v))")
    assert seconds == sorted(seconds)
    page.close()


def test_the_notes_section_lists_the_spec_notes_then_each_note_with_its_date(browser, report):  # noqa: F811
    path, _ = report
    page = browser.new_page()
    page.goto(path.as_uri())
    items = page.locator("ul.notes li").all_inner_texts()
    assert items[0] == "spec width is the question; lr is tuned away"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC lr 0\.9 runs out of memory", items[1])
    page.close()


NOTE = "loss plateaued between steps 10 and 20 while warmup ended; rerun with a longer warmup and compare"


@pytest.mark.parametrize("width", [1280, 1000])  # at 1000 the old fixed widths ran 95 px past the box
def test_notes_and_long_reasons_fit_the_table_whole_note_on_hover(browser, report, tmp_path, width):  # noqa: F811
    """The notes and reason columns share the width the others leave: no horizontal scroll, rows one line."""
    from tunebook.cli.report import analyse, write_html
    from tunebook.storage import open_store

    _, url = report
    copy = tmp_path / "notes.db"
    shutil.copy(url.removeprefix("sqlite:///"), copy)
    with open_store(f"sqlite:///{copy}") as store:
        record = store.get_experiment("exp")
        for trial in store.list_trials(experiment_id=record.id):
            store.add_note(record.id, f"{NOTE} ({trial.number})", trial_id=trial.id)
    path = write_html(analyse("exp", f"sqlite:///{copy}"), tmp_path / "reports")
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(path.as_uri())
    table = page.locator("table.trials")
    table_width, box_width = table.evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert table_width <= box_width  # fits its box: nothing hidden behind a horizontal scroll
    rows = table.locator("tbody tr")
    heights = rows.evaluate_all("trs => trs.map(t => t.getBoundingClientRect().height)")
    assert len(heights) == 6 and max(heights) == min(heights)
    note = rows.first.locator("td.rest div").first
    assert note.get_attribute("title") == f"{NOTE} (0)"  # the whole note, on hover
    assert note.bounding_box()["width"] >= 80  # a few words, not one letter
    reason = table.locator("tr.failed td.rest div").last
    assert reason.get_attribute("title").endswith(LONG_REASON)
    page.close()
