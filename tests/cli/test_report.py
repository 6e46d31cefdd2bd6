"""``tunebook report`` on a real experiment run through ``tunebook run``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.execution.harness import run_cli, store_url, write_program, write_spec

PROGRAM = """
import argparse, math
p = argparse.ArgumentParser(); p.add_argument("--lr", type=float); p.add_argument("--width", type=int)
a = p.parse_args()
for step in range(1, 31):
    valid = (math.log10(a.lr) + 2) ** 2 + 1.0 / step + 0.01 * a.width
    print(f"step {step} valid: {valid:.6f} final_only: {valid + (0.5 if step == 30 else 1.0):.6f}")
"""


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    write_program(folder, "train.py", PROGRAM)
    write_spec(
        folder,
        {"command": "python train.py --lr {lr} --width {width}", "parallel": 2,
         "metrics": [r"step (?P<step>\d+) valid: (?P<valid>\S+) final_only: (?P<final_only>\S+)"]},
        scientific={"width": [1, 20]}, objective={"metric": "valid", "mode": "min"}, trials=6,
    )
    done = run_cli("run", "spec.yaml", "--store", store_url(folder), cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder


def test_json_names_the_best_per_scientific_value_and_the_findings(ran: Path):
    done = run_cli("report", "exp", "--store", store_url(ran), "--format", "json", cwd=ran)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    best = {b["group"]: b for b in report["best"]}
    assert set(best) == {"width=1", "width=20"}
    assert best["width=1"]["objective"] < best["width=20"]["objective"]
    ids = {f["id"] for f in report["findings"]}
    assert "fixed_caveats" in ids and "sampled_enough" in ids
    for finding in report["findings"]:
        assert finding["severity"] in ("info", "warning", "problem") and finding["message"] and finding["action"]


def test_objective_changes_after_the_fact_without_rerunning(ran: Path):
    done = run_cli("report", "exp", "--store", store_url(ran), "--format", "json",
                   "--objective", "final_only:min", "--reduce", "final", cwd=ran)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["objective"] == {"metric": "final_only", "mode": "min", "reduce": "final"}
    assert all(b["best_step"] == 30 for b in report["best"])


def test_text_report_puts_the_isolation_result_before_the_checklist(ran: Path):
    done = run_cli("report", "exp", "--store", store_url(ran), cwd=ran)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.index("Best trial per scientific value") < out.index("Checklist")
    assert "width=20" in out and "fixed_caveats" in out


def test_a_mistyped_metric_is_named_with_the_metrics_logged(ran: Path):
    done = run_cli("report", "exp", "--store", store_url(ran), "--objective", "vaild", cwd=ran)
    assert done.returncode == 1
    assert "vaild" in done.stderr and "valid" in done.stderr and "Traceback" not in done.stderr


def test_html_report_is_one_self_contained_file(ran: Path, tmp_path: Path):
    done = run_cli("report", "exp", "--store", store_url(ran), "--out", str(tmp_path), cwd=ran)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "exp.html").read_text()
    assert str(tmp_path / "exp.html") in done.stdout and "Checklist" in done.stdout
    # plotly is inlined; no script is fetched from anywhere (a CDN or otherwise)
    assert page.count("<script") >= 2 and re.search(r"<script[^>]*\ssrc=", page) is None
    order = [page.index(h) for h in ("Isolation result", "Isolation plot: width", "<h2>Checklist", "Axis plot: lr", "<h2>Trials")]
    assert order == sorted(order)
    assert "sampled_enough" in page and "class='sortable trials'" in page
