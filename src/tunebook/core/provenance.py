"""How a trial's code version reads for users: a short cell, a summary for scripts, detail lines, the rerun command.

One wording for the trials table, ``tunebook trials --show``, ``tunebook
status`` and the report, so a version reads the same wherever it is shown.
A version that cannot be rebuilt exactly (a cut diff, files left out, no
repository) always says so next to its commit.
"""

from __future__ import annotations

import shlex
from collections import Counter
from typing import Any, Callable, Iterable, Mapping

from tunebook.core.records import CodeVersion

SHORT = 7  # characters of a commit shown, as git's --short


def versions_by_id(get: Callable[[int], CodeVersion], ids: Iterable[int | None]) -> dict[int, CodeVersion]:
    """The code versions of ``ids`` (Nones skipped), each read once with ``get`` (``Store.get_code_version``)."""
    return {version_id: get(version_id) for version_id in dict.fromkeys(i for i in ids if i is not None)}


def size_text(n: int) -> str:
    """Bytes in words: ``812 B``, ``64.0 KiB``, ``1.0 MiB``."""
    if n < 1024:
        return f"{n} B"
    if n < 1 << 20:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1 << 20):.1f} MiB"


def code_cell(version: CodeVersion | None) -> str:
    """One table cell: ``a1b2c3d``, ``a1b2c3d dirty``, ``a1b2c3d dirty (not exact)``, ``no git``, ``-`` (unknown)."""
    if version is None:
        return "-"
    if not version.git:
        return "no git (not exact)"
    commit = (version.commit or "no commit")[:SHORT]
    text = f"{commit} dirty" if version.dirty else commit
    return f"{text} (not exact)" if version.not_exact else text


def code_summary(version: CodeVersion | None) -> dict[str, Any] | None:
    """For JSON: commit, short commit, branch, dirty, stored diff size, exact, and why not; None when unknown."""
    if version is None:
        return None
    git = version.git
    return {
        "commit": version.commit,
        "short": version.commit[:SHORT] if version.commit else None,
        "branch": git.get("branch"),
        "dirty": version.dirty,
        "diff_bytes": len(version.diff.encode()) if version.diff else 0,
        "exact": not version.not_exact,
        "not_exact": version.not_exact,
    }


def code_line(version: CodeVersion | None) -> str:
    """One sentence: ``commit a1b2c3d (main), dirty: 2.1 KiB diff stored`` plus why it is not exact, if so."""
    if version is None:
        return "unknown (no code version recorded: imported, or run before tunebook recorded them)"
    if not version.git:
        problems = version.info.get("problems") or []
        why = f"git could not read it ({problems[0]})" if problems else "the spec and the program are in no git repository"
        return f"not recorded: {why}; only the software and host are"
    git = version.git
    commit = f"commit {version.commit[:SHORT]}" if version.commit else "no commit yet"
    where = f" ({git['branch']})" if git.get("branch") else " (detached HEAD)" if version.commit else ""
    state = f"dirty: {size_text(len(version.diff.encode()))} diff stored" if version.dirty and version.diff else (
        "dirty" if version.dirty else "clean")
    text = f"{commit}{where}, {state}"
    if version.not_exact:
        text += "; not exactly reproducible: " + "; ".join(version.not_exact)
    return text


def code_details(version: CodeVersion | None) -> list[tuple[str, str]]:
    """(label, value) lines for one trial's code version: repository, commit, diff, software, host."""
    if version is None:
        return [("code", code_line(None))]
    git, info = version.git, version.info
    lines = [("code", code_line(version))]
    if git:
        lines += [("repository", str(git.get("root"))), ("commit", str(git.get("commit") or "-"))]
        if git.get("remote"):
            lines.append(("remote", str(git["remote"])))
        if git.get("untracked"):
            lines.append(("untracked", ", ".join(git["untracked"])))
    python = info.get("python") or {}
    packages = info.get("packages") or {}
    lines.append(("software", f"tunebook {info.get('tunebook', '?')}, {python.get('implementation', 'Python')} "
                              f"{python.get('version', '?')}"
                  + "".join(f", {name} {ver}" for name, ver in packages.items())))
    lines.append(("host", f"{info.get('host', '?')} ({info.get('platform', '?')})"))
    for problem in info.get("problems") or []:
        lines.append(("not read", problem))
    return lines


def versions_line(version_ids: Iterable[int | None], versions: Mapping[int, CodeVersion]) -> str:
    """The code versions trials ran on: one ``code_line``, or each ``code_cell`` with its count of trials.

    ``version_ids``: each trial's code version id (None: unknown); '' when none is known.
    """
    counts = Counter(version_ids)
    known = [(versions[i], n) for i, n in counts.most_common() if i is not None]
    unknown = counts.get(None, 0)
    if not known:
        return ""
    if len(known) == 1 and not unknown:
        return code_line(known[0][0])
    parts = [f"{code_cell(v)} ({n} trial{'s' if n > 1 else ''})" for v, n in known]
    if unknown:
        parts.append(f"unknown ({unknown} trial{'s' if unknown > 1 else ''})")
    return f"{len(known) + bool(unknown)} versions: " + ", ".join(parts)


def trials_code_line(trial_ids: Iterable[int], by_trial: Mapping[int, CodeVersion]) -> str:
    """``versions_line`` of trials given by id, with ``by_trial`` mapping a trial id to its version (absent: unknown)."""
    found = [by_trial.get(int(t)) for t in trial_ids]
    return versions_line((v.id if v else None for v in found), {v.id: v for v in found if v})


def rerun_command(experiment: str, trial: str, store_url: str) -> str:
    """The command that rebuilds a trial's recorded code and runs that one trial again."""
    return f"tunebook rerun {shlex.quote(f'{experiment}/{trial}')} --store {shlex.quote(store_url)}"
