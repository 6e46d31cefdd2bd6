"""How a trial's end is recorded: complete, infeasible, retried or failed.

First ``reduce_curve`` and ``settle`` on a real SQLite store with hand-made
exits, then the same outcomes from real trial processes run by a Runner.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from tunebook.core.experiment import Objective
from tunebook.core.objective import latest_per_step, reduce_curve
from tunebook.core.states import TrialState
from tunebook.execution import Exit
from tunebook.execution.settle import TAIL_LINES, settle
from tunebook.storage import SQLStore
from tunebook.tracking.protocol import STDERR_FILE, write_outcome

from .harness import LINE_REGEX, all_trials, alive, run_here, store_url, trial_folder, write_program, write_spec

# -- reduce_curve -------------------------------------------------------------


def test_best_of_a_min_curve_and_where_it_was():
    assert reduce_curve([0, 10, 20, 30], [3.0, 1.0, 2.0, 1.5], "min", "best") == (1.0, 10)


def test_best_of_a_max_curve():
    assert reduce_curve([0, 10, 20, 30], [0.1, 0.9, 0.95, 0.7], "max", "best") == (0.95, 20)


def test_final_takes_the_last_step_whatever_its_value():
    assert reduce_curve([0, 10, 20], [3.0, 1.0, 2.0], "min", "final") == (2.0, 20)
    assert reduce_curve([0, 10, 20], [3.0, 1.0, 2.0], "max", "final") == (2.0, 20)


def test_best_ties_go_to_the_earliest_step():
    assert reduce_curve([5, 1, 3], [1.0, 1.0, 1.0], "min", "best") == (1.0, 1)


def test_the_latest_value_logged_at_a_step_wins():
    # a retry that resumed from a checkpoint logs step 10 again: the new value stands
    steps, values = [0, 10, 20, 10, 20, 30], [3.0, 0.5, 2.0, 1.0, 1.5, 1.2]
    assert latest_per_step(steps, values) == ([0, 10, 20, 30], [3.0, 1.0, 1.5, 1.2])
    assert reduce_curve(steps, values, "min", "best") == (1.0, 10)
    assert reduce_curve([0, 10, 10], [1.0, 2.0, 0.1], "min", "final") == (0.1, 10)


def test_non_finite_values_never_win_and_an_all_nan_curve_has_no_objective():
    assert reduce_curve([0, 1, 2], [math.nan, 2.0, -math.inf], "min", "best") == (2.0, 1)
    assert reduce_curve([0, 1], [math.nan, math.inf], "min", "best") is None
    assert reduce_curve([0, 1], [1.0, math.nan], "min", "final") is None
    assert reduce_curve([], [], "max", "best") is None


# -- settle on hand-made exits -----------------------------------------------------

OBJECTIVE = Objective("valid_loss", "min", "best")


@pytest.fixture
def store(tmp_path: Path):
    with SQLStore(store_url(tmp_path)) as store:
        yield store


@pytest.fixture
def claim(store: SQLStore, tmp_path: Path):
    """Claim the next trial (optionally on a later attempt) and give it a folder."""
    experiment = store.ensure_experiment("settle", {"objective": {"metric": "valid_loss"}})
    study = store.ensure_study(experiment.id, "default", {}, budget=100)

    def make(attempt: int = 0, stderr: str = ""):
        trial = store.claim_trial(study.id, "tests", lambda n: {"lr": 0.1 * (n + 1)})
        for _ in range(attempt):  # crash and re-claim, as a retry does
            store.finish_trial(trial.id, TrialState.WAITING, reason="crash")
            trial = store.claim_trial(study.id, "tests", lambda n: {"lr": 0.1 * (n + 1)})
        folder = tmp_path / "runs" / str(trial.id)
        folder.mkdir(parents=True)
        (folder / STDERR_FILE).write_text(stderr)
        return trial, folder

    return make


def test_a_clean_exit_completes_with_the_best_of_the_stored_curve(store, claim):
    trial, folder = claim()
    store.log_curves(trial.id, {"valid_loss": ([0, 10, 20], [2.0, 0.5, 0.7]), "train_loss": ([0], [9.0])})
    done = settle(store, trial, Exit(0), OBJECTIVE, folder, retries=1)
    assert (done.state, done.objective, done.best_step) == (TrialState.COMPLETE, 0.5, 10)
    assert store.get_trial(trial.id) == done


def test_final_reduce_and_max_mode_are_honoured(store, claim):
    trial, folder = claim()
    store.log_curves(trial.id, {"acc": ([0, 10, 20], [0.5, 0.9, 0.8])})
    done = settle(store, trial, Exit(0), Objective("acc", "max", "final"), folder, retries=1)
    assert (done.objective, done.best_step) == (0.8, 20)


def test_a_clean_exit_without_the_objective_fails_naming_what_was_logged(store, claim):
    trial, folder = claim()
    store.log_curves(trial.id, {"train_loss": ([0], [1.0]), "valid_acc": ([0], [0.5])})
    done = settle(store, trial, Exit(0), OBJECTIVE, folder, retries=3)
    assert done.state is TrialState.FAILED and done.attempt == 0  # not retried: it would log the same
    assert "'valid_loss'" in done.reason and "train_loss, valid_acc" in done.reason


def test_a_clean_exit_with_nothing_logged_says_so(store, claim):
    trial, folder = claim()
    done = settle(store, trial, Exit(0), OBJECTIVE, folder, retries=1)
    assert done.state is TrialState.FAILED and "logged: nothing" in done.reason


def test_a_recorded_infeasible_outcome_wins_over_the_exit_code(store, claim):
    trial, folder = claim()
    write_outcome(folder, "infeasible", "valid_loss is nan at step 3")
    for code in (0, 1):
        done = settle(store, trial, Exit(code), OBJECTIVE, folder, retries=5)
        assert (done.state, done.reason) == (TrialState.INFEASIBLE, "valid_loss is nan at step 3")
        trial, folder = claim()
        write_outcome(folder, "infeasible", "valid_loss is nan at step 3")


def test_a_crash_with_retries_left_goes_back_to_waiting_one_attempt_on(store, claim):
    trial, folder = claim(stderr="Traceback (most recent call last):\nZeroDivisionError: division by zero\n")
    done = settle(store, trial, Exit(1), OBJECTIVE, folder, retries=1)
    assert (done.state, done.attempt, done.worker) == (TrialState.WAITING, 1, None)
    assert done.reason.startswith("exit code 1; retrying") and "ZeroDivisionError" in done.reason


def test_a_crash_out_of_retries_fails_with_the_tail_of_stderr(store, claim):
    noise = "".join(f"line {i}\n\n" for i in range(40))
    trial, folder = claim(attempt=1, stderr=noise + "RuntimeError: CUDA out of memory\n")
    done = settle(store, trial, Exit(1), OBJECTIVE, folder, retries=1)
    assert done.state is TrialState.FAILED
    head, _, tail = done.reason.partition("; stderr ends:\n")
    assert head == "exit code 1 after 2 attempt(s)"
    lines = tail.splitlines()
    assert len(lines) == TAIL_LINES and lines[-1] == "RuntimeError: CUDA out of memory" and "" not in lines


def test_no_retries_fails_at_once(store, claim):
    trial, folder = claim()
    done = settle(store, trial, Exit(2), OBJECTIVE, folder, retries=0)
    assert (done.state, done.reason) == (TrialState.FAILED, "exit code 2 after 1 attempt(s)")


def test_signals_and_lost_processes_are_put_in_words(store, claim):
    trial, folder = claim()
    assert settle(store, trial, Exit(-9), OBJECTIVE, folder, retries=0).reason.startswith("killed by signal 9")
    trial, folder = claim()
    assert settle(store, trial, Exit(None), OBJECTIVE, folder, retries=0).reason.startswith(
        "the trial process was lost"
    )
    trial, folder = claim()
    lost = Exit(None, message="the node went away")
    assert settle(store, trial, lost, OBJECTIVE, folder, retries=0).reason.startswith("the node went away")


def test_a_timeout_is_final(store, claim):
    trial, folder = claim(stderr="still training\n")
    store.log_curves(trial.id, {"valid_loss": ([0], [1.0])})
    done = settle(store, trial, Exit(-15, timed_out=True), OBJECTIVE, folder, retries=3)
    assert done.state is TrialState.FAILED and done.objective is None
    assert done.reason.startswith("timed out (run.timeout)") and "still training" in done.reason


# -- the same outcomes from real trial processes ------------------------------------

CRASH_ONCE = """
import pathlib, sys
marker = pathlib.Path("crashed-once-" + sys.argv[1])
if not marker.exists():
    marker.write_text("")
    sys.exit("first attempt: simulated crash")
print("step 0 train loss: 1.0 valid loss: 0.5")
print("step 1 train loss: 0.5 valid loss: 0.25")
"""

ALWAYS_CRASH = """
import sys
print("step 0 train loss: 1.0 valid loss: 0.5", flush=True)
print("loading data...", file=sys.stderr)
raise RuntimeError("the data loader is broken")
"""


def test_a_command_that_crashes_once_is_retried_and_completes(tmp_path):
    write_program(tmp_path, "train.py", CRASH_ONCE)
    spec = write_spec(tmp_path, {"command": "python train.py {lr}", "metrics": [LINE_REGEX]}, trials=2)
    run_here(spec, store_url(tmp_path), tmp_path / "runs")
    for trial in all_trials(store_url(tmp_path)):
        assert (trial.state, trial.attempt, trial.objective, trial.best_step) == (TrialState.COMPLETE, 1, 0.25, 1)
        log = (trial_folder(tmp_path / "runs", "default", trial.number) / STDERR_FILE).read_text()
        assert "first attempt: simulated crash" in log  # retries append to the same log


@pytest.mark.parametrize("retries", [0, 2])
def test_a_command_that_always_crashes_fails_after_retries_plus_one_attempts(tmp_path, retries):
    write_program(tmp_path, "train.py", ALWAYS_CRASH)
    run = {"command": "python train.py", "metrics": [LINE_REGEX], "retries": retries}
    spec = write_spec(tmp_path, run, trials=1)
    (progress,) = run_here(spec, store_url(tmp_path), tmp_path / "runs")
    (trial,) = all_trials(store_url(tmp_path))
    assert trial.state is TrialState.FAILED and trial.attempt == retries
    assert trial.reason.startswith(f"exit code 1 after {retries + 1} attempt(s); stderr ends:")
    assert trial.reason.endswith("RuntimeError: the data loader is broken")
    assert (progress.failed, progress.complete) == (1, 0)
    stderr = (trial_folder(tmp_path / "runs", "default", 0) / STDERR_FILE).read_text()
    assert stderr.count("RuntimeError: the data loader is broken") == retries + 1


RESUMING_FUNCTION = """
import pathlib

def train(params, trial):
    start = 0
    if trial.resume_from:
        start = int(pathlib.Path(trial.resume_from).read_text()) + 1
        pathlib.Path(trial.dir, "resumed-from").write_text(f"{trial.resume_from} {trial.resume_step}")
    for step in range(start, 6):
        trial.log(step, {"valid_loss": 1.0 / (step + 1)})
        with trial.checkpoint(step) as path:
            pathlib.Path(path).write_text(str(step))
        if step == 3 and trial.resume_from is None:
            raise RuntimeError("preempted")
"""


def test_a_retried_function_trial_resumes_from_its_latest_checkpoint(tmp_path):
    write_program(tmp_path, "train_fn.py", RESUMING_FUNCTION)
    spec = write_spec(tmp_path, {"function": "train_fn:train", "checkpoints_kept": 1}, trials=1)
    run_here(spec, store_url(tmp_path), tmp_path / "runs")
    (trial,) = all_trials(store_url(tmp_path))
    assert (trial.state, trial.attempt, trial.objective, trial.best_step) == (TrialState.COMPLETE, 1, 1 / 6, 5)
    folder = trial_folder(tmp_path / "runs", "default", 0)
    path, step = (folder / "resumed-from").read_text().split()
    assert (Path(path), step) == (folder / "checkpoints" / "step-3", "3")
    with SQLStore(store_url(tmp_path)) as store:
        assert [c.step for c in store.list_checkpoints(trial.id)] == [5]  # the best is also the latest
        frame = store.load_curves(trial_ids=[trial.id])
    assert sorted(frame["step"]) == [0, 1, 2, 3, 4, 5]  # nothing logged twice: it resumed after step 3


NAN_LINES = """
import time
for step in range(3):
    loss = "nan" if step == 2 else str(1.0 / (step + 1))
    print(f"step {step} train loss: {loss} valid loss: {loss}", flush=True)
time.sleep(30)
print("kept going after the nan", flush=True)
"""

NAN_FUNCTION = """
def train(params, trial):
    if params["lr"] > 0.1:
        trial.log(0, {"valid_loss": 1.0})
        trial.log(1, {"train_loss": float("nan")})
        raise AssertionError("trial.log should have ended the trial")
    trial.log(0, {"valid_loss": params["lr"]})
"""


def test_a_nan_printed_by_a_command_is_infeasible_not_retried(tmp_path):
    write_program(tmp_path, "train.py", NAN_LINES)
    spec = write_spec(tmp_path, {"command": "python train.py", "metrics": [LINE_REGEX], "retries": 3}, trials=2)
    started = time.monotonic()
    (progress,) = run_here(spec, store_url(tmp_path), tmp_path / "runs")
    assert time.monotonic() - started < 10  # the command was stopped at the nan, not left to sleep
    trials = all_trials(store_url(tmp_path))
    assert [(t.state, t.attempt) for t in trials] == [(TrialState.INFEASIBLE, 0)] * 2  # both ran: it went on
    for trial in trials:
        assert "nan" in trial.reason and "at step 2" in trial.reason
        assert trial.reason.split()[0] in ("train_loss", "valid_loss")
    assert progress.infeasible == 2
    stdout = (trial_folder(tmp_path / "runs", "default", 0) / "stdout.log").read_text()
    assert "step 2" in stdout and "kept going" not in stdout  # the command was stopped there


def test_a_nan_logged_by_a_function_is_infeasible_and_the_runner_continues(tmp_path):
    write_program(tmp_path, "train_fn.py", NAN_FUNCTION)
    spec = write_spec(tmp_path, {"function": "train_fn:train", "retries": 3}, trials=6)
    (progress,) = run_here(spec, store_url(tmp_path), tmp_path / "runs")
    trials = all_trials(store_url(tmp_path))
    assert len(trials) == 6
    for trial in trials:
        if trial.params["lr"] > 0.1:
            assert (trial.state, trial.attempt) == (TrialState.INFEASIBLE, 0)
            assert trial.reason == "train_loss is nan at step 1"
        else:
            assert trial.state is TrialState.COMPLETE and trial.objective == trial.params["lr"]
    assert progress.infeasible + progress.complete == 6 and progress.infeasible > 0 and progress.complete > 0


SLEEPER = """
import os, pathlib, time
pathlib.Path("sleeper.pid").write_text(str(os.getpid()))
print("started", flush=True)
time.sleep(30)
"""


def test_a_trial_past_its_timeout_fails_quickly_and_its_process_is_gone(tmp_path):
    write_program(tmp_path, "train.py", SLEEPER)
    spec = write_spec(tmp_path, {"command": "python train.py", "timeout": 1, "retries": 2}, trials=1)
    started = time.monotonic()
    run_here(spec, store_url(tmp_path), tmp_path / "runs")
    assert time.monotonic() - started < 10
    (trial,) = all_trials(store_url(tmp_path))
    assert trial.state is TrialState.FAILED and trial.attempt == 0  # a timeout is not retried
    assert trial.reason.startswith("timed out (run.timeout)")
    assert not alive(int((tmp_path / "sleeper.pid").read_text()))


NO_OBJECTIVE = """
print("step 0 train loss: 1.0 valid loss: ?", flush=True)
print("step 1 train loss: 0.5 valid loss: ?", flush=True)
"""


def test_a_trial_that_never_logs_its_objective_fails_saying_what_it_logged(tmp_path):
    write_program(tmp_path, "train.py", NO_OBJECTIVE)
    spec = write_spec(tmp_path, {"command": "python train.py", "metrics": [LINE_REGEX]}, trials=1)
    run_here(spec, store_url(tmp_path), tmp_path / "runs")
    (trial,) = all_trials(store_url(tmp_path))
    assert trial.state is TrialState.FAILED and trial.attempt == 0
    assert trial.reason == (
        "the objective metric 'valid_loss' was never logged with a finite value (logged: train_loss)"
    )
