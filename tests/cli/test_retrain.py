"""``tunebook retrain`` as a user runs it: the console script, a real SQLite store, real trial processes."""

from __future__ import annotations

import re
import signal
import sqlite3
import statistics
from pathlib import Path

import pytest

from tunebook.analysis import load
from tunebook.analysis.repeats import repeats_of
from tunebook.core.states import TrialState
from tunebook.storage import SQLStore

from ..execution.harness import (
    LINE_REGEX, alive, clean_up_after_failure, descendants_of, run_cli, run_here, start_cli, store_url, trials_by_study,
    wait_for, write_program, write_spec,
)

# A noisy program: its seed (from TUNEBOOK_PARAMS, as a trial function would get it) moves the result;
# lr >= 0.9 blows up for odd seeds (an infeasible outcome the repeats must keep). sleep.txt slows each step.
NOISY = """
import json, os, pathlib, random, time
params = json.loads(os.environ["TUNEBOOK_PARAMS"])
rng = random.Random(params.get("seed", 0))
loss = 1.0
for step in range(0, 50, 10):
    time.sleep(float(pathlib.Path("sleep.txt").read_text()) if pathlib.Path("sleep.txt").exists() else 0)
    loss = loss * (1 - params["lr"]) + rng.random() * 0.05
    if params["lr"] >= 0.9 and params.get("seed", 0) % 2:
        loss = float("nan")
    print(f"step {step} train loss: {loss!r} valid loss: {loss + 0.1!r}", flush=True)
"""


def project(folder: Path, seed: dict | None = None, role: str = "nuisance", trials: int = 3, **run) -> Path:
    """The noisy program and a spec over ``lr`` (and ``seed`` in ``role`` when given); the spec's path."""
    write_program(folder, "train.py", NOISY)
    nuisance = {"lr": {"low": 0.01, "high": 0.5, "scale": "log"}}
    extra = {}
    if seed is not None and role == "nuisance":
        nuisance["seed"] = seed
    elif seed is not None:
        extra[role] = {"seed": seed}
    command = {"command": "python train.py", "metrics": [LINE_REGEX], "parallel": 2, **run}
    return write_spec(folder, command, trials=trials, nuisance=nuisance, scientific={"width": [4, 16]}, **extra)


def run_project(folder: Path, **kwargs) -> str:
    """The project's search run to its budget (by a Runner here: quicker than the console script); the store URL."""
    run_here(project(folder, **kwargs), store_url(folder), folder / "runs")
    return store_url(folder)


def retrain(folder: Path, *args: str, timeout: float = 120):
    """``tunebook retrain ARGS`` typed in another folder than the spec's: trials still run where the spec says."""
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    return run_cli("retrain", *args, "--store", store_url(folder), "--runs", str(folder / "runs"), cwd=elsewhere,
                   timeout=timeout)


def test_retrain_reruns_one_configuration_with_fresh_seeds_as_repeats_of_its_source(tmp_path):
    url = run_project(tmp_path, seed={"low": 0, "high": 1000, "type": "int"})
    done = retrain(tmp_path, "exp/width=4/1", "-n", "4")
    assert done.returncode == 0, done.stderr
    studies = trials_by_study(url)
    source = studies["width=4"][1]
    repeats = studies["retrain:width=4:1"]
    with SQLStore(url) as store:
        (linked,) = [s for s in store.list_studies(store.get_experiment("exp").id) if s.source_trial_id]
    assert (linked.key, linked.source_trial_id, dict(linked.scientific), linked.budget) == (
        "retrain:width=4:1", source.id, {"width": 4}, 4)
    seed = source.params["seed"]
    assert [t.params for t in repeats] == [{**source.params, "seed": seed + 1 + i} for i in range(4)]
    assert all(t.state is TrialState.COMPLETE for t in repeats)
    values = [source.objective] + [t.objective for t in repeats]
    assert statistics.stdev(values) > 0  # five seeds, five results
    group = repeats_of(load("exp", url), source.id)
    assert set(group.trial_ids) == {source.id, *(t.id for t in repeats)}  # and no other trial
    # what the user reads: every seed's value, their spread, and what to run next
    for trial, value in zip(["width=4/1"] + [f"retrain:width=4:1/{i}" for i in range(4)], values):
        assert re.search(rf"{re.escape(trial)}\s.*\s{value:.6g}\s", done.stdout), trial
    assert (f"valid_loss over 5 completed: median {statistics.median(values):.6g}, mean {statistics.mean(values):.6g},"
            f" std {statistics.stdev(values):.3g}, min {min(values):.6g}, max {max(values):.6g}; 0 diverged, 0 failed"
            ) in done.stdout
    assert "exp: 4 trial(s) finished (0 failed)." in done.stdout
    assert "Next: Retrain the runner-up the same way, then compare the two configurations:" in done.stdout
    assert re.search(rf"tunebook retrain exp/width=\S+ -n 4 --store \S+ --runs {tmp_path / 'runs'}\n", done.stdout)
    assert f"tunebook compare exp/width=" in done.stdout and "exp/width=4/1" in done.stdout.split("compare")[-1]


def test_a_larger_n_extends_the_repeats_and_a_smaller_one_runs_nothing_new(tmp_path):
    url = run_project(tmp_path, seed={"low": 0, "high": 1000, "type": "int"}, trials=1)
    assert retrain(tmp_path, "exp/width=16/0", "-n", "2").returncode == 0
    first = trials_by_study(url)["retrain:width=16:0"]
    grown = retrain(tmp_path, "exp/width=16/0", "-n", "5")
    assert grown.returncode == 0, grown.stderr
    after = trials_by_study(url)["retrain:width=16:0"]
    assert after[:2] == first and [t.number for t in after] == [0, 1, 2, 3, 4]
    assert len({t.params["seed"] for t in after} | {trials_by_study(url)["width=16"][0].params["seed"]}) == 6
    fewer = retrain(tmp_path, "exp/width=16/0", "-n", "3")
    assert "already has 5 repeats, more than -n 3: they all stay and count" in fewer.stderr
    assert fewer.returncode == 0 and trials_by_study(url)["retrain:width=16:0"] == after
    # EXPERIMENT names the search's best trial (the two studies tie: the first), never a repeat's lucky seed
    assert min(t.objective for t in after) < trials_by_study(url)["width=16"][0].objective  # one is luckier
    best = retrain(tmp_path, "exp", "-n", "1")
    assert best.returncode == 0 and "Repeats of exp/width=4/0: 2 seeds" in best.stdout, best.stderr


def test_without_a_seed_hyperparameter_it_reruns_anyway_and_warns(tmp_path):
    url = run_project(tmp_path, trials=1)
    done = retrain(tmp_path, "exp/width=4/0", "-n", "2")
    assert done.returncode == 0, done.stderr
    assert "warning: the experiment has no hyperparameter 'seed'" in done.stderr
    assert "its own non-determinism, which is then the trial variance measured here" in done.stderr
    repeats = trials_by_study(url)["retrain:width=4:0"]
    assert [t.params["seed"] for t in repeats] == [1, 2]  # the program reads it: the warning says it may not
    group = repeats_of(load("exp", url), trials_by_study(url)["width=4"][0].id)
    assert len(group) == 3


def test_a_fixed_seed_is_overridden_per_repeat_and_diverged_repeats_are_kept(tmp_path):
    spec = project(tmp_path, seed=0, role="fixed", trials=1)
    spec.write_text(spec.read_text().replace("high: 0.5", "high: 0.95").replace("low: 0.01", "low: 0.94"))
    run_here(spec, store_url(tmp_path), tmp_path / "runs")
    done = retrain(tmp_path, "exp/width=4/0", "-n", "4")
    assert done.returncode == 0, done.stderr
    assert "note: 'seed' is fixed at 0 in the spec; each repeat overrides it with its own seed" in done.stderr
    repeats = trials_by_study(store_url(tmp_path))["retrain:width=4:0"]
    assert [t.params["seed"] for t in repeats] == [1, 2, 3, 4]
    assert [t.state for t in repeats] == [TrialState.INFEASIBLE, TrialState.COMPLETE] * 2  # odd seeds blow up
    assert "valid_loss over 3 completed" in done.stdout and "; 2 diverged, 0 failed" in done.stdout


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


BAD_INPUT = [
    (("exp/width=4/7", "-n", "2"), "error: exp/width=4/7: study 'width=4' has no trial 7; its trial numbers: 0..0"),
    (("exp/width=4/0", "-n", "0"), "Invalid value for '-n': 0 is not in the range x>=1"),
    (("exp/width=4/0", "-n", "2", "--seed-param", "lr"),
     "error: --seed-param lr: hyperparameter 'lr' is a float range"),
    (("exp/width=4/0", "-n", "2", "--seed-param", "rng"),
     "error: --seed-param rng: experiment 'exp' has no hyperparameter 'rng'; its hyperparameters: lr, width"),
    (("nothing/0", "-n", "2"), "error: no experiment named 'nothing' in the store; experiments: exp"),
]


def test_bad_input_is_a_clear_error_and_leaves_the_store_untouched(tmp_path):
    run_project(tmp_path, trials=1)
    before = dump(tmp_path / "tunebook.db")
    for args, message in BAD_INPUT:
        done = retrain(tmp_path, *args)
        assert done.returncode != 0 and message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert dump(tmp_path / "tunebook.db") == before, args


@pytest.mark.slow
def test_retrain_survives_kill_9_and_the_same_command_resumes(tmp_path):
    url = run_project(tmp_path, seed={"low": 0, "high": 1000, "type": "int"}, trials=1)
    (tmp_path / "sleep.txt").write_text("0.3")  # ~1.5 s a repeat
    args = ("retrain", "exp/width=4/0", "-n", "4", "--store", url, "--runs", str(tmp_path / "runs"))
    runner = start_cli(*args, cwd=tmp_path, log=tmp_path / "first.log")
    pids: list[int] = []
    try:
        wait_for(lambda: _states(url).count(TrialState.RUNNING) == 2, 60, "two repeats running")
        pids = descendants_of(runner.pid)
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
        wait_for(lambda: not any(alive(pid) for pid in pids), 15, "the dead runner's trials to end")
    except BaseException:
        clean_up_after_failure(runner, pids)
        raise
    assert TrialState.RUNNING in _states(url)  # left behind by the killed runner
    done = run_cli(*args, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "re-queued" in done.stderr
    repeats = trials_by_study(url)["retrain:width=4:0"]
    assert [t.number for t in repeats] == [0, 1, 2, 3] and all(t.state is TrialState.COMPLETE for t in repeats)
    assert "valid_loss over 5 completed" in done.stdout


def _states(url: str) -> list[TrialState]:
    try:
        return [t.state for t in trials_by_study(url).get("retrain:width=4:0", [])]
    except Exception:  # noqa: BLE001 - the store may be mid-write by the other process
        return []
