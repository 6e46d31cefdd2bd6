"""The local executor: one subprocess per trial on this machine."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from typing import IO

from tunebook.core.errors import TunebookError
from tunebook.execution.base import Executor, Exit, Launch
from tunebook.execution.process_group import signal_group
from tunebook.execution.spare import Spare, spare_for
from tunebook.tracking.protocol import STDERR_FILE, STDOUT_FILE

STOP_GRACE_S = 5.0  # a timed-out trial's time to exit after SIGTERM before SIGKILL


def visible_gpus() -> list[str]:
    """GPU ids this process may hand out: CUDA_VISIBLE_DEVICES, else nvidia-smi's count."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [g.strip() for g in listed.split(",") if g.strip() and g.strip() != "-1"]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]


class _Running:
    def __init__(self, launch: Launch, process: subprocess.Popen, files: list[IO], gpus: list[str]):
        self.launch = launch
        self.process = process
        self.files = files
        self.gpus = gpus
        self.started = time.monotonic()
        self.exited = exit_handle(process.pid)

    def close(self) -> None:
        for f in self.files:
            f.close()
        if self.exited is not None:
            os.close(self.exited)


def exit_handle(pid: int) -> int | None:
    """A file descriptor that turns readable when ``pid`` exits (Linux's pidfd_open); None where unsupported."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


class LocalExecutor(Executor):
    """Up to ``parallel`` trial processes here, each in its own process group.

    stdout and stderr go to the trial directory's log files (appended, so
    retries keep earlier attempts' output). Trials that need GPUs get their
    own through CUDA_VISIBLE_DEVICES; a trial past its timeout is stopped.
    While trials run, the next one's launcher starts (``execution.spare``),
    and ``wait`` wakes the moment a trial process exits (a pidfd on Linux).
    """

    def __init__(self, parallel: int, gpus_per_trial: int = 0, gpus: list[str] | None = None):
        self._gpus_free = list(visible_gpus() if gpus is None else gpus)
        if gpus_per_trial:
            fits = len(self._gpus_free) // gpus_per_trial
            if fits == 0:
                raise TunebookError(
                    f"run.gpus_per_trial={gpus_per_trial} but {len(self._gpus_free)} GPU(s) are visible here"
                )
            parallel = min(parallel, fits)
        self._capacity = parallel
        self._gpus_per_trial = gpus_per_trial
        self._running: dict[int, _Running] = {}
        self._spare: Spare | None = None  # the next trial's launcher, started ahead (see execution.spare)
        self._spares_work = True  # False once a spare died unused: start trials cold from then on

    @property
    def capacity(self) -> int:
        return self._capacity

    def start(self, launch: Launch) -> None:
        """Start the trial: on the spare launcher if it fits, else a new process; then start the next spare."""
        gpus = [self._gpus_free.pop(0) for _ in range(self._gpus_per_trial)]
        env = dict(launch.env)
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)
        process, files = self._on_spare(launch, env), []
        if process is None:
            try:
                process, files = _start_cold(launch, env)
            except OSError as exc:
                self._gpus_free.extend(gpus)
                raise TunebookError(f"cannot start trial {launch.trial_id}: {exc}") from exc
        self._running[launch.trial_id] = _Running(launch, process, files, gpus)
        if self._spare is None and self._spares_work:
            self._spare = spare_for(launch)

    def _on_spare(self, launch: Launch, env: dict[str, str]) -> subprocess.Popen | None:
        """The spare, handed ``launch``; None (the spare dismissed) if there is none or it does not fit."""
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        if spare.process.poll() is not None:
            self._spares_work = False  # it died waiting (e.g. the interpreter cannot start here): stay cold
            return None
        if not spare.fits(launch, env):
            spare.dismiss()
            return None
        return spare.hand(launch, env)

    def poll(self) -> list[tuple[int, Exit]]:
        ended = []
        for trial_id, run in list(self._running.items()):
            timeout = run.launch.timeout
            if run.process.poll() is None and timeout and time.monotonic() - run.started > timeout:
                killed = _stop(run.process, grace=STOP_GRACE_S)
                said = (f"it ignored SIGTERM for {STOP_GRACE_S:g} s and was killed (SIGKILL): "
                        "let the program exit on SIGTERM, or raise run.timeout") if killed else ""
                ended.append((trial_id, self._finish(trial_id, timed_out=True, message=said)))
            elif run.process.returncode is not None:
                ended.append((trial_id, self._finish(trial_id)))
        return ended

    def running(self) -> list[int]:
        return list(self._running)

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` s, waking the moment a trial process exits (when every one has a pidfd)."""
        handles = [run.exited for run in self._running.values()]
        if not handles or None in handles:
            time.sleep(timeout)
            return
        select.select(handles, [], [], timeout)

    def stop_all(self, grace: float = 10.0) -> list[int]:
        for run in self._running.values():
            signal_group(run.process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for run in self._running.values():
            try:
                run.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                signal_group(run.process, signal.SIGKILL)
                run.process.wait()
        stopped = list(self._running)
        for trial_id in stopped:
            self._finish(trial_id)
        self.close()
        return stopped

    def close(self) -> None:
        """Dismiss the spare launcher, if any (running trials are the caller's: ``stop_all``)."""
        spare, self._spare = self._spare, None
        if spare is not None:
            spare.dismiss()

    def _finish(self, trial_id: int, timed_out: bool = False, message: str = "") -> Exit:
        run = self._running.pop(trial_id)
        run.close()
        self._gpus_free.extend(run.gpus)
        return Exit(run.process.returncode, timed_out=timed_out, message=message)


def _start_cold(launch: Launch, env: dict[str, str]) -> tuple[subprocess.Popen, list[IO]]:
    """A new process for ``launch``, its output appended to the trial's log files (kept open while it runs)."""
    files = [open(launch.trial_dir / name, "ab") for name in (STDOUT_FILE, STDERR_FILE)]
    try:
        process = subprocess.Popen(
            list(launch.argv), cwd=launch.cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=files[0], stderr=files[1], start_new_session=True,
        )
    except OSError:
        for f in files:
            f.close()
        raise
    return process, files


def _stop(process: subprocess.Popen, grace: float) -> bool:
    """SIGTERM the process group, SIGKILL it after ``grace`` seconds; True if it took SIGKILL."""
    signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
        return False
    except subprocess.TimeoutExpired:
        signal_group(process, signal.SIGKILL)
        process.wait()
        return True
