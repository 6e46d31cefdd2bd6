"""A trial's stdout/stderr, read only from inside its own folder.

The folder is ``execution.prepare.trial_dir(runs, experiment, study,
number)`` (names made safe there) and the file one of two fixed names
(``tracking.protocol.STDOUT_FILE``/``STDERR_FILE``). The resolved file must
still lie inside the resolved trial folder: a symlink planted in the folder
that points elsewhere is refused, and no text from a request becomes part of
a path.
"""

from __future__ import annotations

import os
from pathlib import Path

from tunebook.execution.prepare import trial_dir
from tunebook.tracking.protocol import STDERR_FILE, STDOUT_FILE

FILES = {"stdout": STDOUT_FILE, "stderr": STDERR_FILE}
TAIL_BYTES = 256 * 1024  # read at most this much from the end of a log


def trial_log(runs_dir: Path, experiment: str, study: str, number: int, stream: str) -> tuple[Path | None, str | None]:
    """(the log file, None), or (None, why there is none to show)."""
    folder = trial_dir(runs_dir, experiment, study, number)
    path = folder / FILES[stream]
    if not path.is_file():
        return None, (f"no {FILES[stream]} in {folder}: the trial has not started, or its run wrote its trials "
                      f"elsewhere (start tunebook ui with --runs FOLDER, or TUNEBOOK_RUNS, as the run had it)")
    real_folder, real_path = folder.resolve(), path.resolve()
    if real_path.parent != real_folder or not real_path.is_file():
        return None, f"{path} leads outside the trial's folder; not shown"
    return real_path, None


def tail(path: Path, lines: int) -> list[str]:
    """The last ``lines`` lines of ``path`` (from its last TAIL_BYTES), decoded leniently."""
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - TAIL_BYTES))
        text = handle.read().decode("utf-8", errors="replace")
    got = text.splitlines()
    if size > TAIL_BYTES and got:
        got = got[1:]  # the first line read is probably cut
    return got[-lines:]
