"""benchmarks/scale.py kept from rotting: its local-executor leg end to end on a tiny setting, and bad input.

The Ray and Ray Tune legs need a Ray instance (tens of seconds to start): the
script is run with them by hand (README "Benchmarks"), and the Ray executor
itself is tested in tests/faults/test_ray_nodes.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "scale.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SCRIPT.parents[1] / "src")}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120, env=env)


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
