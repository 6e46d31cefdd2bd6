"""The live display's data, read from a real Runner mid-run, and how it renders at 80 columns."""

from __future__ import annotations

import time

import pytest

from tunebook.cli.progress import STUDY_COLUMNS, live_view
from tunebook.execution.live import LiveStatus, estimate_to_finish, live_status

from .harness import run_here, store_url, write_program, write_spec

# ~1.5 s per trial, a flushed objective point every 0.1 s; lr > 0.5 crashes half-way
STEADY = """
import time

def train(params, trial):
    for step in range(15):
        time.sleep(0.1)
        trial.log(step * 10, {"valid_loss": params["lr"] + 1.0 / (step + 1)})
        trial.flush()
        if params["lr"] > 0.5 and step == 7:
            raise RuntimeError("loss scaler overflow")
"""


def test_estimate_to_finish_is_the_pace_so_far_times_what_remains():
    assert estimate_to_finish(elapsed=30.0, ended_here=3, remaining=6) == pytest.approx(60.0)
    assert estimate_to_finish(elapsed=30.0, ended_here=0, remaining=6) is None  # no pace yet
    assert estimate_to_finish(elapsed=30.0, ended_here=3, remaining=0) == 0.0


def test_mid_run_it_shows_the_running_trials_latest_point_and_failures_with_their_reasons(tmp_path):
    write_program(tmp_path, "steady.py", STEADY)
    search = {"algorithm": "explicit", "points": [{"lr": 0.9}, {"lr": 0.1}, {"lr": 0.2}]}
    spec = write_spec(tmp_path, {"function": "steady:train", "retries": 0}, search=search)
    snapshots: list[LiveStatus] = []
    run_here(spec, store_url(tmp_path), tmp_path / "runs", parallel=2,
             on_tick=lambda runner: snapshots.append(live_status(runner)))

    elapsed = [s.elapsed for s in snapshots]
    assert elapsed == sorted(elapsed) and elapsed[-1] > 1.5
    with_points = [t for s in snapshots for t in s.running if t.step is not None]
    assert with_points, "a running trial's flushed objective point was shown"
    for t in with_points:
        assert t.name in ("default/0", "default/1", "default/2") and t.step % 10 == 0 and t.step <= 140
        lr = {"default/0": 0.9, "default/1": 0.1, "default/2": 0.2}[t.name]
        assert t.value == pytest.approx(lr + 1.0 / (t.step / 10 + 1))  # the value logged at that step
    # the crash shows, with its reason, from the moment it happened
    first_failure = next(i for i, s in enumerate(snapshots) if s.problems)
    assert [(p.name, p.state) for p in snapshots[first_failure].problems] == [("default/0", "failed")]
    assert snapshots[first_failure].problems[0].reason.endswith("RuntimeError: loss scaler overflow")
    assert any(s.running for s in snapshots[first_failure:])  # ... while others still ran
    assert snapshots[first_failure].eta is not None
    assert all(s.eta is None for s in snapshots[:first_failure])
    assert (snapshots[-1].studies[0].complete, snapshots[-1].studies[0].failed) == (2, 1)


def test_the_display_fits_80_columns_and_uses_the_words_of_status(tmp_path):
    from rich.console import Console

    from tunebook.execution.live import EndedTrial, RunningTrial
    from tunebook.execution.progress import StudyProgress

    study = StudyProgress("num_layers=2", budget=20, mode="min", complete=5, infeasible=1, failed=1, running=2,
                          best=0.0412, best_trial=3)
    status = LiveStatus(
        elapsed=250.0, eta=610.0, studies=[study],
        running=[RunningTrial("num_layers=2/7", 41.0, 120, 0.31), RunningTrial("num_layers=2/8", 2.0, None, None)],
        problems=[EndedTrial("num_layers=2/4", "failed", "exit code 1 after 2 attempt(s): " + "x" * 200)],
        notices=["re-queued 1 trial(s) left RUNNING by a runner on this machine that is gone"],
    )
    console = Console(width=80, record=True)
    console.print(live_view("digits-depth", "valid/error", status, console.width))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "tunebook run digits-depth · 4 min 10 s elapsed · about 10 min 10 s to go" in text
    header = next(line for line in text.splitlines() if "study" in line)
    headers = [c.strip() for c in header.split("┃")[1:-1]]
    assert "…" not in header and set(headers) <= set(STUDY_COLUMNS) | {"compl.", "infeas.", "run.", "best"}
    assert headers[:3] == ["study", "trials", "compl."]  # whole words or their short forms, never fragments
    assert "num_layers=2/3" in text and "7/20" in text  # trials = finished/budget, as in status
    assert "running: num_layers=2/7  running 41.0 s  step 120  valid/error 0.31" in text
    assert "running: num_layers=2/8  running 2.0 s  no objective value yet" in text
    assert "failed or infeasible: num_layers=2/4 failed: exit code 1 after 2 attempt(s): xx…" in text
    assert "note: re-queued 1 trial(s)" in text
