"""Outside tunebook (no ``TUNEBOOK_TRIAL_DIR``) the same script still runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import tunebook.tracking as tracking
from tunebook.tracking import Diverged
from tunebook.tracking.protocol import ENV_PARAMS, ENV_TRIAL_DIR, OUTCOME_FILE

from tests.tracking.conftest import run_trial


@pytest.fixture(autouse=True)
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(ENV_TRIAL_DIR, raising=False)
    monkeypatch.delenv(ENV_PARAMS, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_are_the_params(outside: Path) -> None:
    trial = tracking.trial({"learning_rate": 0.1, "layers": 2})
    assert trial.params == {"learning_rate": 0.1, "layers": 2}
    assert (trial.id, trial.is_managed, trial.resume_from, trial.resume_step) == (None, False, None, None)
    assert trial.dir == outside
    assert tracking.trial().params == {}  # a new standalone trial each call


def test_tunebook_params_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_PARAMS, json.dumps({"learning_rate": 0.5}))
    assert tracking.trial({"learning_rate": 0.1, "layers": 2}).params == {"learning_rate": 0.5, "layers": 2}
    monkeypatch.setenv(ENV_PARAMS, "[1, 2]")
    with pytest.raises(ValueError, match=r"\$TUNEBOOK_PARAMS must hold a JSON object of params, got \[1, 2\]"):
        tracking.trial()
    with pytest.raises(TypeError, match="defaults must be a mapping"):
        tracking.trial([("learning_rate", 0.1)])


def test_log_works_without_a_store(outside: Path) -> None:
    trial = tracking.trial()
    for step in range(100):
        trial.log(step, {"train/loss": 1.0 / (step + 1), "valid/error": 0.5})
    trial.flush()
    assert list(outside.iterdir()) == []  # nothing durable, no files


def test_divergence_raises_without_recording_an_outcome(outside: Path) -> None:
    trial = tracking.trial()
    trial.log(0, {"loss": 1.0})
    with pytest.raises(Diverged, match="loss 20 exceeds 10x its first value 1 at step 1"):
        trial.log(1, {"loss": 20.0})
    assert not (outside / OUTCOME_FILE).exists()
    trial = tracking.trial()
    with pytest.raises(Diverged, match="train/loss is nan at step 0"):
        trial.log(0, {"train/loss": math.nan})


def test_checkpoints_go_under_the_working_directory_pruned(outside: Path) -> None:
    trial = tracking.trial()
    for step in range(0, 60, 10):
        trial.log(step, {"train/loss": 1.0})
        with trial.checkpoint(step) as path:
            assert path == str(outside / "tunebook-checkpoints" / f"step-{step}")
            Path(path).write_text("weights")
    # no objective outside tunebook: every checkpoint is unvalued, so the latest 3 stay
    assert sorted(p.name for p in (outside / "tunebook-checkpoints").iterdir()) == [
        "step-30", "step-40", "step-50"
    ]


def test_report_infeasible_prints_the_reason(outside: Path, capsys: pytest.CaptureFixture) -> None:
    tracking.trial().report_infeasible("too slow")
    assert capsys.readouterr().err == "tunebook: trial infeasible: too slow\n"
    assert list(outside.iterdir()) == []
    with pytest.raises(ValueError, match="non-empty reason"):
        tracking.trial().report_infeasible(" ")


def test_an_uncaught_diverged_ends_a_script_quietly(outside: Path) -> None:
    done = run_trial(None, """
        import tunebook.tracking as tracking
        trial = tracking.trial({"lr": 1.0})
        trial.log(0, {"train/loss": float("nan")})
    """, cwd=outside)
    assert done.returncode == 0
    assert done.stderr == "tunebook: trial diverged: train/loss is nan at step 0\n"
