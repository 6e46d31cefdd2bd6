"""Code versions on real git repositories made in tmp_path: what ``capture`` records, what ``materialize`` rebuilds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tunebook.core.records import CodeVersion
from tunebook.execution import code_version
from tunebook.execution.code_version import CodeVersionError, capture, materialize, run_paths
from tunebook.execution.git import without_credentials


def sh(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def new_repo(folder: Path, files: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    sh(folder, "init", "-q", "-b", "main")
    for name, text in (files or {"train.py": "print('v1')\n", "lib/model.py": "WIDTH = 8\n"}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    sh(folder, "add", "-A")
    sh(folder, "commit", "-q", "-m", "first")
    return folder


def version_of(info: dict, diff: str | None, version_id: int = 1) -> CodeVersion:
    return CodeVersion(id=version_id, digest="x" * 64, info=info, diff=diff, created_at=datetime.now(timezone.utc))


def tree_files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` but git's own and ignored ones, as bytes."""
    ignored = set(sh(root, "ls-files", "--others", "--ignored", "--exclude-standard").splitlines())
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts and str(p.relative_to(root)) not in ignored
    }


def make_dirty(repo: Path) -> None:
    """Staged, unstaged, untracked (text and binary), deleted and ignored changes."""
    (repo / "train.py").write_text("print('v2, unstaged')\n")
    (repo / "lib/model.py").write_text("WIDTH = 16\n")
    sh(repo, "add", "lib/model.py")  # staged
    (repo / "lib/model.py").write_text("WIDTH = 16\nDEPTH = 3  # then edited again, unstaged\n")
    (repo / "notes.txt").write_text("untracked text\n")
    (repo / "lib/weights.bin").write_bytes(bytes(range(256)) * 4)  # untracked binary
    (repo / ".gitignore").write_text("*.log\n")
    (repo / "run.log").write_text("ignored\n")


def test_clean_repository_records_commit_branch_and_remote_without_credentials(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    sh(repo, "remote", "add", "origin", "https://oauth2:s3cret@example.com/team/repo.git")
    info, diff = capture([repo / "train.py", repo])
    assert diff is None
    recorded = info["git"]
    assert recorded["commit"] == sh(repo, "rev-parse", "HEAD")
    assert (recorded["branch"], recorded["dirty"], recorded["root"]) == ("main", False, str(repo.resolve()))
    assert recorded["remote"] == "https://example.com/team/repo.git"
    assert "not_exact" not in info and "problems" not in info
    assert info["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert info["packages"]["numpy"]  # installed here: its version is read


def test_dirty_tree_records_staged_unstaged_and_untracked_changes(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    make_dirty(repo)
    (repo / "lib/__pycache__").mkdir()
    (repo / "lib/__pycache__/model.cpython-311.pyc").write_bytes(b"\0cache")  # never code
    (repo / "store.db-wal").write_text("tunebook's own output")  # excluded by the caller
    info, diff = capture([repo], exclude=[repo / "store.db"])
    recorded = info["git"]
    assert recorded["dirty"] is True
    assert sorted(recorded["untracked"]) == [".gitignore", "lib/weights.bin", "notes.txt"]
    assert "DEPTH = 3" in diff and "WIDTH = 16" in diff and "v2, unstaged" in diff and "untracked text" in diff
    assert "GIT binary patch" in diff and "run.log" not in diff
    assert recorded["diff_bytes"] == recorded["diff_stored_bytes"] == len(diff.encode())
    assert "not_exact" not in info
    assert sh(repo, "diff", "--cached", "--name-only") == "lib/model.py"  # the user's index is as it was


def test_materialize_rebuilds_the_dirty_tree_and_leaves_the_users_alone(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    make_dirty(repo)
    (repo / "lib/deleted.py").write_text("x = 1\n")
    sh(repo, "add", "lib/deleted.py")
    sh(repo, "commit", "-q", "-m", "add a file the dirty tree then deletes")
    (repo / "lib/deleted.py").unlink()
    expected, status_before = tree_files(repo), sh(repo, "status", "--porcelain")
    version = version_of(*capture([repo]))
    (repo / "train.py").write_text("print('edited after the run')\n")  # later work must not leak in
    built = materialize(version, tmp_path / "rerun")
    assert built == (tmp_path / "rerun").resolve()
    assert tree_files(built) == expected
    assert sh(built, "rev-parse", "HEAD") == version.commit
    assert code_version.relocate(version, repo / "lib/model.py", built).read_text() == (repo / "lib/model.py").read_text()
    with pytest.raises(CodeVersionError, match="is not in the repository recorded by code version 1"):
        code_version.relocate(version, tmp_path, built)
    (repo / "train.py").write_text("print('v2, unstaged')\n")
    assert sh(repo, "status", "--porcelain") == status_before
    assert len(sh(repo, "worktree", "list").splitlines()) == 1


def test_outside_any_repository_is_recorded_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("print(1)\n")
    info, diff = capture([tmp_path / "train.py", tmp_path / "missing.yaml"])
    assert diff is None and "git" not in info
    assert "no git repository" in info["not_exact"][0]
    assert any("missing.yaml does not exist" in p for p in info["problems"])
    with pytest.raises(CodeVersionError, match="records no git repository"):
        materialize(version_of(info, diff, 7), tmp_path / "rerun")


def test_untracked_files_that_may_hold_secrets_are_named_not_stored(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    (repo / ".env").write_text("WANDB_API_KEY=abc123\n")
    (repo / "deploy.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    (repo / "tokenizer.py").write_text("VOCAB = 100\n")  # code, whatever its name
    info, diff = capture([repo])
    assert "abc123" not in diff and "PRIVATE KEY" not in diff and "VOCAB = 100" in diff
    assert sorted(info["git"]["untracked"]) == [".env", "deploy.pem", "tokenizer.py"]
    assert "changes not stored: .env (untracked, may hold secrets: its content is never stored), deploy.pem" in \
        info["not_exact"][0]


def test_no_commits_yet_and_detached_head(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    sh(empty, "init", "-q")
    (empty / "train.py").write_text("print(1)\n")
    info, diff = capture([empty])
    assert info["git"]["commit"] is None and info["git"]["dirty"] is True
    assert "train.py" in diff and "no commits yet" in info["not_exact"][0]
    with pytest.raises(CodeVersionError, match="records no commit"):
        materialize(version_of(info, diff), tmp_path / "rerun")

    repo = new_repo(tmp_path / "repo")
    first = sh(repo, "rev-parse", "HEAD")
    (repo / "train.py").write_text("print('v2')\n")
    sh(repo, "commit", "-q", "-am", "second")
    sh(repo, "checkout", "-q", "--detach", first)
    info, diff = capture([repo])
    assert (info["git"]["commit"], info["git"]["branch"], info["git"]["dirty"], diff) == (first, None, False, None)


def test_huge_diff_is_cut_at_file_boundaries_with_a_note(tmp_path: Path) -> None:
    names = [f"data{i}.txt" for i in range(4)]
    repo = new_repo(tmp_path / "repo", {name: "old\n" for name in names})
    for i, name in enumerate(names):  # ~0.3 MiB of changes each: three fit in 1 MiB, not four
        (repo / name).write_text("".join(f"line {i} {n}\n" for n in range(22_000)))
    (repo / "big_untracked.csv").write_text("x" * (70 << 10))
    info, diff = capture([repo])
    recorded = info["git"]
    assert recorded["diff_stored_bytes"] == len(diff.encode()) <= code_version.DIFF_MAX_BYTES
    assert recorded["diff_bytes"] > code_version.DIFF_MAX_BYTES > recorded["diff_stored_bytes"] > 0.75 * (1 << 20)
    assert re.fullmatch(r"diff cut: 1\.\d MiB of changes, \d+\.\d KiB stored, \d+\.\d KiB left out",
                        recorded["diff_note"])
    assert recorded["untracked"] == ["big_untracked.csv"] and "big_untracked" not in diff
    reasons = " | ".join(info["not_exact"])
    assert "diff cut" in reasons and "big_untracked.csv (untracked, 70.0 KiB > 64.0 KiB)" in reasons
    assert "over the 1.0 MiB cap" in reasons
    built = materialize(version_of(info, diff), tmp_path / "rerun")  # what was kept still applies
    changed = [name for name in names if (built / name).read_text() != "old\n"]
    assert len(changed) == 3
    assert all((built / name).read_text() == (repo / name).read_text() for name in changed)


def test_two_repositories_record_the_programs_and_summarise_the_other(tmp_path: Path) -> None:
    code = new_repo(tmp_path / "code")
    specs = new_repo(tmp_path / "specs", {"spec.yaml": "name: x\n"})
    (specs / "spec.yaml").write_text("name: y\n")
    info, _ = capture([code / "train.py", code, specs / "spec.yaml"])
    assert info["git"]["root"] == str(code.resolve())
    assert [(o["root"], o["dirty"]) for o in info["other_repositories"]] == [(str(specs.resolve()), True)]
    assert "is dirty or unreadable" in info["not_exact"][0]


def test_missing_git_never_fails_capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = new_repo(tmp_path / "repo")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    info, diff = capture([repo])
    assert diff is None and "git" not in info
    assert "git is not installed" in info["problems"][0]
    assert info["tunebook"] and info["host"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give a repository away")
def test_a_repository_git_refuses_to_read_is_a_recorded_problem(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    for path in [repo, *repo.rglob("*")]:
        os.lchown(path, 65534, 65534)  # nobody's: git calls it dubious ownership
    info, diff = capture([repo])
    assert diff is None and "git" not in info
    assert info["problems"] == [f"{repo.resolve()}: git rev-parse failed: fatal: detected dubious ownership in "
                                f"repository at '{repo.resolve()}'"]


def test_materialize_names_what_is_wrong(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    (repo / "train.py").write_text("print('v2')\n")
    info, diff = capture([repo])
    assert materialize(version_of(info, diff), tmp_path / "ok").joinpath("train.py").read_text() == "print('v2')\n"

    broken = diff.replace("-print('v1')", "-print('something else')")
    with pytest.raises(CodeVersionError, match="the recorded diff does not apply to commit"):
        materialize(version_of(info, broken), tmp_path / "a")
    unknown = {**info, "git": {**info["git"], "commit": "0" * 40}}
    with pytest.raises(CodeVersionError, match="commit 000000000000 is not in it"):
        materialize(version_of(unknown, diff), tmp_path / "b")
    with pytest.raises(CodeVersionError, match="exists and is not an empty folder"):
        materialize(version_of(info, diff), tmp_path / "ok")
    gone = tmp_path / "repo-moved"
    repo.rename(gone)
    with pytest.raises(CodeVersionError, match=f"gone.*{re.escape(str(repo.resolve()))}: no longer a git repository"):
        materialize(version_of(info, diff), tmp_path / "c")
    assert not any((tmp_path / name).exists() for name in "abc")  # a failed rebuild leaves nothing behind


def test_materialize_clones_the_remote_when_the_root_is_gone(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    remote = tmp_path / "remote.git"
    sh(tmp_path, "init", "-q", "--bare", str(remote))
    sh(repo, "remote", "add", "origin", str(remote))
    sh(repo, "push", "-q", "origin", "main")
    (repo / "lib/model.py").write_text("WIDTH = 32\n")
    version = version_of(*capture([repo]))
    repo.rename(tmp_path / "elsewhere")
    built = materialize(version, tmp_path / "rerun")
    assert (built / "lib/model.py").read_text() == "WIDTH = 32\n"


def test_run_paths_put_the_program_first(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/main.py").write_text("")
    spec = tmp_path / "spec.yaml"
    command = "python train.py --lr {lr} --out {trial_dir}"
    assert run_paths(tmp_path, spec, None, command) == [tmp_path / "train.py", tmp_path, spec]
    assert run_paths(tmp_path, None, None, ("python", "-m", "pkg.main")) == [tmp_path / "pkg/main.py", tmp_path]
    assert run_paths(tmp_path, None, "pkg.main:train", None) == [tmp_path / "pkg/main.py", tmp_path]


@pytest.mark.parametrize("url, safe", [
    ("https://oauth2:tok@github.com/a/b.git", "https://github.com/a/b.git"),
    ("https://ghp_token@github.com/a/b", "https://github.com/a/b"),
    ("ssh://git:pw@host:22/a/b", "ssh://git@host:22/a/b"),
    ("git@github.com:a/b.git", "git@github.com:a/b.git"),
    ("/srv/git/repo.git", "/srv/git/repo.git"),
])
def test_remote_urls_lose_their_credentials(url: str, safe: str) -> None:
    assert without_credentials(url) == safe


def test_package_versions_are_read_without_importing_them(tmp_path: Path) -> None:
    probe = ("import sys; from tunebook.execution.software import software; s = software(); "
             "print(s['packages'].get('torch'), 'torch' in sys.modules, 'numpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    version, torch_imported, numpy_imported = done.stdout.split()
    assert version != "None" and (torch_imported, numpy_imported) == ("False", "False")
