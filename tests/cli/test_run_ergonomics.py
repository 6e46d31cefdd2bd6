"""What ``tunebook run`` tells and does for its user, on real processes and a real SQLite store:
SIGTERM like Ctrl-C, stale trials after kill -9 marked and re-queued with a word,
a --trials below a study's count explained, a run whose trials all failed exits 1,
``run:`` mistakes refused before any trial (and by ``tunebook sample``), and the
lines a run prints in a log as trials end.
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest

from tunebook.core.states import TrialState

from ..execution.harness import (
    LINE_REGEX,
    alive,
    all_trials,
    clean_up_after_failure,
    descendants_of,
    run_cli,
    start_cli,
    store_url,
    trials_by_study,
    wait_for,
    write_program,
    write_spec,
)
from .test_run import SLEEPING_COMMAND, assert_handed_back, count_states, flushing_project, signal_midway

QUICK_COMMAND = """
import json, sys
lr = float(sys.argv[1])
for step in range(3):
    print(json.dumps({"step": step * 10, "valid_loss": lr + 1.0 / (step + 1)}), flush=True)
"""


def test_sigterm_stops_the_run_like_ctrl_c_and_hands_its_trials_back(tmp_path):
    spec = flushing_project(tmp_path, trials=4)
    url = store_url(tmp_path)
    args = ("run", str(spec), "--store", url, "--runs", str(tmp_path / "runs"))
    runner, trial_pids = signal_midway(args, tmp_path, url, complete=0, sig=signal.SIGTERM)
    assert_handed_back(runner, trial_pids, tmp_path / "first.log", handed="[12]")
    states = count_states(url)
    assert TrialState.RUNNING not in states and states.get(TrialState.WAITING, 0) >= 1, states
    for trial in all_trials(url):
        if trial.state is TrialState.WAITING:  # handed back without spending a retry
            assert trial.attempt == 0 and trial.reason == "interrupted; resumes on the next run"


def test_after_kill_9_status_marks_the_stale_trials_and_the_next_run_says_it_requeued_them(tmp_path):
    write_program(tmp_path, "train.py", SLEEPING_COMMAND)
    spec = write_spec(tmp_path, {"command": "python train.py {lr}", "parallel": 2}, trials=2)
    url = store_url(tmp_path)
    runner = start_cli("run", str(spec), "--store", url, cwd=tmp_path, log=tmp_path / "run.log")
    pids: list[int] = []
    try:
        wait_for(lambda: len(list(tmp_path.glob("pid-*"))) == 2, 30, "both training scripts to start")
        pids = descendants_of(runner.pid)
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(timeout=10)
        wait_for(lambda: not any(alive(pid) for pid in pids), 15, "every trial process to end")
    except BaseException:
        clean_up_after_failure(runner, pids)
        raise

    status = run_cli("status", "--store", url, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "2 (2 stale)" in status.stdout
    hint = " ".join(status.stdout.split())  # rich wraps long lines
    assert "2 RUNNING trial(s) whose runner is gone (default/0, default/1;" in hint
    assert f"`tunebook run {spec} --store {url}` re-queues them" in hint
    assert json.loads(run_cli("status", "--store", url, "--format", "json", cwd=tmp_path).stdout)[0]["stale"] == 2

    write_program(tmp_path, "train.py", QUICK_COMMAND)  # the fixed program
    done = run_cli("run", str(spec), "--store", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "note: re-queued 2 trial(s) left RUNNING by a runner on this machine that is gone" in done.stderr
    assert all(t.state is TrialState.COMPLETE for t in all_trials(url))
    assert "stale" not in run_cli("status", "--store", url, cwd=tmp_path).stdout


def test_fewer_trials_than_a_study_has_is_explained_and_keeps_its_budget(tmp_path):
    write_program(tmp_path, "train.py", QUICK_COMMAND)
    spec = write_spec(tmp_path, {"command": "python train.py {lr}", "parallel": 2}, trials=3)
    url = store_url(tmp_path)
    assert run_cli("run", str(spec), "--store", url, cwd=tmp_path).returncode == 0
    done = run_cli("run", str(spec), "--store", url, "--trials", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert ("note: study default already has 3 trials, more than the 2 asked for: its budget stays 3, "
            "nothing new to run (raise --trials or search.trials above 3 to extend it)") in done.stderr
    rows = json.loads(run_cli("status", "--store", url, "--format", "json", cwd=tmp_path).stdout)
    assert rows[0]["trials"] == "3/3"  # not "3/2"


def test_a_run_in_which_every_trial_failed_exits_1_with_a_one_line_reason(tmp_path):
    write_program(tmp_path, "train.py", "import sys\nsys.exit('CUDA out of memory')\n")
    spec = write_spec(tmp_path, {"command": "python train.py {lr}", "parallel": 2, "retries": 0}, trials=2)
    url = store_url(tmp_path)
    done = run_cli("run", str(spec), "--store", url, "--runs", "runs", cwd=tmp_path)
    assert done.returncode == 1
    error = done.stderr.strip().splitlines()[-1]
    assert error == (
        "error: every trial this run ended failed (2); default/0: exit code 1 after 1 attempt(s): "
        f"CUDA out of memory (its output: {tmp_path}/runs/exp/default/0000/stderr.log)"
    )
    assert "Traceback" not in done.stderr
    # as they happened, each failure was printed with its reason
    assert "default/0 failed: exit code 1 after 1 attempt(s): CUDA out of memory" in done.stderr
    assert "default/1 failed: exit code 1 after 1 attempt(s): CUDA out of memory" in done.stderr


def test_a_log_gets_a_line_per_trial_as_it_ends_and_an_estimate_to_finish(tmp_path):
    slow_enough = "import time\ntime.sleep(1.2)  # one end per refresh of the log (every second)\n"
    write_program(tmp_path, "train.py", QUICK_COMMAND + slow_enough + "if lr > 0.3:\n    sys.exit('lr too high')\n")
    search = {"algorithm": "explicit", "points": [{"lr": 0.1}, {"lr": 0.5}, {"lr": 0.2}]}
    spec = write_spec(tmp_path, {"command": "python train.py {lr}", "parallel": 1, "retries": 0}, search=search)
    done = run_cli("run", str(spec), "--store", store_url(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    ended = [line.split("] ", 1)[1] for line in lines if re.match(r"\[[\d.]+ s\] default/", line)]
    assert ended == [
        "default/0 complete: objective 0.4333 at step 20",
        "default/1 failed: exit code 1 after 1 attempt(s): lr too high",
        "default/2 complete: objective 0.5333 at step 20",
    ]
    counts = [re.search(r"\] (\d)/3 trials ended · (.*)$", line) for line in lines]
    counts = [(int(m[1]), m[2]) for m in counts if m]
    assert [n for n, _ in counts] == sorted({n for n, _ in counts}) and counts[-1] == (3, "finishing")
    assert re.fullmatch(r"about [\d.]+ s to go", counts[0][1]), counts


# -- run: mistakes, caught before any trial starts --------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "sample"])
def test_an_unknown_placeholder_is_refused_by_run_and_sample(tmp_path, command):
    write_program(tmp_path, "train.py", "raise SystemExit('must not run')\n")
    spec = write_spec(tmp_path, {"command": "python train.py --lr {lr} --depth {depth}"}, trials=2)
    done = run_cli(command, str(spec), "--store", store_url(tmp_path), cwd=tmp_path) if command == "run" \
        else run_cli(command, str(spec), cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert "run.command: uses {depth}, which is not a hyperparameter of this experiment (it has: lr)" in done.stderr
    assert not (tmp_path / "tunebook-runs").exists()


@pytest.mark.parametrize("command", ["run", "sample"])
def test_an_objective_no_metrics_regex_captures_is_refused_before_any_trial(tmp_path, command):
    write_program(tmp_path, "train.py", "raise SystemExit('must not run')\n")
    run = {"command": "python train.py {lr}", "metrics": [LINE_REGEX]}
    spec = write_spec(tmp_path, run, objective={"metric": "valid_error", "mode": "min"})
    done = run_cli(command, str(spec), cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert ("run.metrics: no regex has a group named for the objective metric 'valid_error' "
            "(they capture: train_loss, valid_loss)") in done.stderr
    assert not (tmp_path / "tunebook-runs").exists() and not (tmp_path / "tunebook.db").exists()


def test_a_metrics_regex_without_a_step_group_is_a_warning_that_says_what_steps_become(tmp_path):
    regex = r"train loss: (?P<train_loss>\S+) valid loss: (?P<valid_loss>\S+)"
    spec = write_spec(tmp_path, {"command": "python train.py {lr}", "metrics": [regex]}, trials=2)
    done = run_cli("sample", str(spec), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == (
        "warning: run.metrics[0]: has no (?P<step>\\d+) group, so steps count the matching lines (0, 1, 2, ...), "
        "not training steps; best steps and curves will use that count. Add a step group if the line prints one"
    )
    with_step = write_spec(tmp_path, {"command": "python train.py {lr}", "metrics": [LINE_REGEX]}, filename="ok.yaml")
    assert run_cli("sample", str(with_step), cwd=tmp_path).stderr == ""


def test_the_printed_trials_folder_is_where_the_trials_are(tmp_path):
    write_program(tmp_path, "train.py", QUICK_COMMAND)
    spec = write_spec(tmp_path, {"command": "python train.py {lr}"}, trials=1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run_cli("run", str(spec), "--store", store_url(tmp_path), "--runs", "out", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    (folder,) = [line.split("trials: ", 1)[1] for line in done.stdout.splitlines() if "trials: " in line]
    assert Path(folder).is_absolute() and (Path(folder) / "default" / "0000" / "stdout.log").exists()
    assert Path(folder) == elsewhere / "out" / "exp"
    assert trials_by_study(store_url(tmp_path))["default"][0].state is TrialState.COMPLETE
