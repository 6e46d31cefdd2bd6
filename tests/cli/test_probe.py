"""``tunebook probe batch-size`` as a user runs it: the console script on a real training process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TUNEBOOK = Path(sys.executable).with_name("tunebook")
FAKE = str(Path(__file__).resolve().parents[1] / "probe" / "fake_train.py")
TRAIN = [sys.executable, FAKE, "--batch-size", "{batch_size}", "--steps", "{steps}"]
QUICK = ["--steps", "8", "--skip-steps", "2"]


def probe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([str(TUNEBOOK), "probe", "batch-size", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=60)


def test_table_and_words_recommend_the_largest_batch_size_that_fits(tmp_path: Path):
    result = probe(*QUICK, "--", *TRAIN, "--fits", "4", "--oom", "cuda", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "time per step" in out and "examples/s" in out
    assert "ok <- recommended" in out and "out of memory" in out
    assert "Recommended batch size: 4" in out
    assert "4 is the largest batch size that ran; 8 ran out of memory." in out
    assert "re-tuning most hyperparameters" in out
    # progress goes to stderr, one line per batch size
    assert [line.split(":")[0] for line in result.stderr.splitlines()] == [f"batch size {b}" for b in (1, 2, 4, 8)]
    assert list(tmp_path.iterdir()) == []   # nothing written: no store, no files


def test_json_for_scripts(tmp_path: Path):
    result = probe(*QUICK, "--format", "json", "--", *TRAIN, "--fits", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(r["batch_size"], r["outcome"]) for r in data["runs"]] == [(1, "ok"), (2, "ok"), (4, "out_of_memory")]
    assert data["runs"][0]["time_per_step"] > 0 and data["runs"][0]["timing"] == "step_lines"
    assert data["judgement"]["recommended"] == 2 and data["judgement"]["limit"] == 4
    assert any("re-tuning most hyperparameters" in line for line in data["advice"])


def test_a_crash_prints_what_was_measured_then_fails_with_the_end_of_its_output(tmp_path: Path):
    result = probe(*QUICK, "--", *TRAIN, "--fits", "1", "--oom", "crash", cwd=tmp_path)
    assert result.returncode == 1
    assert "crashed" in result.stdout and "Recommended batch size: 1" in result.stdout
    assert "error: the program crashed at batch size 2 (exit code 1), and not by running out of memory" \
        in result.stderr
    assert "ValueError: shapes (4,2) and (3,) not aligned" in result.stderr
    assert "tunebook/" not in result.stderr   # no traceback of ours


def test_out_of_memory_at_the_smallest_batch_size_is_an_error(tmp_path: Path):
    result = probe(*QUICK, "--start", "4", "--", *TRAIN, "--fits", "2", cwd=tmp_path)
    assert result.returncode == 1
    assert "error: the smallest batch size, 4, already runs out of memory" in result.stderr


def test_a_command_without_the_placeholder_says_how_to_pass_the_batch_size(tmp_path: Path):
    result = probe(*QUICK, "--", sys.executable, FAKE, "--steps", "{steps}", cwd=tmp_path)
    assert result.returncode == 1
    assert "has no {batch_size} placeholder" in result.stderr and "--from-env" in result.stderr
    assert "batch size 1" not in result.stderr   # refused before running anything
    result = probe(*QUICK, "--from-env", "--max-batch-size", "2", "--", sys.executable, FAKE, "--steps", "{steps}",
                   cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_the_commands_own_options_are_not_taken_by_the_probe_even_without_dashes(tmp_path: Path):
    # fake_train's --steps 100000 must reach it: the probe stops it after its own 8 steps
    result = probe(*QUICK, "--max-batch-size", "1", "--format", "json",
                   sys.executable, FAKE, "--batch-size", "{batch_size}", "--steps", "100000", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)["runs"][0]
    assert run["outcome"] == "ok" and run["step_lines"] == 9


def test_bad_options_name_the_option_and_value(tmp_path: Path):
    result = probe("--steps", "3", "--skip-steps", "2", "--", *TRAIN, cwd=tmp_path)
    assert result.returncode == 1 and "--steps must be at least --skip-steps + 2 = 4" in result.stderr
    result = probe("--min-gain", "0", "--", *TRAIN, cwd=tmp_path)
    assert result.returncode == 1 and "--min-gain must be > 0" in result.stderr


def test_a_nan_min_gain_is_refused_before_running(tmp_path: Path):
    result = probe("--min-gain", "nan", "--", *TRAIN, cwd=tmp_path)
    assert result.returncode == 1 and "--min-gain must be > 0 (0.10 = 10 %), got nan" in result.stderr
    assert "batch size 1" not in result.stderr
