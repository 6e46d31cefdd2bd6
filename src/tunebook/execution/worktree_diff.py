"""The uncommitted change of a work tree as one ``git apply``-able diff, capped in size, secrets left out.

The diff is ``git diff HEAD`` (staged and unstaged changes) plus one patch per
untracked, not ignored file of at most ``UNTRACKED_MAX_BYTES``; larger ones,
and those whose names say they may hold secrets (``SECRET_NAMES``), are listed
by name only. Whole file patches are kept in order up to ``DIFF_MAX_BYTES`` in
all, so what is stored still applies; everything left out is named.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any

from tunebook.core.provenance import size_text
from tunebook.execution.git import DIFF_OPTIONS, GitFailed, git

DIFF_MAX_BYTES = 1 << 20  # the whole stored diff
UNTRACKED_MAX_BYTES = 64 << 10  # one untracked file's content
# untracked files listed by name only, whatever their size: their content may be a credential
SECRET_NAMES = (
    ".env", ".env.*", "*.pem", "*.key", "*.p12", "*.pfx", "id_rsa", "id_rsa.*", "id_ed25519*", "id_ecdsa*", ".netrc",
    ".pgpass", ".pypirc", ".git-credentials", "credentials", "*credentials*.json", "secrets.*", "*.secret",
)


def working_diff(
    summary: dict[str, Any], untracked: list[tuple[str, int]], problems: list[str]
) -> tuple[dict[str, Any], str | None]:
    """The dirty repository's ``summary`` (root, commit, ...) with its diff's sizes and notes; the diff to store.

    ``untracked``: (name, size) of its untracked files. Adds ``untracked``,
    ``diff_bytes``, ``diff_stored_bytes``, and when something is left out
    ``left_out`` and (when bytes were cut) ``diff_note``.
    """
    summary, root = dict(summary), Path(summary["root"])
    patches, left_out = _tracked_patches(root, summary["commit"], problems), []
    if untracked:
        summary["untracked"] = [name for name, _ in untracked]
    for name, size in untracked:
        if _may_hold_secrets(name):
            left_out.append(f"{name} (untracked, may hold secrets: its content is never stored)")
        elif size > UNTRACKED_MAX_BYTES:
            left_out.append(f"{name} (untracked, {size_text(size)} > {size_text(UNTRACKED_MAX_BYTES)})")
        else:
            patches += _untracked_patch(root, name, problems, left_out)
    diff, cut = _capped(patches)
    left_out += cut
    total = sum(len(patch) for _, patch in patches)
    summary["diff_bytes"] = total
    summary["diff_stored_bytes"] = len(diff.encode())
    if summary["diff_stored_bytes"] < total:
        summary["diff_note"] = (
            f"diff cut: {size_text(total)} of changes, {size_text(summary['diff_stored_bytes'])} stored, "
            f"{size_text(total - summary['diff_stored_bytes'])} left out"
        )
    if left_out:
        summary["left_out"] = left_out
    return summary, diff or None


def _tracked_patches(root: Path, commit: str | None, problems: list[str]) -> list[tuple[str, bytes]]:
    """``git diff HEAD`` (staged and unstaged changes), one (file, patch) per file; staged files when no commit yet."""
    args = ["diff", *DIFF_OPTIONS, "HEAD"] if commit else ["diff", *DIFF_OPTIONS, "--cached"]
    try:
        return _split_patches(git(root, *args, "--"))
    except GitFailed as exc:
        problems.append(f"{root}: cannot read the uncommitted diff: {exc}")
        return []


def untracked_files(root: Path, skip: tuple[str, ...], problems: list[str]) -> list[tuple[str, int]]:
    """(path relative to ``root``, size in bytes) of each untracked file that is neither ignored nor skipped."""
    try:
        listed = git(root, "ls-files", "--others", "--exclude-standard", "-z").split(b"\0")
    except GitFailed as exc:
        problems.append(f"{root}: cannot list untracked files: {exc}")
        return []
    found = []
    for raw in listed:
        name = os.fsdecode(raw)
        if _is_code(name) and not str(root / name).startswith(skip):
            try:
                found.append((name, (root / name).lstat().st_size))
            except OSError:
                continue  # removed since git listed it
    return found


def _may_hold_secrets(name: str) -> bool:
    """Whether an untracked file's name says it may hold credentials (``.env``, keys, ``.netrc``, ...)."""
    base = name.rsplit("/", 1)[-1].lower()
    return any(fnmatch.fnmatch(base, pattern) for pattern in SECRET_NAMES)


def _is_code(name: str) -> bool:
    """False for Python's bytecode caches and for a nested repository (listed as ``sub/``)."""
    return bool(name) and not name.endswith(("/", ".pyc")) and "__pycache__/" not in name


def _untracked_patch(root: Path, name: str, problems: list[str], left_out: list[str]) -> list[tuple[str, bytes]]:
    """The patch that creates the untracked file ``name`` (``git diff --no-index /dev/null NAME``)."""
    try:
        return _split_patches(git(root, "diff", "--no-index", *DIFF_OPTIONS, "--", "/dev/null", name, ok=(0, 1)))
    except GitFailed as exc:
        problems.append(f"{root}: cannot read untracked file {name}: {exc}")
        left_out.append(f"{name} (untracked, unreadable)")
        return []


def _split_patches(diff: bytes) -> list[tuple[str, bytes]]:
    """A multi-file diff as (file name, patch bytes), one per ``diff --git`` header."""
    patches: list[tuple[str, bytes]] = []
    for block in diff.split(b"\ndiff --git "):
        if not block.strip():
            continue
        text = block if block.startswith(b"diff --git ") else b"diff --git " + block
        header = text.split(b"\n", 1)[0].decode("utf-8", "replace")
        name = header.rsplit(" b/", 1)[-1]
        patches.append((name, text if text.endswith(b"\n") else text + b"\n"))
    return patches


def _capped(patches: list[tuple[str, bytes]]) -> tuple[str, list[str]]:
    """The patches that fit in ``DIFF_MAX_BYTES`` joined as text, and what was left out (file and why).

    Whole file patches are kept or dropped, so what is stored still applies. A
    patch that is not UTF-8 text (a source file in another encoding) cannot be
    stored as text and is left out too.
    """
    kept, cut, size = [], [], 0
    for name, patch in patches:
        try:
            text = patch.decode("utf-8")
        except UnicodeDecodeError:
            cut.append(f"{name} (not UTF-8 text)")
            continue
        if size + len(patch) > DIFF_MAX_BYTES:
            cut.append(f"{name} (over the {size_text(DIFF_MAX_BYTES)} cap)")
            continue
        kept.append(text)
        size += len(patch)
    return "".join(kept), cut
