"""A managed trial as an executor runs it: a real process on a real SQLite store."""

from __future__ import annotations

import json
import math
import signal
from pathlib import Path
from typing import Callable

import pytest

from tunebook.core.states import TrialState
from tunebook.storage import SQLStore
from tunebook.tracking.protocol import OUTCOME_FILE, read_outcome

from tests.tracking.conftest import Claimed, curves, run_trial, same_points, start_trial

NEVER = dict(flush_points=10**9, flush_seconds=1e9)  # only explicit, exit and signal flushes


def test_params_and_context_arrive(store: SQLStore, make_trial: Callable[..., Claimed]) -> None:
    claimed = make_trial(resume_from="/earlier/checkpoints/step-40", resume_step=40)
    done = run_trial(claimed, """
        import json, sys, tunebook.tracking as tracking
        trial = tracking.trial({"learning_rate": 1.0, "epochs": 3})
        assert tracking.trial() is trial
        trial.log(0, {"valid/error": 0.5})
        trial.flush()
        heavy = [m for m in ("sqlalchemy", "numpy", "pandas", "torch") if m in sys.modules]
        print(json.dumps(dict(params=trial.params, id=trial.id, dir=str(trial.dir), managed=trial.is_managed,
                              resume=[trial.resume_from, trial.resume_step], heavy=heavy)))
    """)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["params"] == {"learning_rate": 0.1, "optimizer": "adam", "epochs": 3}
    assert got["id"] == claimed.id and got["managed"] is True
    assert got["dir"] == str(claimed.dir)
    assert got["resume"] == ["/earlier/checkpoints/step-40", 40]
    assert got["heavy"] == []  # logging to SQLite needs neither SQLAlchemy nor numpy


def test_points_are_in_the_store_after_exit_nan_kept(
    store: SQLStore, make_trial: Callable[..., Claimed]
) -> None:
    claimed = make_trial(**NEVER)
    done = run_trial(claimed, """
        import math, tunebook.tracking as tracking
        trial = tracking.trial()
        for step, value in enumerate([0.1, math.nan, math.inf, -math.inf, 0.5]):
            trial.log(step, {"train/accuracy": value}, grad_norm=step)
    """)
    assert done.returncode == 0, done.stderr
    got = curves(store, claimed.id)
    want = [(0, 0.1), (1, math.nan), (2, math.inf), (3, -math.inf), (4, 0.5)]
    assert same_points(got["train/accuracy"], want)
    assert got["grad_norm"] == [(s, float(s)) for s in range(5)]
    assert read_outcome(claimed.dir) is None
    assert store.get_trial(claimed.id).state is TrialState.RUNNING  # the executor finishes it


def test_points_flush_by_count(store: SQLStore, make_trial: Callable[..., Claimed]) -> None:
    claimed = make_trial(flush_points=30, flush_seconds=1e9)
    proc = start_trial(claimed, """
        import tunebook.tracking as tracking
        trial = tracking.trial()
        for step in range(25):
            trial.log(step, {"a": 1.0, "b": 2.0})  # 50 points: one flush at 30
        print("logged", flush=True)
        import time; time.sleep(60)
    """)
    try:
        assert proc.stdout.readline().strip() == "logged"
        got = curves(store, claimed.id)
        assert len(got["a"]) + len(got["b"]) == 30
    finally:
        proc.kill()
        proc.wait()


def test_flushed_points_survive_kill_9(store: SQLStore, make_trial: Callable[..., Claimed]) -> None:
    claimed = make_trial(**NEVER)
    proc = start_trial(claimed, """
        import time, tunebook.tracking as tracking
        trial = tracking.trial()
        for step in range(100):
            trial.log(step, {"train/loss": 1.0 / (step + 1)})
        trial.flush()
        print("flushed", flush=True)
        for step in range(100, 200):
            trial.log(step, {"train/loss": 0.0})
        time.sleep(60)
    """)
    assert proc.stdout.readline().strip() == "flushed"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert curves(store, claimed.id)["train/loss"] == [(s, 1.0 / (s + 1)) for s in range(100)]


def test_sigterm_flushes_and_exits_143(store: SQLStore, make_trial: Callable[..., Claimed]) -> None:
    claimed = make_trial(**NEVER)
    proc = start_trial(claimed, """
        import time, tunebook.tracking as tracking
        trial = tracking.trial()
        for step in range(50):
            trial.log(step, {"train/loss": 2.0})
        print("logged", flush=True)
        time.sleep(60)
    """)
    assert proc.stdout.readline().strip() == "logged"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + 15
    assert curves(store, claimed.id)["train/loss"] == [(s, 2.0) for s in range(50)]


def test_a_users_sigterm_handler_is_left_alone(make_trial: Callable[..., Claimed]) -> None:
    done = run_trial(make_trial(), """
        import signal, tunebook.tracking as tracking
        def mine(signum, frame): pass
        signal.signal(signal.SIGTERM, mine)
        tracking.trial()
        print(signal.getsignal(signal.SIGTERM) is mine)
    """)
    assert done.stdout.strip() == "True", done.stderr


CHECKPOINT_SCRIPT = """
    import os, sys, tunebook.tracking as tracking
    trial = tracking.trial()
    for step, value in enumerate([5, 3, 8, 1, 9, 2, 7, 6, 10, 4]):
        trial.log(step, {"valid/error": value})
        with trial.checkpoint(step) as path:
            if step % 2:
                os.mkdir(path)
                open(os.path.join(path, "weights"), "w").write("w")
            else:
                open(path, "w").write("w")
"""


@pytest.mark.parametrize("mode, kept_steps", [("min", [3, 5, 9]), ("max", [4, 8, 9])])
def test_checkpoints_keep_the_best_and_the_latest(
    store: SQLStore, make_trial: Callable[..., Claimed], mode: str, kept_steps: list[int]
) -> None:
    claimed = make_trial(objective_mode=mode, checkpoints_kept=2)
    done = run_trial(claimed, CHECKPOINT_SCRIPT)
    assert done.returncode == 0, done.stderr
    folder = claimed.dir / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == [f"step-{s}" for s in kept_steps]
    values = [5, 3, 8, 1, 9, 2, 7, 6, 10, 4]
    recorded = store.list_checkpoints(claimed.id)
    assert [(c.step, c.path, c.value) for c in recorded] == [
        (s, str(folder / f"step-{s}"), values[s]) for s in kept_steps
    ]
    assert store.get_trial(claimed.id).best_step is None  # the executor sets it from curves


def test_checkpoint_value_is_the_latest_objective_at_or_before_its_step(
    store: SQLStore, make_trial: Callable[..., Claimed]
) -> None:
    claimed = make_trial(checkpoints_kept=5)
    done = run_trial(claimed, """
        import tunebook.tracking as tracking
        trial = tracking.trial()
        for step in (5, 15):
            with trial.checkpoint(step) as path:
                open(path, "w").write("w")
            if step == 5:
                trial.log(10, {"valid/error": 0.5})
                trial.log(10, {"valid/error": 0.4})  # the same step again: the latest counts
                trial.log(20, {"valid/error": 0.3})
    """)
    assert done.returncode == 0, done.stderr
    assert [(c.step, c.value) for c in store.list_checkpoints(claimed.id)] == [(5, None), (15, 0.4)]


def test_an_earlier_attempts_checkpoints_count(store: SQLStore, make_trial: Callable[..., Claimed]) -> None:
    claimed = make_trial(checkpoints_kept=1)
    earlier = claimed.dir / "checkpoints" / "step-10"
    earlier.parent.mkdir()
    earlier.write_text("earlier attempt")
    store.add_checkpoint(claimed.id, 10, str(earlier), 0.1)
    done = run_trial(claimed, """
        import tunebook.tracking as tracking
        trial = tracking.trial()
        for step, value in ((20, 0.5), (30, 0.05)):
            trial.log(step, {"valid/error": value})
            with trial.checkpoint(step) as path:
                open(path, "w").write("w")
            print(sorted(c.name for c in (trial.dir / "checkpoints").iterdir()))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['step-10', 'step-20']", "['step-30']"]
    assert [c.step for c in store.list_checkpoints(claimed.id)] == [30]


def test_a_failed_checkpoint_is_removed_and_not_recorded(
    store: SQLStore, make_trial: Callable[..., Claimed]
) -> None:
    claimed = make_trial()
    done = run_trial(claimed, """
        import tunebook.tracking as tracking
        trial = tracking.trial()
        try:
            with trial.checkpoint(7) as path:
                open(path, "w").write("half")
                raise OSError("disk full")
        except OSError:
            pass
        try:
            with trial.checkpoint(8) as path:
                pass
        except FileNotFoundError as exc:
            print(exc)
    """)
    assert done.returncode == 0, done.stderr
    assert "checkpoint of step 8: nothing was written at" in done.stdout
    assert list((claimed.dir / "checkpoints").iterdir()) == []
    assert store.list_checkpoints(claimed.id) == []


DIVERGENCES = [
    pytest.param("train/loss", [2.3, 2.0, math.nan], "train/loss is nan at step 120", id="nan-loss"),
    pytest.param("valid/error", [0.9, -math.inf], "valid/error is -inf at step 60", id="inf-objective"),
    pytest.param("valid/error", [0.9, math.nan], "valid/error is nan at step 60", id="nan-objective"),
    pytest.param("train/loss", [2.3, 3.1e4], "train/loss 3.1e+04 exceeds 10x its first value 2.3 at step 60",
                 id="exploding-loss"),
]


@pytest.mark.parametrize("metric, values, reason", DIVERGENCES)
def test_divergence_ends_the_trial_as_infeasible(
    store: SQLStore, make_trial: Callable[..., Claimed], metric: str, values: list[float], reason: str
) -> None:
    claimed = make_trial(**NEVER)
    done = run_trial(claimed, f"""
        import tunebook.tracking as tracking
        trial = tracking.trial()
        for i, text in enumerate({[repr(v) for v in values]!r}):
            trial.log(i * 60, {{{metric!r}: float(text)}})
        print("unreachable")
    """)
    assert done.returncode == 0, done.stderr
    assert "unreachable" not in done.stdout
    assert f"tunebook: trial diverged: {reason}\n" in done.stderr
    assert "Traceback" not in done.stderr
    assert read_outcome(claimed.dir) == {"state": "infeasible", "reason": reason}
    steps = [i * 60 for i in range(len(values))]
    assert same_points(curves(store, claimed.id)[metric], list(zip(steps, values)))


def test_diverged_is_not_swallowed_by_except_exception(make_trial: Callable[..., Claimed]) -> None:
    claimed = make_trial()
    done = run_trial(claimed, """
        import tunebook.tracking as tracking
        trial = tracking.trial()
        try:
            trial.log(3, {"loss": float("nan")})
        except Exception:
            print("swallowed")
        print("after")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert read_outcome(claimed.dir)["reason"] == "loss is nan at step 3"


def test_report_infeasible(store: SQLStore, make_trial: Callable[..., Claimed]) -> None:
    claimed = make_trial(**NEVER)
    done = run_trial(claimed, """
        import tunebook.tracking as tracking
        trial = tracking.trial()
        trial.log(0, {"train/loss": 2.0})
        trial.report_infeasible("batch size 4096 does not fit in memory")
    """)
    assert done.returncode == 0, done.stderr
    reason = "batch size 4096 does not fit in memory"
    assert read_outcome(claimed.dir) == {"state": "infeasible", "reason": reason}
    assert curves(store, claimed.id)["train/loss"] == [(0, 2.0)]


def test_a_store_that_fails_at_exit_makes_the_trial_crash(
    store: SQLStore, make_trial: Callable[..., Claimed]
) -> None:
    claimed = make_trial(**NEVER)
    done = run_trial(claimed, f"""
        import sqlite3, tunebook.tracking as tracking
        trial = tracking.trial()
        trial.log(0, {{"train/loss": 2.0}})
        sqlite3.connect({store.url[len("sqlite:///"):]!r}).execute("DROP TABLE curve_chunks")
    """)
    assert done.returncode == 1
    assert f"could not save the last points of trial {claimed.id}" in done.stderr
    assert not (claimed.dir / OUTCOME_FILE).exists()


def test_a_forked_child_does_not_write_the_parents_points(
    store: SQLStore, make_trial: Callable[..., Claimed]
) -> None:
    claimed = make_trial(**NEVER)
    done = run_trial(claimed, """
        import os, sys, tunebook.tracking as tracking
        trial = tracking.trial()
        trial.log(0, {"train/loss": 1.0})  # buffered when the child is forked
        pid = os.fork()
        if pid == 0:
            trial.log(1, {"child": 1.0})
            trial.flush()
            sys.exit(0)  # runs exit hooks in the child too
        os.waitpid(pid, 0)
        trial.log(2, {"train/loss": 0.5})
    """)
    assert done.returncode == 0, done.stderr
    assert curves(store, claimed.id) == {"child": [(1, 1.0)], "train/loss": [(0, 1.0), (2, 0.5)]}


def test_a_broken_trial_folder_is_named(tmp_path: Path) -> None:
    done = run_trial(None, f"""
        import os
        os.environ["TUNEBOOK_TRIAL_DIR"] = {str(tmp_path)!r}
        import tunebook.tracking as tracking
        tracking.trial()
    """, cwd=tmp_path)
    assert done.returncode == 1
    assert f"$TUNEBOOK_TRIAL_DIR={tmp_path} is not a readable trial folder" in done.stderr


def test_many_trial_processes_share_one_store(store: SQLStore, make_trial: Callable[..., Claimed]) -> None:
    claimed = [make_trial(flush_points=500) for _ in range(4)]
    script = """
        import tunebook.tracking as tracking
        trial = tracking.trial()
        for step in range(5000):
            trial.log(step, {"train/loss": 1.0, "valid/error": 0.5})
    """
    procs = [start_trial(c, script) for c in claimed]
    for proc in procs:
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    for c in claimed:
        got = curves(store, c.id)
        assert [len(got[m]) for m in ("train/loss", "valid/error")] == [5000, 5000]
