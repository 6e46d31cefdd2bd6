"""Run one program to its end, a timeout, or until the caller has seen enough.

Each output line is timestamped as it arrives (a reader thread per stream)
and handed to ``on_line``; returning True stops the program. The program
runs in its own process group, and that whole group is stopped on every way
out, Ctrl-C included, so no training process outlives the probe.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import IO, Callable, Mapping, Sequence

from tunebook.execution.process_group import signal_group
from tunebook.probe.errors import ProbeError

TAIL_LINES = 40
_GRACE = 5.0        # seconds between SIGTERM and SIGKILL
_POLL = 0.2         # seconds between looks at the clock while no line arrives
_LINGER = 2.0       # seconds to wait for output still held by the program's children after it exited

OnLine = Callable[[float, str, str], bool]   # (monotonic time, "stdout"|"stderr", text) -> stop?


@dataclass(frozen=True)
class Finished:
    """How a program ended. ``stopped``: by ``on_line``; ``timed_out``: past the timeout."""

    exit_code: int | None
    wall_time: float
    stopped: bool
    timed_out: bool
    stdout_tail: str
    stderr_tail: str


def run_program(argv: Sequence[str], env: Mapping[str, str], on_line: OnLine,
                timeout: float | None = None, cwd: str | None = None) -> Finished:
    """Run ``argv`` and feed ``on_line`` until it exits, times out or ``on_line`` says stop."""
    started = time.monotonic()
    try:
        child = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
    except OSError as exc:
        raise ProbeError(f"cannot start the command {argv[0]!r}: {exc.strerror or exc}") from exc
    lines: queue.Queue = queue.Queue()
    for name, stream in (("stdout", child.stdout), ("stderr", child.stderr)):
        threading.Thread(target=_pump, args=(name, stream, lines), daemon=True).start()
    tails = {"stdout": deque(maxlen=TAIL_LINES), "stderr": deque(maxlen=TAIL_LINES)}
    deadline = started + timeout if timeout else None
    stopped = timed_out = False
    try:
        stopped, timed_out = _follow(child, lines, tails, on_line, deadline)
        if not (stopped or timed_out):
            timed_out = _wait(child, deadline)
    finally:
        ended = time.monotonic()
        _stop_group(child, gently=stopped or timed_out)
    return Finished(
        exit_code=child.returncode, wall_time=ended - started, stopped=stopped, timed_out=timed_out,
        stdout_tail="".join(tails["stdout"]), stderr_tail="".join(tails["stderr"]),
    )


def _pump(name: str, stream: IO[bytes], lines: queue.Queue) -> None:
    with stream:
        for raw in iter(stream.readline, b""):
            lines.put((time.monotonic(), name, raw.decode("utf-8", errors="replace")))
    lines.put(None)


def _follow(child: subprocess.Popen, lines: queue.Queue, tails: dict, on_line: OnLine,
            deadline: float | None) -> tuple[bool, bool]:
    """Read lines until both streams close; (stopped, timed_out)."""
    open_streams = 2
    exited_at: float | None = None
    while open_streams:
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return False, True
        if exited_at is None and child.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at > _LINGER:
            return False, False   # a child of the program still holds the pipes open
        wait = _POLL if deadline is None else max(0.0, min(_POLL, deadline - now))
        try:
            item = lines.get(timeout=wait)
        except queue.Empty:
            continue
        if item is None:
            open_streams -= 1
            continue
        arrived, name, text = item
        tails[name].append(text)
        if on_line(arrived, name, text):
            return True, False
    return False, False


def _wait(child: subprocess.Popen, deadline: float | None) -> bool:
    """Wait for the exit after the streams closed; True if the deadline passed first."""
    try:
        child.wait(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return True
    return False


def _stop_group(child: subprocess.Popen, gently: bool) -> None:
    """End the program's whole process group: SIGTERM, then SIGKILL after a grace period.

    The SIGKILL comes even when the grace period is cut short (a second Ctrl-C).
    """
    try:
        if child.poll() is None or gently:
            signal_group(child, signal.SIGTERM)
            try:
                child.wait(timeout=_GRACE)
            except subprocess.TimeoutExpired:
                pass
    finally:
        signal_group(child, signal.SIGKILL)   # also whatever the program left running
        child.wait()
