"""The trial launcher: ``python -m tunebook.execution.launch TRIAL_DIR``.

Runs in the trial's process next to the user's program, so it imports only
the standard library and ``tunebook.tracking``. It reads ``launch.json`` from
the trial directory and either calls ``module:callable(params, trial)`` here,
or runs a command, passing its output through to this process's own stdout
and stderr (the executor's log files) while reading metrics from it.

A divergence ends the trial as infeasible (exit 0 with outcome.json, written
by tunebook.tracking); an exception or a nonzero exit of the command is a
crash, left to the runner to retry. A store that refuses the trial's writes
(full disk, read-only, server gone past the retries) is not the trial's
fault: outcome ``store_failed`` and exit code 75, and the runner stops.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
from pathlib import Path

# subprocess, threading and queue load only for run.command: a run.function trial
# starts ~10 ms sooner without them (and without typing).
TYPE_CHECKING = False  # typing costs a trial process ~5 ms to import; annotations only need it for checkers
if TYPE_CHECKING:
    import queue
    import subprocess
    from typing import IO, Any

LAUNCH_FILE = "launch.json"
ENV_PARENT_PID = "TUNEBOOK_PARENT_PID"
STORE_FAILED = "store_failed"  # the outcome of a trial that could not write to its store
STORE_FAILED_EXIT = 75  # EX_TEMPFAIL: the trial is not at fault; the runner stops and re-queues it
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this process when the runner that started it dies.

    Then a runner killed with kill -9 leaves no orphaned trial behind (the
    trial flushes on SIGTERM). Elsewhere this does nothing.
    """
    if not _term_on_parent_death():
        return
    parent = os.environ.get(ENV_PARENT_PID)
    if parent and os.getppid() != int(parent):
        sys.exit("tunebook: the runner that started this trial is gone")


def _term_on_parent_death() -> bool:
    """prctl(PR_SET_PDEATHSIG, SIGTERM) on Linux; False where unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM) == 0
    except (OSError, AttributeError):
        return False


def run_function(target: str, workdir: str) -> int:
    from tunebook.tracking import trial as current_trial

    module_name, _, name = target.partition(":")
    sys.path.insert(0, workdir)
    function = getattr(importlib.import_module(module_name), name)
    trial = current_trial()
    function(dict(trial.params), trial)
    trial.flush()
    return 0


def run_command(argv: list[str], workdir: str, patterns: list[str]) -> int:
    import queue
    import subprocess
    import threading

    from tunebook.execution.output import OutputParser
    from tunebook.tracking import Diverged
    from tunebook.tracking import trial as current_trial

    trial = current_trial()
    child = subprocess.Popen(
        argv, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, preexec_fn=_term_on_parent_death,
    )
    lines: queue.Queue = queue.Queue()
    readers = [
        threading.Thread(target=_pump, args=(stream, sink, lines), daemon=True)
        for stream, sink in ((child.stdout, sys.stdout.buffer), (child.stderr, sys.stderr.buffer))
    ]
    for reader in readers:
        reader.start()
    parser = OutputParser(patterns)
    try:
        _consume(lines, parser, trial, readers)
    except Diverged:
        _end(child)
        raise
    trial.flush()
    return child.wait()


def _pump(stream: IO[bytes], sink: IO[bytes], lines: queue.Queue) -> None:
    for raw in iter(stream.readline, b""):
        sink.write(raw)
        sink.flush()
        lines.put(raw.decode("utf-8", errors="replace"))
    lines.put(None)


def _consume(lines: queue.Queue, parser: Any, trial: Any, readers: list[threading.Thread]) -> None:
    open_streams = len(readers)
    while open_streams:
        line = lines.get()
        if line is None:
            open_streams -= 1
            continue
        parsed = parser.parse(line)
        if parsed is not None:
            trial.log(*parsed)


def _end(child: subprocess.Popen) -> None:
    import subprocess

    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def main(argv: list[str]) -> int:
    die_with_parent()
    trial_dir = Path(argv[1])
    spec = json.loads((trial_dir / LAUNCH_FILE).read_text())
    try:
        if spec.get("function"):
            return run_function(spec["function"], spec["workdir"])
        return run_command(spec["argv"], spec["workdir"], spec.get("metrics", []))
    except Exception as exc:
        if not _is_store_error(exc):
            raise
        return _store_failed(trial_dir, exc)


def _is_store_error(exc: Exception) -> bool:
    """Whether ``exc`` is tunebook's StoreError (its module is loaded if one was raised)."""
    errors = sys.modules.get("tunebook.core.errors")
    return errors is not None and isinstance(exc, errors.StoreError)


def _store_failed(trial_dir: Path, exc: Exception) -> int:
    """Tell the runner the store, not the trial, failed: outcome.json and STORE_FAILED_EXIT."""
    from tunebook.tracking.protocol import write_outcome

    print(f"tunebook: the trial could not write to its store: {exc}", file=sys.stderr, flush=True)
    write_outcome(trial_dir, STORE_FAILED, str(exc))
    return STORE_FAILED_EXIT


if __name__ == "__main__":
    sys.exit(main(sys.argv))
