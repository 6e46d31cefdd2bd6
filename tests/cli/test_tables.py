"""``tunebook trials`` and ``tunebook status`` tables at 80 and 180 columns, as a user's terminal shows them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from ..execution.harness import TUNEBOOK, clean_env, run_cli, store_url, write_program, write_spec

# per study: lr 0.1 completes, lr 0.5 diverges (infeasible), lr 0.9 crashes with a traceback (failed)
TRAIN = """
import time

def train(params, trial):
    if params["lr"] > 0.8:
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)")
    for step in range(3):
        time.sleep(0.05)
        loss = float("nan") if params["lr"] == 0.5 and step == 1 else params["width"] * params["lr"] / (step + 1)
        trial.log(step * 10, {"valid_loss": loss})
"""


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("tables")
    write_program(folder, "model.py", TRAIN)
    points = [{"lr": lr, "weight_decay": 1e-4, "label_smoothing": 0.1} for lr in (0.1, 0.5, 0.9)]
    spec = write_spec(
        folder, {"function": "model:train", "retries": 0, "parallel": 2}, scientific={"width": [4, 16]},
        nuisance={"lr": {"low": 0.01, "high": 1.0, "scale": "log"}, "weight_decay": {"low": 1e-5, "high": 1e-3},
                  "label_smoothing": {"low": 0.0, "high": 0.2}},
        fixed={"batch_size": 128, "max_train_steps": 30},
        search={"algorithm": "explicit", "points": points},
    )
    url = store_url(folder)
    done = run_cli("run", str(spec), "--store", url, cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder, url


def at_width(width: int, *args: str, cwd: Path) -> list[str]:
    done = subprocess.run([str(TUNEBOOK), *args], cwd=cwd, env=clean_env(COLUMNS=str(width)),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def header_cells(lines: list[str]) -> list[str]:
    (header,) = [line for line in lines if line.startswith("┃")]
    return [c.strip() for c in header.split("┃")[1:-1]]


def rows_by_name(lines: list[str]) -> dict[str, list[str]]:
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in lines if line.startswith("│")]
    return {row[0]: row for row in cells}


@pytest.mark.parametrize("width", [80, 180])
def test_trials_fit_the_terminal_with_whole_headers(filled, width):
    folder, url = filled
    lines = at_width(width, "trials", "exp", "--store", url, cwd=folder)
    assert max(len(line) for line in lines) <= width
    headers = header_cells(lines)
    assert all("…" not in h for h in headers) and len(lines) == 3 + 6 + 2  # one line per trial, none taller
    assert "batch_size" not in headers and "max_train_steps" not in headers  # fixed: caveats, not columns
    rows = rows_by_name(lines)
    assert list(rows) == [f"width={w}/{n}" for w in (4, 16) for n in range(3)]  # STUDY/NUMBER, as users name them
    failed = rows["width=4/2"][headers.index("reason")]
    assert rows["width=16/1"][headers.index("reason")].startswith("valid_loss is nan at s")
    if width == 180:
        # scientific, then nuisance in the spec's order, then the outcome; attempt (always 0) made room
        assert headers == ["trial", "width", "lr", "weight_decay", "label_smoothing", "state", "objective",
                           "best step", "duration", "reason"]
        assert all(re.fullmatch(r"[\d.]+ s", row[headers.index("duration")]) for row in rows.values())
        assert failed.startswith("exit code 1 after 1 attempt(s): RuntimeError: CUDA out of memory")
        assert rows["width=16/1"][headers.index("reason")] == "valid_loss is nan at step 10"
    else:  # the later nuisance hyperparameters and the bookkeeping give way to a readable reason
        assert headers == ["trial", "lr", "wd", "state", "objective", "reason"]  # weight_decay as people write it
        assert failed.startswith("exit code 1 after") and len(failed) >= 20


@pytest.mark.parametrize("width", [80, 180])
def test_status_fits_the_terminal_with_whole_headers(filled, width):
    folder, url = filled
    lines = at_width(width, "status", "--store", url, cwd=folder)
    table = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert max(len(line) for line in table) <= width
    headers = header_cells(lines)
    assert all("…" not in h for h in headers)
    full = ["study", "trials", "complete", "infeasible", "failed", "running", "best objective", "best trial"]
    assert headers == full if width == 180 else set(headers) <= set(full) | {"compl.", "infeas.", "run.", "best"}
    rows = rows_by_name(lines)
    assert rows["width=4"][headers.index("best trial")] == "width=4/0 (step 20)"
