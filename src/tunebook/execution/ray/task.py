"""What one Ray task does on the node that runs it: start the trial launcher, wait, clean up.

Standard library only: this runs inside a Ray worker on any node. The
launcher runs in its own process group (Ray kills only a task's worker, not
its children), dies with the worker (prctl PDEATHSIG, through
TUNEBOOK_PARENT_PID), and the whole group is ended on a timeout or a
cancel (``ray.cancel`` raises KeyboardInterrupt here). Its stdout and
stderr go to the trial folder on this node; the result carries what the
runner needs from that folder, which may be on another machine.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Mapping

from tunebook.execution.launch import ENV_PARENT_PID
from tunebook.tracking.protocol import ENV_TRIAL_DIR, OUTCOME_FILE, STDERR_FILE, STDOUT_FILE

ENV_NODE_ID = "TUNEBOOK_RAY_NODE_ID"  # the Ray node a trial runs on, for the trial's program
TAIL_BYTES = 8192  # how much of a failed trial's stderr comes back to the runner
_POLL_S = 0.05  # how often a waiting task lets a cancel (KeyboardInterrupt) in


def warm_up() -> int:
    """A no-op task run once per trial slot when the executor starts: Ray starts (and imports this
    module in) its workers while the runner prepares the run, instead of when the first trials need them."""
    return os.getpid()


def ray_task(files: Mapping[str, bytes], env_changes: Mapping[str, str], cwd: str, timeout: float | None,
             grace: float) -> dict[str, Any]:
    """The Ray task's body (defined here so a worker imports only this light module): run_trial, told its node."""
    import ray

    return run_trial(files, env_changes, cwd, timeout, grace, ray.get_runtime_context().get_node_id())


def run_trial(
    files: Mapping[str, bytes], env_changes: Mapping[str, str], cwd: str, timeout: float | None,
    grace: float, node_id: str,
) -> dict[str, Any]:
    """Run the launcher for the trial whose folder files are ``files`` (name -> content) and report how it ended.

    ``env_changes`` are the trial's variables on top of this worker's own
    environment (which holds Ray's CUDA_VISIBLE_DEVICES). Returns
    ``returncode`` (None if cancelled), ``timed_out``, ``node``, ``host``,
    ``stderr_tail`` (bytes) and ``outcome`` (outcome.json's text, or None).
    """
    folder = Path(env_changes[ENV_TRIAL_DIR])
    _write_files(folder, files)
    env = _trial_env(env_changes, node_id)
    argv = [sys.executable, "-m", "tunebook.execution.launch", str(folder)]
    with open(folder / STDOUT_FILE, "ab") as out, open(folder / STDERR_FILE, "ab") as err:
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True,
        )
    timed_out = False
    try:
        timed_out = _wait(process, timeout)
        if timed_out:
            end_group(process, grace)
    except KeyboardInterrupt:  # ray.cancel: end the trial, report it stopped
        end_group(process, grace)
        return _result(folder, None, False, node_id)
    finally:
        if process.poll() is None:  # any other way out of here: nothing may outlive the task
            end_group(process, 0.0)
    return _result(folder, process.returncode, timed_out, node_id)


def _write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """The trial folder's small files (launch.json, trial.json, params.json) as the runner wrote them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / OUTCOME_FILE).unlink(missing_ok=True)
    for name, content in files.items():
        path = folder / name
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)


def _trial_env(env_changes: Mapping[str, str], node_id: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(env_changes)
    # "python" means this node's interpreter (the one running Ray and tunebook here)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env[ENV_PARENT_PID] = str(os.getpid())  # the launcher dies with this worker
    env[ENV_NODE_ID] = node_id
    if "CUDA_VISIBLE_DEVICES" in os.environ:  # Ray's assignment for this task's GPUs wins over run.env's
        env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    return env


def _wait(process: subprocess.Popen, timeout: float | None) -> bool:
    """Wait for the launcher; True if it ran past ``timeout`` seconds (it is still running then).

    Wakes the moment the launcher exits (a pidfd, on Linux) rather than at the
    next tick; still returns to Python every ``_POLL_S`` so a cancel gets in.
    """
    started = time.monotonic()
    exited = _exit_handle(process.pid)
    try:
        while process.poll() is None:
            left = None if timeout is None else timeout - (time.monotonic() - started)
            if left is not None and left <= 0:
                return True
            tick = _POLL_S if left is None else min(_POLL_S, left)
            if exited is None:
                time.sleep(tick)
            else:
                select.select([exited], [], [], tick)
        return False
    finally:
        if exited is not None:
            os.close(exited)


def _exit_handle(pid: int) -> int | None:
    """A file descriptor that turns readable when ``pid`` exits (pidfd_open); None where unsupported."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def end_group(process: subprocess.Popen, grace: float) -> None:
    """SIGTERM the launcher's process group, SIGKILL it after ``grace`` seconds; reap the launcher."""
    _signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    _signal_group(process.pid, signal.SIGKILL)  # the launcher's children too, even once it has exited
    process.wait()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _result(folder: Path, returncode: int | None, timed_out: bool, node_id: str) -> dict[str, Any]:
    outcome = folder / OUTCOME_FILE
    return {
        "returncode": returncode,
        "timed_out": timed_out,
        "node": node_id,
        "host": os.uname().nodename,
        "stderr_tail": _tail(folder / STDERR_FILE) if returncode != 0 else b"",
        "outcome": outcome.read_text() if outcome.exists() else None,
    }


def _tail(path: Path) -> bytes:
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - TAIL_BYTES))
            return file.read()
    except OSError:
        return b""
