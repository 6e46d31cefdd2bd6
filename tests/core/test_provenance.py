"""How a code version reads: the same words in every table, and never silent about a version that is not exact."""

from __future__ import annotations

from datetime import datetime, timezone

from tunebook.core.provenance import code_cell, code_line, code_summary, rerun_command, versions_line
from tunebook.core.records import CodeVersion

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def version(version_id: int = 1, dirty: bool = False, diff: str | None = None, **info) -> CodeVersion:
    git = {"root": "/src/repo", "commit": COMMIT, "branch": "main", "dirty": dirty}
    return CodeVersion(version_id, "d" * 64, {"git": git, **info}, diff, datetime.now(timezone.utc))


def test_clean_dirty_and_not_exact_versions_read_differently() -> None:
    assert (code_cell(version()), code_line(version())) == ("0123456", "commit 0123456 (main), clean")
    dirty = version(dirty=True, diff="x" * 2048)
    assert (code_cell(dirty), code_line(dirty)) == ("0123456 dirty", "commit 0123456 (main), dirty: 2.0 KiB diff stored")
    cut = version(dirty=True, diff="x", not_exact=["diff cut: 3.0 MiB of changes, 1.0 MiB stored, 2.0 MiB left out"])
    assert code_cell(cut) == "0123456 dirty (not exact)"
    assert code_line(cut).endswith("; not exactly reproducible: diff cut: 3.0 MiB of changes, 1.0 MiB stored, "
                                   "2.0 MiB left out")
    assert code_summary(cut)["exact"] is False and code_summary(dirty)["diff_bytes"] == 2048


def test_unknown_and_unrecorded_code_say_so() -> None:
    assert code_cell(None) == "-" and code_summary(None) is None
    assert code_line(None).startswith("unknown (no code version recorded")
    nowhere = CodeVersion(2, "e" * 64, {"not_exact": ["no git repository"]}, None, datetime.now(timezone.utc))
    assert code_cell(nowhere) == "no git (not exact)"
    assert code_line(nowhere).startswith("not recorded: the spec and the program are in no git repository")


def test_versions_line_counts_trials_per_version() -> None:
    one, two = version(1), version(2, dirty=True, diff="d")
    assert versions_line([1, 1], {1: one}) == "commit 0123456 (main), clean"
    assert versions_line([2, 1, 2, None], {1: one, 2: two}) == (
        "3 versions: 0123456 dirty (2 trials), 0123456 (1 trial), unknown (1 trial)")
    assert versions_line([None], {}) == ""


def test_rerun_command_quotes_what_a_shell_would_split() -> None:
    assert rerun_command("exp", "width=4/0", "sqlite:///tmp/s.db") == "tunebook rerun exp/width=4/0 --store sqlite:///tmp/s.db"
    assert rerun_command("exp", "opt=adam sgd/1", "/my store.db") == "tunebook rerun 'exp/opt=adam sgd/1' --store '/my store.db'"
