"""``tunebook report`` on a real experiment run through ``tunebook run``."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.execution.harness import TUNEBOOK, clean_env, run_cli, store_url, write_program, write_spec

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
    done = run_cli("run", "spec.yaml", "--store", store_url(folder), "--runs", "runs", cwd=folder)
    assert done.returncode == 0, done.stderr
    (folder / "run.out").write_text(done.stdout)
    return folder


def test_tunebook_run_ends_with_the_verdict_and_the_report_command(ran: Path):
    out = (ran / "run.out").read_text()
    verdict = out[out.index("Verdict: "):]
    assert re.search(r"width=1/\d", verdict)  # the best trial by name
    assert out.rstrip().endswith(f"tunebook report exp --store {store_url(ran)}")
    runs = [line.split() for line in verdict.splitlines() if line.strip().startswith("tunebook run")]
    assert runs and all(r[2:5] == ["spec.yaml", "--runs", "runs"] for r in runs)  # as typed, with its own --runs


def test_json_names_the_best_per_scientific_value_and_the_findings(ran: Path):
    done = run_cli("report", "exp", "--store", store_url(ran), "--format", "json", cwd=ran)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert list(report)[:2] == ["experiment", "verdict"]  # the verdict opens the report
    best = {b["group"]: b for b in report["best"]}
    assert set(best) == {"width=1", "width=20"}
    assert best["width=1"]["objective"] < best["width=20"]["objective"]
    # trials by the name tunebook trials prints, never by the store's id
    listed = json.loads(run_cli("trials", "exp", "--store", store_url(ran), "--format", "json", cwd=ran).stdout)
    names = {f"{t['study']}/{t['trial']}": t["objective"] for t in listed}
    for row in best.values():
        assert "trial_id" not in row and "number" not in row
        assert names[row["trial"]] == pytest.approx(row["objective"])
    verdict = report["verdict"]
    assert verdict["best"]["group"] == "width=1" and verdict["best"]["trial"] == best["width=1"]["trial"]
    assert verdict["best"]["trial"] in verdict["text"] and verdict["metric"] == "valid"
    ids = {f["id"] for f in report["findings"]}
    assert "fixed_caveats" in ids and "sampled_enough" in ids
    for finding in report["findings"]:
        assert finding["severity"] in ("info", "warning", "problem") and finding["message"] and finding["action"]


def test_the_trials_command_a_verdict_offers_runs_as_printed(ran: Path):
    from tunebook.analysis.next_steps import Where

    done = run_printed(Where("exp", store_url(ran)).command("trials", "exp"), cwd=ran.parent)
    assert done.returncode == 0, done.stderr
    assert "width=1" in done.stdout and "width=20" in done.stdout


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
    assert out.index("Verdict: ") < out.index("Best trial per scientific value") < out.index("Checklist")
    assert "width=20" in out and "fixed_caveats" in out
    assert re.search(r"width=1/\d+", out)  # the best trial by name, in the verdict and the table


def test_the_checklist_reads_at_80_columns(ran: Path):
    """Each finding is a block: its headline whole on one line, its message at nearly the full width."""
    done = subprocess.run([str(TUNEBOOK), "report", "exp", "--store", store_url(ran), "--format", "text"], cwd=ran,
                          env=clean_env(COLUMNS="80"), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout[done.stdout.index("Checklist"):].splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(re.match(r"info +fixed_caveats$", line.strip()) for line in lines)
    prose = [line for line in lines if line.startswith(" " * 9) and len(line.split()) > 3]
    assert prose and sum(len(line.rstrip()) > 60 for line in prose) >= len(prose) / 2  # not a ribbon of 2 words


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
    order = [page.index(h) for h in ("class='verdict", "Isolation result", "Isolation plot: width", "<h2>Checklist",
                                     "Axis plot: lr", "<h2>Trials")]
    assert order == sorted(order)
    assert "sampled_enough" in page and re.search(r"class='sortable\b", page)


CLEAR_PROGRAM = """
import argparse, math
p = argparse.ArgumentParser(); p.add_argument("--lr", type=float); p.add_argument("--width", type=int)
a = p.parse_args()
for step in range(1, 11):
    print(f"step {step} valid: {(math.log10(a.lr) + 1) ** 2 + 0.5 * a.width + 1.0 / step:.6f}")
"""


def run_printed(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A printed command exactly as a user pastes it into a shell, with tunebook on PATH."""
    env = clean_env(PATH=f"{TUNEBOOK.parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_every_command_the_verdict_prints_runs_as_printed(tmp_path: Path):
    """Too few trials: the verdict offers `tunebook run ... --trials 6`; pasted, it runs them; the winner is then
    clear, but with 6 trials a study is too few for the boundary check (8), so the verdict offers 12; pasted, the
    verdict then supports the clear winner and offers `tunebook note`, which records it."""
    write_program(tmp_path, "train.py", CLEAR_PROGRAM)
    write_spec(tmp_path, {"command": "python train.py --lr {lr} --width {width}", "parallel": 2,
                          "metrics": [r"step (?P<step>\d+) valid: (?P<valid>\S+)"]},
               scientific={"width": [1, 20]}, objective={"metric": "valid", "mode": "min"}, trials=3)
    url = store_url(tmp_path)
    done = run_cli("run", "spec.yaml", "--store", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Verdict: width=1 leads; too few trials to tell" in done.stdout  # the end of tunebook run
    assert done.stdout.rstrip().endswith(f"tunebook report exp --store {url}")
    seen = []
    for _ in range(3):
        verdict = json.loads(run_cli("report", "exp", "--store", url, "--format", "json", cwd=tmp_path).stdout)["verdict"]
        seen.append(verdict["case"])
        for step in verdict["next_steps"]:
            if step["command"]:
                ran = run_printed(step["command"], cwd=tmp_path)
                assert ran.returncode == 0, (step["command"], ran.stderr)
                assert "Traceback" not in ran.stderr
    assert seen == ["too_few", "clear", "clear"] and verdict["supported"]
    assert [s["command"].split()[:2] for s in verdict["next_steps"] if s["command"]] == [["tunebook", "note"]]
    status = run_cli("status", "exp", "--store", url, "--format", "json", cwd=tmp_path)
    assert "width=1 is best" in status.stdout


UNSTABLE_PROGRAM = """
import argparse, math
p = argparse.ArgumentParser(); p.add_argument("--learning_rate", type=float)
a = p.parse_args()
for step in range(1, 6):
    v = float("nan") if a.learning_rate > 0.1 else -0.1 * math.log10(a.learning_rate) + 1.0 / step
    print(f"step {step} train_loss: {v} valid: {v}")
"""


@pytest.mark.slow
def test_best_trials_at_the_edge_of_diverging_learning_rates_get_the_instability_plan_as_printed(tmp_path: Path):
    write_program(tmp_path, "train.py", UNSTABLE_PROGRAM)
    write_spec(tmp_path, {"command": "python train.py --learning_rate {learning_rate}", "parallel": 2,
                          "metrics": [r"step (?P<step>\d+) train_loss: (?P<train_loss>\S+) valid: (?P<valid>\S+)"]},
               nuisance={"learning_rate": {"low": 1e-4, "high": 1.0, "scale": "log"}},
               objective={"metric": "valid", "mode": "min"}, trials=20, fixed={"max_train_steps": 5})
    url = store_url(tmp_path)
    assert run_cli("run", "spec.yaml", "--store", url, cwd=tmp_path).returncode == 0
    verdict = json.loads(run_cli("report", "exp", "--store", url, "--format", "json", cwd=tmp_path).stdout)["verdict"]
    assert verdict["case"] == "no_scientific" and not verdict["supported"]
    assert any("infeasible region learning_rate" in c for c in verdict["concerns"])
    [plan] = [s["command"] for s in verdict["next_steps"] if s["command"] and " plan " in s["command"]]
    assert plan == f"tunebook plan instability exp/{verdict['best']['trial']} --store {url}"
    done = run_printed(plan, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "exp-instability.yaml").is_file() and f"lr* = " in done.stdout
