"""The trial launcher: ``python -m tunebook.execution.launch TRIAL_DIR``.

Or ``... launch --spare``: started before its trial is known (the local
executor's spare, see tunebook.execution.spare), it waits for one line on
stdin naming the trial folder and environment, then goes on as above.

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

# subprocess loads only for run.command: a run.function trial starts sooner without it
# (and without typing); a command's output is passed through without threads.
TYPE_CHECKING = False  # typing costs a trial process ~5 ms to import; annotations only need it for checkers
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterator

LAUNCH_FILE = "launch.json"
SPARE_FLAG = "--spare"
ENV_PARENT_PID = "TUNEBOOK_PARENT_PID"
STORE_FAILED = "store_failed"  # the outcome of a trial that could not write to its store
STORE_FAILED_EXIT = 75  # EX_TEMPFAIL: the trial is not at fault; the runner stops and re-queues it
_PR_SET_PDEATHSIG = 1
_PIPE_BYTES = 1 << 20  # of a command's output held while its points are being written


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
    import subprocess

    from tunebook.execution.output import OutputParser
    from tunebook.tracking import Diverged
    from tunebook.tracking import trial as current_trial

    trial = current_trial()
    child = subprocess.Popen(
        argv, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, preexec_fn=_term_on_parent_death,
    )
    pipes = {child.stdout.fileno(): sys.stdout.fileno(), child.stderr.fileno(): sys.stderr.fileno()}
    for fd in pipes:
        _widen(fd)
    parser = OutputParser(patterns)
    try:
        for line in _pass_through(pipes):
            parsed = parser.parse(line)
            if parsed is not None:
                trial.log(*parsed)
    except Diverged:
        _end(child)
        for _ in _pass_through(pipes, block=False):  # what it printed before it ended, into the logs
            pass
        raise
    trial.flush()
    return child.wait()


def _pass_through(pipes: dict[int, int], block: bool = True) -> Iterator[str]:
    """Copy each pipe to its file descriptor (``pipes``: read end -> write end) as bytes arrive,
    and yield every line read, decoded (the last one even without its newline), until all pipes close.

    One thread, no queue: a trial's command starts without starting threads.
    ``block=False`` stops at the first moment nothing is ready.
    """
    import select

    partial = dict.fromkeys(pipes, b"")
    while partial:
        ready, _, _ = select.select(list(partial), [], [], None if block else 0)
        if not ready:
            return
        for fd in ready:
            data = os.read(fd, 65536)
            if not data:
                rest = partial.pop(fd)
                if rest:
                    yield rest.decode("utf-8", errors="replace")
                continue
            _write_all(pipes[fd], data)
            *lines, partial[fd] = (partial[fd] + data).split(b"\n")
            for line in lines:
                yield (line + b"\n").decode("utf-8", errors="replace")


def _widen(pipe: int) -> None:
    """Let the pipe hold up to 1 MiB (Linux), so that the program goes on printing while its points are
    written to the store (a slow store: a busy lock, a server restarting) instead of waiting for this loop."""
    try:
        import fcntl

        fcntl.fcntl(pipe, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
    except (ImportError, OSError):
        pass  # not Linux, or above /proc/sys/fs/pipe-max-size: the default size (64 KiB) then


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def _end(child: subprocess.Popen) -> None:
    import subprocess

    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def launcher_argv(trial_dir: Path | None, kind: str = "") -> tuple[str, ...]:
    """The command that runs the trial in ``trial_dir``; None: a spare that waits to be told which,
    ready for trials of ``kind`` (``function`` or ``command``, the key of launch.json they have)."""
    module = (sys.executable, "-m", "tunebook.execution.launch")
    return (*module, str(trial_dir)) if trial_dir is not None else (*module, SPARE_FLAG, kind)


def warm_up(kind: str) -> None:
    """Import ahead what a trial of ``kind`` imports first thing: tracking, sqlite3, and the command's pumps."""
    import sqlite3  # noqa: F401

    import tunebook.storage.sqlite_setup  # noqa: F401
    import tunebook.tracking  # noqa: F401

    if kind == "command":
        import select  # noqa: F401
        import subprocess  # noqa: F401

        import tunebook.execution.output  # noqa: F401


def take_trial(kind: str) -> Path | None:
    """A spare's wait: the trial folder and environment from one JSON line on stdin; None at EOF (not needed).

    Afterwards the process is what a launcher started for that trial would be:
    that environment, stdin on /dev/null, stdout and stderr appended to the
    trial's log files, ``sys.argv[1]`` the trial folder.
    """
    from tunebook.tracking.protocol import STDERR_FILE, STDOUT_FILE

    warm_up(kind)
    line = sys.stdin.buffer.readline()
    if not line.strip():
        return None
    told = json.loads(line)
    trial_dir = Path(told["trial_dir"])
    os.environ.clear()
    os.environ.update(told["env"])
    for fd, path, flags in ((0, os.devnull, os.O_RDONLY),
                            (1, trial_dir / STDOUT_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT),
                            (2, trial_dir / STDERR_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT)):
        opened = os.open(path, flags, 0o666)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv[1:] = [str(trial_dir)]
    return trial_dir


def main(argv: list[str]) -> int:
    die_with_parent()
    trial_dir = take_trial(argv[2]) if argv[1] == SPARE_FLAG else Path(argv[1])
    if trial_dir is None:
        return 0
    spec = json.loads((trial_dir / LAUNCH_FILE).read_text())
    try:
        if spec.get("function"):
            return run_function(spec["function"], spec["workdir"])
        return _exit_now(run_command(spec["argv"], spec["workdir"], spec.get("metrics", [])))
    except Exception as exc:
        if not _is_store_error(exc):
            raise
        return _store_failed(trial_dir, exc)


def _exit_now(returncode: int) -> int:
    """End a command's launcher once its points are flushed: nothing of the user's runs in this process,
    so Python's shutdown (~10 ms of module teardown per trial) is skipped."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(returncode)


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
