"""``tunebook rerun``: a trial run from a dirty git tree comes back exactly, from its recorded code version."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tunebook.core.states import TrialState
from tunebook.storage import SQLStore

from ..execution.harness import LINE_REGEX, run_cli, run_here, store_url, trials_by_study, write_program, write_spec

# Deterministic for a given seed; SHIFT (in model.py) moves every value, so the code that ran is visible in the result.
PROGRAM = """
import json, os, random
from model import SHIFT
params = json.loads(os.environ["TUNEBOOK_PARAMS"])
rng = random.Random(params["seed"])
loss = 1.0
for step in range(0, 50, 10):
    loss = loss * (1 - params["lr"]) + rng.random() * 0.05 + SHIFT
    print(f"step {step} train loss: {loss!r} valid loss: {loss + 0.1!r}")
"""


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=folder,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def dirty_project(folder: Path) -> Path:
    """A committed project whose model.py then changes without a commit; the spec's path."""
    folder.mkdir()
    write_program(folder, "train.py", PROGRAM)
    write_program(folder, "model.py", "SHIFT = 0.0\n")
    nuisance = {"lr": {"low": 0.01, "high": 0.5, "scale": "log"}, "seed": {"low": 0, "high": 99, "type": "int"}}
    spec = write_spec(folder, {"command": "python train.py", "metrics": [LINE_REGEX]}, trials=2, nuisance=nuisance)
    (folder / ".gitignore").write_text("tunebook.db*\nruns/\n")
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "first")
    (folder / "model.py").write_text("SHIFT = 0.25  # uncommitted\n")
    return spec


def test_a_trial_from_a_dirty_tree_reruns_exactly_on_its_recorded_code(tmp_path):
    spec = dirty_project(tmp_path / "project")
    repo, url = spec.parent, store_url(spec.parent)
    run_here(spec, url, repo / "runs")
    (repo / "model.py").write_text("SHIFT = 0.5  # changed again since the run\n")
    source = trials_by_study(url)["default"][1]

    done = run_cli("rerun", "exp/default/1", "--store", url, "--runs", str(repo / "runs"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (rerun,) = trials_by_study(url)["rerun:default:1"]
    assert (rerun.state, rerun.params, rerun.objective, rerun.best_step) == (
        TrialState.COMPLETE, source.params, source.objective, source.best_step)  # bit for bit
    assert rerun.code_version_id == source.code_version_id  # it ran on that version, rebuilt
    with SQLStore(url) as store:
        (linked,) = [s for s in store.list_studies(store.get_experiment("exp").id) if s.source_trial_id]
    assert (linked.key, linked.source_trial_id) == ("rerun:default:1", source.id)
    assert f"result: matches exactly (objective {source.objective!r}, bit for bit)" in done.stdout
    assert "dirty: " in done.stdout and "diff stored" in done.stdout
    assert (repo / "model.py").read_text() == "SHIFT = 0.5  # changed again since the run\n"  # the user's tree
    assert git(repo, "status", "--porcelain") == "M model.py"  # ... untouched: no worktree, no stash

    # with the code as it is now, the same command would not have matched: the rebuilt tree mattered
    current = run_cli("rerun", "exp/default/1", "--store", url, "--runs", str(repo / "runs"), "--keep",
                      str(tmp_path / "kept"), cwd=tmp_path)
    assert current.returncode == 0, current.stderr
    assert (tmp_path / "kept" / "model.py").read_text() == "SHIFT = 0.25  # uncommitted\n"
    assert [t.number for t in trials_by_study(url)["rerun:default:1"]] == [0, 1]  # each rerun adds one


def test_without_a_recorded_version_it_reruns_on_the_current_tree_and_says_it_may_differ(tmp_path):
    spec = dirty_project(tmp_path / "project")
    repo, url = spec.parent, store_url(spec.parent)
    run_here(spec, url, repo / "runs")
    with SQLStore(url) as store, store.engine.begin() as conn:  # a trial from before versions were recorded
        conn.exec_driver_sql("UPDATE trials SET code_version_id = NULL")
    (repo / "model.py").write_text("SHIFT = 0.5\n")
    done = run_cli("rerun", "exp/default/0", "--store", url, "--runs", str(repo / "runs"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warning: no code version is recorded for this trial" in done.stderr
    assert "result: does not match: rerun - source = 0." in done.stdout  # the current SHIFT moved it
    assert "the program is not deterministic for a fixed seed, or its code, data or software differ" in done.stdout


def test_an_unknown_trial_is_a_clear_error(tmp_path):
    spec = dirty_project(tmp_path / "project")
    url = store_url(spec.parent)
    run_here(spec, url, spec.parent / "runs")
    done = run_cli("rerun", "exp/default/9", "--store", url, cwd=tmp_path)
    assert done.returncode == 1 and "error: exp/default/9: study 'default' has no trial 9" in done.stderr
    assert "Traceback" not in done.stderr and "rerun:default:9" not in str(trials_by_study(url))
