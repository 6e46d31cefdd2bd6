"""``tunebook demo`` tells where its store is, and the commands it prints find the experiment as printed."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.execution.harness import TUNEBOOK, clean_env, run_here, store_url, write_program, write_spec
from tunebook.cli.demo import explore_commands

PROGRAM = """
import argparse
p = argparse.ArgumentParser(); p.add_argument("--lr", type=float); p.add_argument("--width", type=int)
a = p.parse_args()
for step in range(1, 6):
    print(f"step {step} valid: {a.lr * a.width + 1.0 / step:.6f}")
"""


def pasted(lines: list[str], cwd: Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    """``lines`` pasted into one bash shell in ``cwd``; the shell stops at the first failing line."""
    env = clean_env(PATH=path or f"{TUNEBOOK.parent}{os.pathsep}{os.environ['PATH']}")
    script = "set -e\n" + "\n".join(lines) + "\n"
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def command_lines(printed: str) -> list[str]:
    """The indented command lines of the demo's "Explore it" block, comments dropped."""
    block = printed[printed.index("Explore it"):].splitlines()[1:]
    return [line.split("   #")[0].strip() for line in block if line.startswith("  ")]


def test_the_printed_explore_commands_find_the_experiment_from_another_folder(tmp_path: Path):
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir(), elsewhere.mkdir()
    write_program(project, "train.py", PROGRAM)
    spec = write_spec(project, {"command": "python train.py --lr {lr} --width {width}", "parallel": 2,
                                "metrics": [r"step (?P<step>\d+) valid: (?P<valid>\S+)"]},
                      scientific={"width": [1, 2]}, objective={"metric": "valid", "mode": "min"}, trials=2)
    url = store_url(project)
    run_here(spec, url, project / "runs")
    lines = command_lines(explore_commands("exp", url))
    assert lines[-4].startswith("export TUNEBOOK_STORE=") and lines[-3:-1] == ["tunebook status", "tunebook trials exp"]
    done = pasted(lines[:-1], cwd=elsewhere)  # the report's own test runs it; here: the store is found
    assert done.returncode == 0, done.stderr
    assert "exp" in done.stdout and "width=1" in done.stdout and "width=2" in done.stdout
    assert "no experiments" not in done.stdout
    assert not (elsewhere / "tunebook.db").exists()  # nothing created where the user happens to be


def test_without_tunebook_on_path_the_demo_says_how_to_get_it():
    lines = command_lines(explore_commands("exp", "sqlite:////tmp/x.db"))
    on_path = [Path(p) / "tunebook" for p in os.environ.get("PATH", "").split(os.pathsep)]
    ours = Path(sys.executable).parent / "tunebook"
    if any(p.exists() and p.resolve() == ours.resolve() for p in on_path):
        assert not lines[0].startswith("source ")
    elif (Path(sys.executable).parent / "activate").exists():
        assert lines[0] == f"source {shlex.quote(str(Path(sys.executable).parent / 'activate'))}"


@pytest.mark.slow
def test_the_demo_ends_with_the_verdict_and_commands_that_work_as_printed(tmp_path: Path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    done = subprocess.run([str(TUNEBOOK), "demo", "--dir", "demo", "--trials", "1"], cwd=tmp_path, env=clean_env(),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out, home = done.stdout, tmp_path / "demo"
    order = [out.index(s) for s in ("Best trial per scientific value", "Checklist", "report: ",
                                    "Where everything is", "Verdict: ", "Next:", "Explore it")]
    assert order == sorted(order) and out.count("Verdict: ") == 1
    assert re.search(r"num_layers=\d/0", out[out.index("Verdict: "):])  # the best trial, by name
    assert "too few trials to tell" in out  # one trial per depth
    url = f"sqlite:///{home / 'tunebook.db'}"
    lines = command_lines(out)
    assert f"export TUNEBOOK_STORE={shlex.quote(url)}" in lines
    assert f"export TUNEBOOK_RUNS={shlex.quote(str(home / 'runs'))}" in lines  # retrain, rerun, ui find the trials
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    explored = pasted(lines, cwd=elsewhere)
    assert explored.returncode == 0, explored.stderr[-3000:]
    assert "digits-depth" in explored.stdout and "num_layers=3" in explored.stdout and "Verdict: " in explored.stdout
    # the verdict's `tunebook run` (running it is tested on a small program in tests/cli/test_report.py) points at
    # the demo's spec, trial folders and store
    verdict_block = out[out.index("Next:"):out.index("Explore it")]
    [run] = [shlex.split(line) for line in verdict_block.splitlines() if line.strip().startswith("tunebook run")]
    assert Path(run[2]).is_file() and run[run.index("--runs") + 1] == str(home / "runs")
    assert run[run.index("--store") + 1] == url and run[run.index("--trials") + 1] == "4"


def test_tunebook_runs_names_the_trial_folders_as_tunebook_store_names_the_store(tmp_path: Path):
    """TUNEBOOK_RUNS sets --runs (of run, retrain, rerun and ui), as the demo's explore lines export it."""
    write_program(tmp_path, "train.py", PROGRAM)
    spec = write_spec(tmp_path, {"command": f"{shlex.quote(sys.executable)} train.py --lr {{lr}} --width 1",
                                 "metrics": [r"step (?P<step>\d+) valid: (?P<valid>\S+)"]},
                      objective={"metric": "valid", "mode": "min"}, trials=1)
    elsewhere = tmp_path / "trial folders"
    env = clean_env(TUNEBOOK_STORE=store_url(tmp_path), TUNEBOOK_RUNS=str(elsewhere))
    done = subprocess.run([str(TUNEBOOK), "run", str(spec)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert list(elsewhere.glob("exp/*/*/stdout.log")) and not (tmp_path / "tunebook-runs").exists()
    lines = command_lines(explore_commands("exp", "sqlite:////tmp/x.db", runs="/tmp/demo runs"))
    assert lines[-5:-3] == ["export TUNEBOOK_STORE=sqlite:////tmp/x.db", "export TUNEBOOK_RUNS='/tmp/demo runs'"]
