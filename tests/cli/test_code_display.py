"""What users read about code versions: ``tunebook trials`` (table, --show, --diff) and ``tunebook status``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ..execution.harness import run_cli
from ..execution.test_code_version import sh
from ..execution.test_code_version_run import project


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory) -> tuple[Path, str, list[str]]:
    """(repository, store URL, commits): 2 trials run on a dirty tree, then 2 more after committing the change."""
    spec = project(tmp_path_factory.mktemp("display") / "project")
    repo = spec.parent
    url = f"sqlite:///{repo.parent / 'store.db'}"
    (repo / "model.py").write_text("SCALE = 2.0  # uncommitted\n")
    assert run_cli("run", str(spec), "--store", url, "--trials", "2", cwd=repo).returncode == 0
    first = sh(repo, "rev-parse", "HEAD")
    sh(repo, "commit", "-q", "-am", "scale 2")
    assert run_cli("run", str(spec), "--store", url, "--trials", "4", cwd=repo).returncode == 0
    return repo, url, [first, sh(repo, "rev-parse", "HEAD")]


def test_trials_table_gets_a_code_column_when_versions_differ(two_versions) -> None:
    repo, url, (first, second) = two_versions
    done = run_cli("trials", "exp", "--store", url, cwd=repo)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if "default/" in line]
    assert len(rows) == 4
    assert all(f"{first[:7]} dirty" in row for row in rows[:2]) and all(second[:7] in row for row in rows[2:])
    assert not any(f"{second[:7]} dirty" in row for row in rows)


def test_show_names_the_code_and_the_command_that_reruns_it(two_versions) -> None:
    repo, url, (first, _) = two_versions
    done = run_cli("trials", "exp", "--show", "default/1", "--store", url, cwd=repo)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "trial default/1 of exp" in text
    assert f"code commit {first[:7]} (main), dirty: " in text and " B diff stored" in text
    assert f"repository {repo.resolve()}" in text and f"commit {first}" in text
    assert f"rerun tunebook rerun exp/default/1 --store {url}" in text and "not exactly" not in text

    row = json.loads(run_cli("trials", "exp", "--show", "default/1", "--store", url, "--format", "json",
                             cwd=repo).stdout)
    code = row["code_version"]
    assert (code["commit"], code["dirty"], code["exact"], row["trial"]) == (first, True, True, "default/1")
    assert code["diff_bytes"] > 0 and code["info"]["git"]["root"] == str(repo.resolve())
    assert row["rerun"] == f"tunebook rerun exp/default/1 --store {url}"


def test_show_diff_prints_a_patch_that_applies_to_its_commit(two_versions, tmp_path: Path) -> None:
    repo, url, (first, _) = two_versions
    done = run_cli("trials", "exp", "--show", "default/0", "--diff", "--store", url, cwd=repo)
    assert done.returncode == 0 and "+SCALE = 2.0  # uncommitted" in done.stdout
    sh(repo, "worktree", "add", "-q", "--detach", str(tmp_path / "check"), first)
    try:
        subprocess.run(["git", "apply", "--check", "-"], input=done.stdout, text=True, check=True, cwd=tmp_path / "check")
    finally:
        sh(repo, "worktree", "remove", "--force", str(tmp_path / "check"))
    clean = run_cli("trials", "exp", "--show", "default/3", "--diff", "--store", url, cwd=repo)
    assert clean.returncode == 0 and clean.stdout == "" and "produced by a clean tree" in clean.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--show", "default/9"], "error: --show 'default/9': study 'default' has no trial '9'; its trial numbers: 0..3"),
    (["--show", "nope/1"], "error: --show 'nope/1': experiment 'exp' has no study 'nope'; write STUDY/NUMBER with "
                           "one of its studies: default"),
    (["--diff"], "--diff needs --show STUDY/NUMBER"),
])
def test_a_bad_show_is_a_clear_error(two_versions, args: list[str], message: str) -> None:
    repo, url, _ = two_versions
    done = run_cli("trials", "exp", *args, "--store", url, cwd=repo)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert message in done.stderr and done.stdout == ""


def test_status_lists_the_versions_and_reruns_the_best_trial(two_versions) -> None:
    repo, url, (first, second) = two_versions
    done = run_cli("status", "--store", url, cwd=repo)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    code = next(line for line in lines if line.startswith("  code: "))
    assert code == f"  code: 2 versions: {first[:7]} dirty (2 trials), {second[:7]} (2 trials)"
    rows = json.loads(run_cli("status", "--store", url, "--format", "json", cwd=repo).stdout)
    best = rows[0]["best trial"].split(" ")[0]
    assert rows[0]["reproduce"] == f"tunebook rerun exp/{best} --store {url}"
    assert f"  reproduce: tunebook rerun exp/{best} --store {url} (the best trial)" in lines
    assert rows[0]["code"].startswith(f"commit {(first if best in ('default/0', 'default/1') else second)[:7]} (main)")
