"""examples/digits end to end: ``tunebook run`` on the example specs, results read from the store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tunebook.core import TrialState
from tunebook.storage import SQLStore

from .digits import COMMAND_SPEC, SPEC, clean_env

pytest.importorskip("torch", reason="the digits example needs torch (pip install torch)")
pytest.importorskip("sklearn", reason="the digits example needs scikit-learn (pip install scikit-learn)")


def tunebook_run(spec: Path, workdir: Path) -> dict:
    """Run SPEC with a fresh store in ``workdir``; its trials by study key."""
    url = f"sqlite:///{workdir / 'tunebook.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "tunebook.cli.main", "run", str(spec), "--store", url],
        cwd=workdir, env=clean_env(), capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with SQLStore(url) as store:
        (experiment,) = store.list_experiments()
        studies = store.list_studies(experiment.id)
        return {s.key: store.list_trials(study_id=s.id) for s in studies}


def test_command_spec_runs_the_unmodified_script(tmp_path: Path) -> None:
    (trials,) = tunebook_run(COMMAND_SPEC, tmp_path).values()
    assert len(trials) == 4
    assert all(t.state in (TrialState.COMPLETE, TrialState.INFEASIBLE) for t in trials), [t.reason for t in trials]
    infeasible = [t for t in trials if t.state == TrialState.INFEASIBLE]
    assert infeasible  # the top of the learning-rate range diverges ...
    for t in infeasible:  # ... and only the top, read from the script's nan or exploding loss lines
        assert t.plain_params["learning_rate"] > 1.0, t
        assert "nan" in t.reason or "exceeds" in t.reason, t.reason
    assert min(t.objective for t in trials if t.state == TrialState.COMPLETE) < 0.1


@pytest.mark.slow
def test_demo_spec_runs_every_depth_with_divergent_trials_infeasible(tmp_path: Path) -> None:
    by_study = tunebook_run(SPEC, tmp_path)
    assert sorted(by_study) == ["num_layers=1", "num_layers=2", "num_layers=3"]
    for trials in by_study.values():
        assert len(trials) == 8
        states = [t.state for t in trials]
        assert TrialState.FAILED not in states, [t.reason for t in trials]
        assert TrialState.INFEASIBLE in states  # the top of the learning-rate range diverges
        for t in trials:
            if t.state == TrialState.INFEASIBLE:
                assert t.plain_params["learning_rate"] > 1.0, t
        assert min(t.objective for t in trials if t.state == TrialState.COMPLETE) < 0.1
