"""``tunebook run`` records the code version of every trial, and that version rebuilds the code that ran."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tunebook.execution.code_version import materialize
from tunebook.storage import SQLStore
from tunebook.storage.schema import code_versions

from .harness import all_trials, run_cli, write_program, write_spec
from .test_code_version import sh

PROGRAM = """
import json, sys
from model import SCALE
lr = float(sys.argv[1])
for step in range(2):
    print(json.dumps({"step": step, "valid_loss": SCALE * lr / (step + 1)}))
"""


def project(folder: Path) -> Path:
    """A committed project (program, module, spec); the store and runs folder will land inside it."""
    folder.mkdir()
    write_program(folder, "train.py", PROGRAM)
    write_program(folder, "model.py", "SCALE = 1.0\n")
    spec = write_spec(folder, {"command": "python train.py {lr}"}, trials=3)
    sh(folder, "init", "-q", "-b", "main")
    sh(folder, "add", "-A")
    sh(folder, "commit", "-q", "-m", "first")
    return spec


def count_versions(url: str) -> int:
    with SQLStore(url) as store, store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(code_versions)).scalar_one()


def test_every_trial_of_a_run_records_the_dirty_code_that_produced_it(tmp_path: Path) -> None:
    spec = project(tmp_path / "project")
    repo = spec.parent
    (repo / "model.py").write_text("SCALE = 2.0  # uncommitted\n")
    done = run_cli("run", str(spec), cwd=repo)  # default store and runs folder: inside the repository
    assert done.returncode == 0, done.stderr
    url = f"sqlite:///{repo / 'tunebook.db'}"
    trials = all_trials(url)
    assert len(trials) == 3 and len({t.code_version_id for t in trials}) == 1 and trials[0].code_version_id
    assert count_versions(url) == 1
    with SQLStore(url) as store:
        version = store.get_code_version(trials[0].code_version_id)
    assert (version.commit, version.dirty) == (sh(repo, "rev-parse", "HEAD"), True)
    assert version.info["git"]["root"] == str(repo.resolve()) and version.not_exact == []
    assert "+SCALE = 2.0  # uncommitted" in version.diff
    assert "untracked" not in version.info["git"]  # the store and the runs folder are not code

    rebuilt = materialize(version, tmp_path / "rerun")
    for trial in trials:  # the rebuilt code gives each trial's result again
        out = subprocess.run([sys.executable, "train.py", str(trial.params["lr"])], cwd=rebuilt,
                             capture_output=True, text=True, check=True).stdout.splitlines()
        assert min(json.loads(line)["valid_loss"] for line in out) == trial.objective


def test_new_trials_after_a_commit_get_the_new_version(tmp_path: Path) -> None:
    spec = project(tmp_path / "project")
    repo = spec.parent
    url = f"sqlite:///{tmp_path / 'outside.db'}"
    assert run_cli("run", str(spec), "--store", url, "--trials", "2", cwd=repo).returncode == 0
    assert run_cli("run", str(spec), "--store", url, "--trials", "2", cwd=repo).returncode == 0  # nothing new
    assert count_versions(url) == 1
    (repo / "model.py").write_text("SCALE = 3.0\n")
    sh(repo, "commit", "-q", "-am", "scale 3")
    assert run_cli("run", str(spec), "--store", url, "--trials", "4", cwd=repo).returncode == 0
    trials = all_trials(url)
    with SQLStore(url) as store:
        commits = [store.get_code_version(t.code_version_id).commit for t in trials]
    assert commits[:2] == [sh(repo, "rev-parse", "HEAD~1")] * 2
    assert commits[2:] == [sh(repo, "rev-parse", "HEAD")] * 2
    assert [t.objective / t.params["lr"] for t in trials] == pytest.approx([0.5, 0.5, 1.5, 1.5])  # SCALE / 2


def test_a_run_whose_code_cannot_be_recorded_exactly_says_so(tmp_path: Path) -> None:
    spec = project(tmp_path / "project")
    repo = spec.parent
    (repo / "data.csv").write_text("x,y\n" * 30_000)  # 117 KiB, untracked: listed, its content not stored
    done = run_cli("run", str(spec), "--store", f"sqlite:///{tmp_path / 's.db'}", "--trials", "1", cwd=repo)
    assert done.returncode == 0, done.stderr
    said = " ".join((done.stdout + done.stderr).split())
    assert ("this run's code cannot be rerun exactly: changes not stored: data.csv (untracked, 117.2 KiB > 64.0 KiB) "
            "(commit the changes, or .gitignore what is not code, to record it in full)") in said
