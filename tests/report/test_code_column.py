"""The report names the code its trials ran on: a line under the goal, a code column only when versions differ,
each best row's and trial's version in the JSON; from real runs in a git repository, in a real browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_tables import TRAIN
from tests.execution.harness import run_cli, write_program, write_spec
from tests.execution.test_code_version import sh

from .test_browser import browser  # noqa: F401 - the shared headless Chromium fixture


def _project(folder: Path) -> tuple[Path, Path]:
    """(repository, spec) of a committed project whose trials complete (lr 0.1), diverge (0.5) and fail (0.9)."""
    repo = folder / "project"
    repo.mkdir()
    write_program(repo, "model.py", TRAIN)
    points = [{"lr": lr} for lr in (0.1, 0.5, 0.9)]
    spec = write_spec(repo, {"function": "model:train", "retries": 0, "parallel": 2}, scientific={"width": [4, 16]},
                      search={"algorithm": "explicit", "points": points})
    sh(repo, "init", "-q", "-b", "main")
    sh(repo, "add", "-A")
    sh(repo, "commit", "-q", "-m", "first")
    return repo, spec


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory) -> tuple[Path, str, list[str]]:
    """(folder, store URL, commits): lr 0.1 and 0.5 ran on a dirty tree, lr 0.9 after committing the change."""
    folder = tmp_path_factory.mktemp("report_code")
    repo, spec = _project(folder)
    url = f"sqlite:///{folder / 'store.db'}"
    (repo / "model.py").write_text((repo / "model.py").read_text() + "\n# tuned the schedule\n")
    assert run_cli("run", str(spec), "--store", url, "--trials", "2", cwd=repo).returncode == 0
    first = sh(repo, "rev-parse", "HEAD")
    sh(repo, "commit", "-q", "-am", "schedule")
    done = run_cli("run", str(spec), "--store", url, cwd=repo)  # exits 1: both of its trials fail (lr 0.9)
    assert "every trial this run ended failed (2)" in done.stderr, done.stderr
    return folder, url, [first, sh(repo, "rev-parse", "HEAD")]


def _report(folder: Path, url: str, *args: str) -> str:
    done = run_cli("report", "exp", "--store", url, *args, cwd=folder)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_report_json_names_each_trials_code_version(two_versions) -> None:
    folder, url, (first, second) = two_versions
    report = json.loads(_report(folder, url, "--format", "json"))
    versions = report["code_versions"]
    assert [(v["commit"], v["dirty"], v["exact"]) for v in versions] == [(first, True, True), (second, False, True)]
    assert versions[0]["trials"] == ["width=4/0", "width=4/1", "width=16/0", "width=16/1"]
    assert versions[1]["trials"] == ["width=4/2", "width=16/2"] and versions[1]["diff_bytes"] == 0
    assert all(row["code"]["commit"] == first and row["code"]["dirty"] for row in report["best"])  # lr 0.1 won
    text = _report(folder, url, "--format", "text").splitlines()
    assert f"code: 2 versions: {first[:7]} dirty (4 trials), {second[:7]} (2 trials)" in text


def test_html_report_shows_a_code_column_only_when_versions_differ(browser, two_versions, tmp_path) -> None:  # noqa: F811
    folder, url, (first, second) = two_versions
    _report(folder, url, "--out", str(tmp_path / "two"))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto((tmp_path / "two" / "exp.html").as_uri())
    assert page.locator("p:has-text('Code:')").inner_text() == (
        f"Code: 2 versions: {first[:7]} dirty (4 trials), {second[:7]} (2 trials)")
    table = page.locator("table.trials")
    headers = table.locator("thead th").evaluate_all("ths => ths.map(t => t.textContent)")
    assert headers[-2:] == ["code", "reason"]
    cells = table.locator("tbody tr td:nth-last-child(2)").all_inner_texts()
    assert cells == [f"{first[:7]} dirty", f"{first[:7]} dirty", second[:7]] * 2
    heights = table.locator("tbody tr").evaluate_all("trs => trs.map(t => t.getBoundingClientRect().height)")
    assert max(heights) == min(heights)  # infeasible and failed rows with a code cell stay one line
    assert table.bounding_box()["width"] <= page.locator("body").bounding_box()["width"]
    page.screenshot(path="/tmp/codever_report_two_versions.png", full_page=True)
    page.close()


def test_one_version_is_a_line_not_a_column(browser, tmp_path) -> None:  # noqa: F811
    repo, spec = _project(tmp_path)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert "6 trial(s) finished (2 failed)" in run_cli("run", str(spec), "--store", url, cwd=repo).stdout
    _report(tmp_path, url, "--out", str(tmp_path / "one"))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto((tmp_path / "one" / "exp.html").as_uri())
    commit = sh(repo, "rev-parse", "HEAD")
    assert page.locator("p:has-text('Code:')").inner_text() == f"Code: commit {commit[:7]} (main), clean"
    headers = page.locator("table.trials thead th").evaluate_all("ths => ths.map(t => t.textContent)")
    assert "code" not in headers
    page.close()
