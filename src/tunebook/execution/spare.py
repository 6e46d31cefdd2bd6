"""A spare trial launcher: started while a trial runs, handed the next trial when it is claimed.

Starting Python and the launcher's imports cost each trial 40-60 ms of wall
time on an idle machine before its program runs (over 100 ms on a busy
one): most of what tunebook adds around a trial. The local executor starts
the next trial's launcher (``python -m tunebook.execution.launch --spare``)
while the current trial runs; when a trial is claimed, the spare reads the
trial's folder and environment from its stdin and goes on exactly as a
launcher started for that trial would (``launch.take_trial``): its own
process group, the trial's log files, the runner's death signal.

A spare is used only for the standard launcher command, started with the
same interpreter, working folder and environment apart from the trial's
own variables (its folder, params and GPUs, which nothing reads before the
launcher does); any other trial starts cold, as without a spare.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Mapping

from tunebook.execution.base import Launch
from tunebook.execution.launch import LAUNCH_FILE, launcher_argv
from tunebook.execution.process_group import signal_group
from tunebook.tracking.protocol import ENV_PARAMS, ENV_TRIAL_DIR

PER_TRIAL_ENV = (ENV_TRIAL_DIR, ENV_PARAMS, "CUDA_VISIBLE_DEVICES")  # read only once the launcher has its trial
DISMISS_GRACE_S = 2.0  # a dismissed spare's time to exit on EOF before SIGKILL


def shared_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without the trial's own variables: what a spare for the same run starts with."""
    return {name: value for name, value in env.items() if name not in PER_TRIAL_ENV}


class Spare:
    """One launcher process started ahead of its trial, waiting on its stdin."""

    def __init__(self, like: Launch, kind: str):
        self.cwd = Path(like.cwd)
        self.env = shared_env(like.env)
        self.process = subprocess.Popen(
            list(launcher_argv(None, kind)), cwd=self.cwd, env=self.env, stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def fits(self, launch: Launch, env: Mapping[str, str]) -> bool:
        """Whether this spare can run ``launch`` (with ``env``) as a cold launcher would."""
        return (
            self.process.poll() is None
            and tuple(launch.argv) == launcher_argv(launch.trial_dir)
            and Path(launch.cwd) == self.cwd
            and shared_env(env) == self.env
        )

    def hand(self, launch: Launch, env: Mapping[str, str]) -> subprocess.Popen | None:
        """Give the spare ``launch``'s trial; its process, or None if it is gone (start the trial cold)."""
        told = json.dumps({"trial_dir": str(launch.trial_dir), "env": dict(env)}) + "\n"
        try:
            self.process.stdin.write(told.encode())
            self.process.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            self.dismiss()
            return None
        return self.process

    def dismiss(self) -> None:
        """End an unused spare: EOF on its stdin, SIGKILL after ``DISMISS_GRACE_S``; reaped either way."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=DISMISS_GRACE_S)
        except subprocess.TimeoutExpired:
            signal_group(self.process, signal.SIGKILL)
            self.process.wait()


def spare_for(launch: Launch) -> Spare | None:
    """A spare for the trials that will follow ``launch``; None if its command is not the standard launcher's
    or no process can be started."""
    if tuple(launch.argv) != launcher_argv(launch.trial_dir):
        return None
    try:
        told = json.loads((launch.trial_dir / LAUNCH_FILE).read_text())
        return Spare(launch, "function" if told.get("function") else "command")
    except (OSError, ValueError):
        return None

