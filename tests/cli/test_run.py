"""``tunebook run`` as a user runs it: the console script in a subprocess, a real SQLite store.

Includes what a user does to a run: run it again with a bigger budget,
change the spec, press Ctrl-C, or lose the runner to kill -9.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
from array import array
from pathlib import Path

import pytest

from tunebook.core.states import TrialState
from tunebook.storage import SQLStore

from ..execution.harness import (
    LINE_REGEX,
    alive,
    all_trials,
    clean_up_after_failure,
    curves_of,
    descendants_of,
    idle_spare,
    run_cli,
    start_cli,
    store_url,
    trial_folder,
    trials_by_study,
    wait_for,
    write_program,
    write_spec,
)

# An unmodified training script: argparse in, printed lines out, tunebook nowhere.
ARGPARSE_SCRIPT = """
import argparse, json, os, pathlib, sys

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--width", type=int, required=True)
args = parser.parse_args()
scale = float(pathlib.Path("data/scale.txt").read_text())  # relative to the spec's folder
print(json.dumps({"argv": sys.argv[1:], "env": os.environ.get("TUNEBOOK_PARAMS")}), file=sys.stderr)
print(f"Epoch 1/1, {args.width} units {{not json}}")
loss = 2.0
for step in range(0, 60, 10):
    loss = loss * (1 - args.lr) + 0.01 * args.width
    valid = loss * scale + abs(step - 30) * 0.002
    print(f"step {step} train loss: {loss!r} valid loss: {valid!r}")
    print(f"step {step} lr: {args.lr} (no loss here)")
print("Training finished.")
"""

PRINTED = re.compile(LINE_REGEX)


def argparse_project(folder: Path, **spec_fields) -> Path:
    """The script, its data file and a spec running it, in ``folder``; the spec's path."""
    folder.mkdir(parents=True, exist_ok=True)
    write_program(folder, "train.py", ARGPARSE_SCRIPT)
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "scale.txt").write_text("1.5")
    run = {"command": "python train.py --lr {lr} --width {width}", "metrics": [LINE_REGEX], "parallel": 2}
    fields = {"trials": 3, "scientific": {"width": [4, 16]}, **spec_fields}
    return write_spec(folder, run, **fields)


def printed_curves(stdout: str) -> dict[str, list[tuple[int, float]]]:
    """What the script printed, parsed here independently of tunebook."""
    curves: dict[str, list[tuple[int, float]]] = {"train_loss": [], "valid_loss": []}
    for match in PRINTED.finditer(stdout):
        for metric in curves:
            curves[metric].append((int(match["step"]), float(match[metric])))
    return curves


def test_an_unmodified_argparse_script_runs_every_trial_to_completion(tmp_path):
    spec = argparse_project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"  # run from another folder: the command still runs next to the spec
    elsewhere.mkdir()
    db = tmp_path / "results.db"
    done = run_cli("run", str(spec), "--store", str(db), "--runs", str(tmp_path / "runs"), cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert "exp: 6 trial(s) finished (0 failed)." in done.stdout
    assert f"tunebook trials exp --store sqlite:///{db}" in done.stdout

    url = f"sqlite:///{db}"
    by_study = trials_by_study(url)
    assert sorted(by_study) == ["width=16", "width=4"]
    curves = curves_of(url)
    for key, trials in by_study.items():
        assert [t.number for t in trials] == [0, 1, 2]
        for trial in trials:
            assert trial.state is TrialState.COMPLETE, trial.reason
            folder = trial_folder(tmp_path / "runs", key, trial.number)
            assert json.loads((folder / "params.json").read_text()) == trial.plain_params
            stdout = (folder / "stdout.log").read_text()
            assert "Epoch 1/1" in stdout and "Training finished." in stdout  # the whole output is kept
            printed = printed_curves(stdout)
            assert len(printed["valid_loss"]) == 6
            # the store holds exactly what was printed; the other lines were ignored
            assert {m for (i, m) in curves if i == trial.id} == {"train_loss", "valid_loss"}
            for metric, points in printed.items():
                assert curves[(trial.id, metric)] == points
            value, step = min((v, s) for s, v in printed["valid_loss"])
            assert (trial.objective, trial.best_step) == (value, step)
            # params arrive both as the command's arguments and in TUNEBOOK_PARAMS
            seen = json.loads((folder / "stderr.log").read_text().splitlines()[0])
            params = trial.plain_params
            assert seen["argv"] == ["--lr", str(params["lr"]), "--width", str(params["width"])]
            assert json.loads(seen["env"]) == params and params["width"] == int(key.split("=")[1])
    assert not (elsewhere / "tunebook-runs").exists() and not (elsewhere / "tunebook.db").exists()


DETERMINISTIC = """
import json, sys, time
lr, width = float(sys.argv[1]), int(sys.argv[2])
for step in range(3):
    time.sleep(0.05)
    print(json.dumps({"step": step, "valid_loss": (lr - 0.1) ** 2 + width / (step + 1)}))
"""


@pytest.mark.slow
def test_parallel_four_runs_the_same_trials_as_parallel_one(tmp_path):
    write_program(tmp_path, "train.py", DETERMINISTIC)
    spec = write_spec(tmp_path, {"command": "python train.py {lr} {width}"}, trials=5, scientific={"width": [1, 2]})
    results = {}
    for parallel in ("1", "4"):
        db = tmp_path / f"p{parallel}.db"
        done = run_cli("run", str(spec), "--store", str(db), "--parallel", parallel,
                       "--runs", str(tmp_path / f"runs{parallel}"), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        results[parallel] = {
            (key, t.number): (dict(t.params), t.state, t.objective, t.best_step)
            for key, trials in trials_by_study(f"sqlite:///{db}").items()
            for t in trials
        }
    assert len(results["1"]) == 10 and results["1"] == results["4"]
    assert all(state is TrialState.COMPLETE for _, state, _, _ in results["1"].values())


def test_a_bigger_budget_resumes_and_continues_the_numbering(tmp_path):
    spec = argparse_project(tmp_path / "project", trials=2, scientific={"width": [4]})
    url = store_url(tmp_path)
    assert run_cli("run", str(spec), "--store", url, cwd=tmp_path).returncode == 0
    first = {t.number: t for t in all_trials(url)}
    done = run_cli("run", str(spec), "--store", url, "--trials", "4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "exp: 4 trial(s) finished" in done.stdout
    after = {t.number: t for t in all_trials(url)}
    assert sorted(after) == [0, 1, 2, 3]
    assert {n: after[n] for n in first} == first  # the first two were not run again
    assert all(t.state is TrialState.COMPLETE for t in after.values())
    # run again with nothing left to do: nothing changes
    assert run_cli("run", str(spec), "--store", url, "--trials", "4", cwd=tmp_path).returncode == 0
    assert {t.number: t for t in all_trials(url)} == after


def test_changing_what_is_compared_is_refused_and_nothing_is_written(tmp_path):
    project = tmp_path / "project"
    spec = argparse_project(project, trials=2, scientific={"width": [4]})
    url = store_url(tmp_path)
    assert run_cli("run", str(spec), "--store", url, cwd=tmp_path).returncode == 0
    before = all_trials(url)
    with SQLStore(url) as store:
        stored_spec = store.get_experiment("exp").spec
    changed = argparse_project(project, trials=4, scientific={"width": [4]},
                               nuisance={"lr": {"low": 0.001, "high": 1.0, "scale": "log"}})
    done = run_cli("run", str(changed), "--store", url, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("error: experiment 'exp' already exists")
    assert "with a different nuisance;" in done.stderr and "change 'name:'" in done.stderr
    assert "Traceback" not in done.stderr
    assert all_trials(url) == before
    with SQLStore(url) as store:
        assert store.get_experiment("exp").spec == stored_spec
        assert [s.budget for s in store.list_studies(store.get_experiment("exp").id)] == [2]


def test_changing_how_trials_run_and_the_goal_is_allowed(tmp_path):
    project = tmp_path / "project"
    spec = argparse_project(project, trials=1, scientific={"width": [4]})
    url = store_url(tmp_path)
    assert run_cli("run", str(spec), "--store", url, cwd=tmp_path).returncode == 0
    spec.write_text(spec.read_text().replace("parallel: 2", "parallel: 1").replace("does width", "does WIDTH"))
    done = run_cli("run", str(spec), "--store", url, "--trials", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with SQLStore(url) as store:
        record = store.get_experiment("exp")
    assert record.spec["goal"] == "does WIDTH matter?" and record.spec["run"]["parallel"] == 1
    assert [t.state for t in all_trials(url)] == [TrialState.COMPLETE] * 2


def test_an_unknown_placeholder_is_an_error_before_anything_runs(tmp_path):
    write_program(tmp_path, "train.py", "raise SystemExit('must not run')\n")
    spec = write_spec(tmp_path, {"command": "python train.py --lr {lr} --depth {depth}"}, trials=2)
    url = store_url(tmp_path)
    done = run_cli("run", str(spec), "--store", url, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: invalid experiment spec {spec}: run.command: uses {{depth}}, which is not a hyperparameter "
        "of this experiment (it has: lr)"
    )
    assert not (tmp_path / "tunebook-runs").exists()
    with SQLStore(url) as store:
        assert store.list_experiments() == []


def test_a_warm_start_from_a_store_that_does_not_exist_is_refused_without_creating_it(tmp_path):
    write_program(tmp_path, "train.py", "raise SystemExit('must not run')\n")
    spec = write_spec(tmp_path, {"command": "python train.py --lr {lr}"},
                      search={"algorithm": "bayesian", "trials": 4, "warm_start": ["explore"]})
    done = run_cli("run", str(spec), "--store", str(tmp_path / "typo.db"), cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (f"error: search.warm_start names explore, but there is no store at "
                                   f"{tmp_path / 'typo.db'}: name the store the earlier rounds ran with "
                                   "(--store PATH or TUNEBOOK_STORE)")
    assert not (tmp_path / "typo.db").exists() and not (tmp_path / "tunebook-runs").exists()


def test_an_invalid_spec_names_the_field(tmp_path):
    spec = write_spec(tmp_path, {"command": "python train.py", "parallel": 0, "retries": "twice"})
    done = run_cli("run", str(spec), "--store", store_url(tmp_path), cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "run.parallel: must be an integer >= 1, got 0" in done.stderr
    assert "run.retries: must be an integer >= 0, got 'twice'" in done.stderr


# -- Ctrl-C and kill -9 --------------------------------------------------------------

# ~1 s per trial: logs and flushes a point every 0.1 s, checkpoints every 0.3 s
FLUSHING = """
import os, pathlib, time

def train(params, trial):
    pathlib.Path(trial.dir, "pid").write_text(str(os.getpid()))
    start = 0
    if trial.resume_from:
        start = int(pathlib.Path(trial.resume_from).read_text()) + 1
    for step in range(start, 10):
        time.sleep(0.1)
        trial.log(step, {"valid_loss": params["lr"] + 1.0 / (step + 1), "train_loss": 2.0 / (step + 1)})
        trial.flush()
        if step % 3 == 2:
            with trial.checkpoint(step) as path:
                pathlib.Path(path).write_text(str(step))
"""


def flushing_project(folder: Path, trials: int) -> Path:
    write_program(folder, "flushing.py", FLUSHING)
    return write_spec(folder, {"function": "flushing:train", "parallel": 2, "checkpoints_kept": 1},
                      trials=trials, scientific={"width": [4, 16]})


def signal_midway(args: tuple[str, ...], cwd: Path, url: str, complete: int, sig: int) -> tuple:
    """Start ``tunebook ARGS`` (output in first.log), wait until ``complete`` trials are
    complete and 2 running, then send the runner ``sig``: the runner and its trial processes."""
    runner = start_cli(*args, cwd=cwd, log=cwd / "first.log")
    trial_pids: list[int] = []
    try:
        wait_for(lambda: count_states(url).get(TrialState.COMPLETE, 0) >= complete
                 and count_states(url).get(TrialState.RUNNING, 0) == 2, 60, f"{complete} complete trial(s) and 2 running")
        trial_pids = descendants_of(runner.pid)
        runner.send_signal(sig)
    except BaseException:
        clean_up_after_failure(runner, trial_pids)
        raise
    return runner, trial_pids


def count_states(url: str) -> dict[TrialState, int]:
    try:
        trials = all_trials(url)
    except Exception:  # the runner has not created the experiment yet
        return {}
    counts: dict[TrialState, int] = {}
    for t in trials:
        counts[t.state] = counts.get(t.state, 0) + 1
    return counts


def chunk_rows(db: Path) -> list[tuple]:
    """Every stored curve chunk (id, trial, metric, points, bytes), read with sqlite3 alone."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT id, trial_id, metric, n, steps, vals FROM curve_chunks ORDER BY id").fetchall()


SLEEPING_COMMAND = """
import os, pathlib, sys, time
pathlib.Path(f"pid-{sys.argv[1]}").write_text(str(os.getpid()))
print('{"valid_loss": 1.0}', flush=True)
time.sleep(60)
"""


def test_kill_9_of_the_runner_leaves_no_training_process_behind(tmp_path):
    write_program(tmp_path, "train.py", SLEEPING_COMMAND)
    spec = write_spec(tmp_path, {"command": "python train.py {lr}", "parallel": 2}, trials=2)
    runner = start_cli("run", str(spec), "--store", store_url(tmp_path), cwd=tmp_path, log=tmp_path / "run.log")
    pids: list[int] = []
    try:
        pid_files = wait_for(lambda: len(list(tmp_path.glob("pid-*"))) == 2 and list(tmp_path.glob("pid-*")),
                             30, "both training scripts to start")
        pids = [int(wait_for(f.read_text, 5, "a pid")) for f in pid_files]
        children = descendants_of(runner.pid)  # with the spare launcher waiting for a next trial
        launchers = [pid for pid in children if pid not in pids and not idle_spare(pid)]
        assert len(launchers) == 2 and all(alive(pid) for pid in pids + launchers)
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(timeout=10)
        # the launchers get SIGTERM when the runner dies, and the scripts when their launcher does
        wait_for(lambda: not any(alive(pid) for pid in pids + children), 15, "every trial process to end")
    except BaseException:
        clean_up_after_failure(runner, pids)
        raise
    assert [t.state for t in all_trials(store_url(tmp_path))] == [TrialState.RUNNING] * 2  # for the next run


@pytest.mark.slow
def test_kill_9_of_the_runner_loses_no_flushed_point_and_a_rerun_finishes_the_budget(tmp_path):
    budget = 6
    spec = flushing_project(tmp_path, budget)
    url, runs = store_url(tmp_path), tmp_path / "runs"
    args = ("run", str(spec), "--store", url, "--runs", str(runs))
    runner, trial_pids = signal_midway(args, tmp_path, url, complete=3, sig=signal.SIGKILL)
    try:
        assert trial_pids, "the runner's trial processes"
        runner.wait(timeout=10)
        # its trials get SIGTERM (PR_SET_PDEATHSIG), flush and end
        wait_for(lambda: not any(alive(pid) for pid in trial_pids), 15, "the dead runner's trials to end")
    except BaseException:
        clean_up_after_failure(runner, trial_pids)
        raise

    before = all_trials(url)
    assert {t.state for t in before} <= {TrialState.COMPLETE, TrialState.RUNNING}
    interrupted = [t for t in before if t.state is TrialState.RUNNING]
    assert interrupted  # (two ran when we looked; one may have finished before the kill landed)
    complete_before = {t.id: t for t in before if t.state is TrialState.COMPLETE}
    curves_before = curves_of(url)
    chunks_before = chunk_rows(tmp_path / "tunebook.db")
    with SQLStore(url) as store:
        checkpoints_before = {t.id: [c.step for c in store.list_checkpoints(t.id)] for t in interrupted}

    done = run_cli(*args, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"exp: {2 * budget} trial(s) finished (0 failed)." in done.stdout

    by_study = trials_by_study(url)
    for key, trials in by_study.items():
        assert sorted(t.number for t in trials) == list(range(budget)), key
        assert all(t.state is TrialState.COMPLETE for t in trials), [(t.number, t.reason) for t in trials]
    after = {t.id: t for trials in by_study.values() for t in trials}
    assert {i: after[i] for i in complete_before} == complete_before  # complete trials untouched
    for trial in interrupted:  # released, not failed: their retries were not spent
        assert after[trial.id].attempt == 0
    curves_after = curves_of(url)
    for key, points in curves_before.items():
        # every point flushed before the kill is still there (re-logged steps may supersede its value)
        assert {s for s, _ in points} <= {s for s, _ in curves_after[key]}, key
        if key[0] in complete_before:
            assert curves_after[key] == points
    chunks_after = chunk_rows(tmp_path / "tunebook.db")
    assert chunks_after[: len(chunks_before)] == chunks_before  # nothing rewritten or dropped
    for trial in interrupted:
        steps = [s for s, _ in curves_after[(trial.id, "valid_loss")]]
        assert sorted(set(steps)) == list(range(10))
        assert after[trial.id].objective == min(v for _, v in curves_after[(trial.id, "valid_loss")])
        # the second attempt went on from the latest checkpoint the first one left, not from scratch
        resumed_after = checkpoints_before[trial.id][-1] if checkpoints_before[trial.id] else -1
        new_steps = [step for row in chunks_after[len(chunks_before):] if row[1:3] == (trial.id, "valid_loss")
                     for step in array("q", row[4])]
        assert new_steps == list(range(resumed_after + 1, 10))


def assert_handed_back(runner, trial_pids: list[int], log: Path, handed: str) -> None:
    """A run stopped by a signal: exit 1, ``handed`` (a regex) trials handed back, no traceback, no trial left alive."""
    try:
        code = runner.wait(timeout=30)
    except BaseException:
        clean_up_after_failure(runner, trial_pids)
        raise
    output = log.read_text()
    assert code == 1, output
    assert re.search(rf"error: stopped; {handed} running trial\(s\) handed back. Run the same command again to resume",
                     output), output
    assert "Traceback" not in output
    assert not any(alive(pid) for pid in trial_pids)  # the trials were stopped, not orphaned


@pytest.mark.slow
def test_ctrl_c_stops_the_run_hands_trials_back_and_a_rerun_completes(tmp_path):
    budget = 4
    spec = flushing_project(tmp_path, budget)
    url, runs = store_url(tmp_path), tmp_path / "runs"
    args = ("run", str(spec), "--store", url, "--runs", str(runs))
    runner, trial_pids = signal_midway(args, tmp_path, url, complete=1, sig=signal.SIGINT)
    assert_handed_back(runner, trial_pids, tmp_path / "first.log", handed=r"\d")
    states = count_states(url)
    assert TrialState.RUNNING not in states and states.get(TrialState.WAITING, 0) >= 1, states
    for trial in all_trials(url):
        if trial.state is TrialState.WAITING:
            assert trial.attempt == 0 and trial.reason == "interrupted; resumes on the next run"

    done = run_cli(*args, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    for trials in trials_by_study(url).values():
        assert sorted(t.number for t in trials) == list(range(budget))
        assert all(t.state is TrialState.COMPLETE and t.attempt == 0 for t in trials)
