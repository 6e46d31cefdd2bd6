"""The code version of a run: what produced its trials, recorded once per ``tunebook run``, and rebuilt on demand.

``capture(paths)`` reads, without changing anything, the git state of the
repositories holding ``paths`` (the training program, the workdir, the spec
file), the uncommitted diff, and the software around them (tunebook, Python,
platform, host, ML packages). It never fails a run: whatever cannot be read is
recorded under ``problems`` with the reason. ``materialize(version, dest)``
makes a fresh clone of the recorded commit with the diff applied, for a rerun.

The diff (``execution.worktree_diff``) holds staged, unstaged and small
untracked changes, capped in size. Whenever something is left out,
``info["not_exact"]`` says what, and a rerun of that version cannot reproduce
the code exactly.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from tunebook.core.errors import TunebookError
from tunebook.core.records import CodeVersion
from tunebook.execution.git import GitFailed, git, git_text, repository_root, without_credentials
from tunebook.execution.software import software
from tunebook.execution.worktree_diff import DIFF_MAX_BYTES, UNTRACKED_MAX_BYTES, untracked_files, working_diff

__all__ = ["DIFF_MAX_BYTES", "UNTRACKED_MAX_BYTES", "CodeVersionError", "capture", "materialize", "record_code_version",
           "relocate", "run_paths"]

if TYPE_CHECKING:
    from tunebook.core.experiment import Experiment
    from tunebook.core.run_spec import RunConfig
    from tunebook.storage.base import Store

NAMES_SHOWN = 10  # file names listed in a note before "and N more"
SCRIPT_SUFFIXES = (".py", ".sh", ".bash", ".jl", ".r", ".lua", ".pl")


class CodeVersionError(TunebookError, RuntimeError):
    """A recorded code version cannot be rebuilt: the repository is gone, the commit unknown, or the diff does not apply."""


# -- capture ---------------------------------------------------------------

def capture(paths: Iterable[Path | str], exclude: Iterable[Path | str] = ()) -> tuple[dict[str, Any], str | None]:
    """``(info, diff)`` describing the code that ``paths`` belong to; never raises.

    The first path (in the given order) that lies in a git work tree names the
    recorded repository (``info["git"]``); other repositories holding later
    paths are summarised under ``info["other_repositories"]`` (commit and dirty
    flag; their diffs are not stored, so a dirty one makes the version not
    exact). ``diff`` is None when the recorded tree is clean or there is none.
    Untracked files at or under an ``exclude`` path (tunebook's own store and
    runs folder), or whose name starts with one (``tunebook.db-wal``), are not
    part of the code: they neither make a tree dirty nor enter the diff.
    """
    problems: list[str] = []
    roots = _repository_roots(paths, problems)
    skip = tuple(str(Path(p).resolve()) for p in exclude)
    info: dict[str, Any] = {}
    diff = None
    if roots:
        info["git"], untracked = _repository_summary(roots[0], skip, problems)
        if info["git"]["dirty"]:
            info["git"], diff = working_diff(info["git"], untracked, problems)
        others = [_repository_summary(root, skip, problems)[0] for root in roots[1:]]
        if others:
            info["other_repositories"] = others
    info.update(software())
    not_exact = _not_exact(info, problems)
    if not_exact:
        info["not_exact"] = not_exact
    if problems:
        info["problems"] = problems
    return info, diff


def _repository_roots(paths: Iterable[Path | str], problems: list[str]) -> list[Path]:
    """The distinct repository roots holding ``paths``, in the order of the paths first in each."""
    roots: list[Path] = []
    asked: dict[Path, Path | None] = {}  # folder -> its root: the program, workdir and spec often share one
    for path in paths:
        path = Path(path).resolve()
        if not path.exists():
            problems.append(f"{path} does not exist; its repository is not recorded")
            continue
        folder = path if path.is_dir() else path.parent
        try:
            root = asked[folder] if folder in asked else asked.setdefault(folder, repository_root(folder))
        except GitFailed as exc:
            problems.append(f"{path}: {exc}")
            continue
        if root is not None and root not in roots:
            roots.append(root)
    return roots


def _repository_summary(
    root: Path, skip: tuple[str, ...], problems: list[str]
) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    """Root, commit, branch, dirty flag and remote of the work tree at ``root``; its untracked files (name, size)."""
    summary: dict[str, Any] = {"root": str(root), "commit": None, "branch": None, "dirty": None, "remote": None}
    try:
        summary["commit"] = git_text(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}") or None
    except GitFailed as exc:
        if exc.returncode != 1:  # 1: no commits yet, a normal case
            problems.append(f"{root}: cannot read the commit: {exc}")
    if summary["commit"] is None:
        summary["no_commit"] = "the repository has no commits yet"
    try:
        branch = git_text(root, "symbolic-ref", "--quiet", "--short", "HEAD")
        summary["branch"] = branch or None
    except GitFailed:
        summary["branch"] = None  # detached HEAD
    untracked = untracked_files(root, skip, problems)
    try:
        changed = git(root, "status", "--porcelain=v1", "-z", "--untracked-files=no").strip()
        summary["dirty"] = bool(changed or untracked)
    except GitFailed as exc:
        problems.append(f"{root}: cannot tell whether the tree is dirty: {exc}")
    summary["remote"] = _remote(root, summary["branch"])
    return summary, untracked


def _remote(root: Path, branch: str | None) -> str | None:
    """The URL of the branch's upstream remote, else ``origin``, else the first remote; credentials removed."""
    try:
        names = git_text(root, "remote").split()
        preferred = []
        if branch:
            preferred.append(git(root, "config", "--get", f"branch.{branch}.remote", ok=(0, 1)).decode().strip())
        for name in [*preferred, "origin", *names]:
            if name in names:
                return without_credentials(git_text(root, "remote", "get-url", name))
    except GitFailed:
        return None
    return None


def _not_exact(info: Mapping[str, Any], problems: list[str]) -> list[str]:
    """Why a rerun of this version would not have exactly the captured code; [] when it would."""
    recorded = info.get("git")
    if not recorded:
        return ["no git repository holds the spec or the training program: the code itself is not recorded"]
    reasons = []
    if recorded.get("commit") is None:
        reasons.append(f"{recorded['root']} has no commits yet: there is no commit to check out")
    if recorded.get("diff_note"):
        reasons.append(recorded["diff_note"])
    left_out = recorded.get("left_out") or []
    if left_out:
        shown = ", ".join(left_out[:NAMES_SHOWN]) + (f" and {len(left_out) - NAMES_SHOWN} more" if len(left_out) > NAMES_SHOWN else "")
        reasons.append(f"changes not stored: {shown}")
    for other in info.get("other_repositories") or []:
        if other.get("dirty") is not False:
            reasons.append(f"{other['root']} (another repository holding the run's files) is dirty or unreadable: "
                           "its changes are not stored")
    reasons += [f"capture problem: {p}" for p in problems if p.startswith(str(recorded["root"]))]
    return reasons


def record_code_version(store: Store, experiment: Experiment, config: RunConfig, workdir: Path, runs_dir: Path,
                        notices: list[str] | None = None) -> int:
    """Capture the code of a run (program, workdir, spec file) and store it; the version's id.

    The runs folder and a SQLite store's files are tunebook's output, not code: they are left out.
    When the code is in a repository but could not be recorded exactly (a cut diff, big untracked
    files), a line saying so and how to fix it is appended to ``notices``.
    """
    paths = run_paths(workdir, experiment.source, config.function, config.command)
    exclude = [runs_dir]
    if store.url.startswith("sqlite:///"):
        exclude.append(Path(store.url[len("sqlite:///"):].partition("?")[0]))  # and its -wal, -shm files
    info, diff = capture(paths, exclude)
    if info.get("git") and info.get("not_exact") and notices is not None:
        notices.append("this run's code cannot be rerun exactly: " + "; ".join(info["not_exact"])
                       + " (commit the changes, or .gitignore what is not code, to record it in full)")
    return store.add_code_version(info, diff)


def run_paths(workdir: Path, spec_file: str | Path | None, function: str | None,
              command: str | tuple[str, ...] | None) -> list[Path]:
    """The files and folders whose repositories describe a run, the training program first.

    The program is ``run.function``'s module file under ``workdir``, or the
    arguments of ``run.command`` that are script files (``.py``, ``.sh``, ...)
    or a ``-m`` module under ``workdir``; then ``workdir``; then the spec file.
    """
    found: list[Path] = []
    if function:
        found += _module_file(workdir, function.split(":", 1)[0])
    if command:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        for i, arg in enumerate(argv):
            if "{" in arg:
                continue
            if arg.lower().endswith(SCRIPT_SUFFIXES) and (workdir / arg).is_file():
                found.append((workdir / arg).resolve())
            elif arg == "-m" and i + 1 < len(argv):
                found += _module_file(workdir, argv[i + 1])
    found.append(workdir)
    if spec_file:
        found.append(Path(spec_file).resolve())
    return found


def _module_file(workdir: Path, module: str) -> list[Path]:
    base = workdir.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return [candidate.resolve()]
    return []


# -- materialize -----------------------------------------------------------

def materialize(version: CodeVersion, dest: Path | str) -> Path:
    """A fresh clone of ``version``'s commit in ``dest`` with its diff applied; the clone's root.

    The clone comes from the recorded repository root when it still exists
    (local, so unpushed commits are there), else from its remote. The user's own
    tree is never touched. ``dest`` must not exist or be empty. Raises
    CodeVersionError naming what failed: no repository or commit recorded, the
    repository gone, the commit unknown to it, or the diff not applying.
    Applying a version whose ``not_exact`` is non-empty gives the closest tree
    that was stored; the caller says so.
    """
    dest = Path(dest).resolve()
    recorded, where = version.git, f"code version {version.id}"
    if not recorded:
        raise CodeVersionError(f"{where} records no git repository: {'; '.join(version.not_exact) or 'none found'}")
    commit = recorded.get("commit")
    if not commit:
        raise CodeVersionError(f"{where} records no commit: {recorded.get('root')} had no commits yet")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise CodeVersionError(f"cannot materialize {where} into {dest}: it exists and is not an empty folder")
    try:
        _clone_with_commit(recorded, commit, dest, where)
        _check_out(version, commit, dest, where)
    except BaseException:
        _remove(dest)  # a failed rebuild leaves nothing half-made behind
        raise
    return dest


def relocate(version: CodeVersion, path: Path | str, materialized: Path | str) -> Path:
    """Where ``path`` (a file or folder of the recorded repository, e.g. the spec file) lies in a tree that
    ``materialize`` made at ``materialized``. CodeVersionError when ``path`` is outside the recorded repository."""
    root = version.git.get("root")
    resolved = Path(path).resolve()
    if not root or not resolved.is_relative_to(root):
        raise CodeVersionError(f"{resolved} is not in the repository recorded by code version {version.id} "
                               f"({root or 'none'}): its recorded code does not hold it")
    return Path(materialized) / resolved.relative_to(root)


def _check_out(version: CodeVersion, commit: str, dest: Path, where: str) -> None:
    """Check ``commit`` out in the clone at ``dest`` and apply the version's diff."""
    source = f"commit {commit[:12]} of {version.git.get('root')}"
    try:
        git(dest, "checkout", "--quiet", "--detach", commit)
    except GitFailed as exc:
        raise CodeVersionError(f"{where}: cannot check out {source}: {exc}") from None
    if version.diff:
        try:
            git(dest, "apply", "--binary", "--whitespace=nowarn", "-", input=version.diff.encode("utf-8"))
        except GitFailed as exc:
            raise CodeVersionError(f"{where}: the recorded diff does not apply to {source}: {exc}") from None


def _clone_with_commit(recorded: Mapping[str, Any], commit: str, dest: Path, where: str) -> None:
    """Clone into ``dest`` from the first source (root, then remote) that holds ``commit``."""
    sources = [s for s in (recorded.get("root"), recorded.get("remote")) if s]
    tried = []
    for source in sources:
        if source == recorded.get("root") and not (Path(source) / ".git").exists():
            tried.append(f"{source}: no longer a git repository")
            continue
        try:
            git(dest.parent if dest.parent.exists() else Path.cwd(), "clone", "--quiet", "--no-checkout",
                str(source), str(dest), timeout=600)
        except GitFailed as exc:
            tried.append(f"{source}: {exc}")
            continue
        try:
            git(dest, "cat-file", "-e", f"{commit}^{{commit}}")
            return
        except GitFailed:
            tried.append(f"{source}: commit {commit[:12]} is not in it (history rewritten, or never pushed?)")
            _remove(dest)
    raise CodeVersionError(f"cannot rebuild {where}: the recorded repository is gone or lacks its commit: "
                           + "; ".join(tried or ["no repository root or remote recorded"]))


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
