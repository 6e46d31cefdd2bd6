"""benchmarks/scale.py kept from rotting: its local-executor leg end to end on a tiny setting, and bad input.

The Ray and Ray Tune legs need a Ray instance (tens of seconds to start): the
script is run with them by hand (README "Benchmarks"), and the Ray executor
itself is tested in tests/faults/test_ray_nodes.py. The one Ray check here
(slow): 200 trials through tunebook on a local Ray instance do not slow down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "scale.py"


def _run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**(env or os.environ), "PYTHONPATH": str(SCRIPT.parents[1] / "src")}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def test_the_local_leg_reports_rates_that_add_up(tmp_path):
    out = tmp_path / "scale.json"
    done = _run("--trials", "4", "--seconds", "0.2", "--concurrency", "2", "--setups", "local", "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [(r["setup"], r["concurrency"], r["trials"]) for r in rows] == [("local", 2, 4)]
    row = rows[0]
    assert abs(row["trials_per_hour"] - 4 / row["wall_s"] * 3600) <= 0.01 * row["trials_per_hour"]
    assert row["wall_s"] >= 4 * 0.2 / 2  # two rounds of the program's own time is a floor
    assert abs(row["overhead_per_trial_s"] - (row["wall_s"] * 2 / 4 - 0.2)) < 0.01  # wall_s is rounded
    assert row["overhead_per_trial_s"] > 0
    assert "local" in done.stdout and "/h" in done.stdout


def test_bad_counts_are_refused_naming_the_options():
    done = _run("--trials", "0")
    assert done.returncode == 2 and "--trials and --concurrency must be >= 1" in done.stderr


SLOWER_AT_MOST = 3.0


@pytest.mark.slow
def test_two_hundred_trials_on_ray_do_not_slow_down(tmp_path):
    """The last 50 of 200 trivial trials on Ray run at least 1/SLOWER_AT_MOST as many trials per hour as the
    first 50 (each window's rate over its 50 intervals between finishes: Ray's start-up is in neither).

    Why 3: a window is 5-10 s of wall time at 5-10 trials/s, and what other work on the machine does in
    those seconds moves its rate more than the trial count does: on the shared 2-core machine (load
    average 4-6) windows of one run differed up to 1.9x with no trend (0.53 to 1.16 last/first over
    1,000 trials, windows of 100). A per-trial cost growing with the count (a listing read per claim, an
    index missing, Ray's bookkeeping, as users report of Ray Tune and Optuna past a few hundred
    trials) fails this once it triples between trial 50 and trial 200; the 1,000-trial figure is the
    benchmark's (README).
    """
    from tests.faults.ray_cluster import RayCluster

    tagged = RayCluster(os.environ.get("PYTHONPATH", ""))  # only its tag: every Ray process started below carries it
    out = tmp_path / "many.json"
    try:
        done = _run("--ray-trials", "200", "--window", "50", "--concurrency", "2", "--out", str(out),
                    env=tagged.env, timeout=240)
    finally:
        tagged.stop()  # the local Ray instance's processes, by tag (never another session's Ray)
    assert done.returncode == 0, done.stdout + done.stderr
    row = json.loads(out.read_text())["many"]
    assert row["trials"] == 200 and row["window"] == 50
    assert row["last_per_hour"] * SLOWER_AT_MOST >= row["first_per_hour"], row
    assert "first 50:" in done.stdout and "last 50:" in done.stdout
