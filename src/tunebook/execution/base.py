"""The executor interface: start trial processes, report when they end.

The runner loop does not care which executor runs a trial: it hands each
one a Launch (the command that starts tunebook's trial launcher, its
environment and limits) and polls for Exits.
"""

from __future__ import annotations

import abc
import dataclasses
import time
from pathlib import Path
from typing import Mapping


STALE_AFTER_S = 60.0  # a RUNNING trial silent this long has lost its runner; the next runner re-queues it


@dataclasses.dataclass(frozen=True)
class Launch:
    """How to start one trial: its launcher command, where, with what, for how long."""

    trial_id: int
    trial_dir: Path
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path
    timeout: float | None  # seconds; None for no limit
    gpus: int = 0  # GPUs the trial needs


@dataclasses.dataclass(frozen=True)
class Exit:
    """How a trial process ended."""

    returncode: int | None  # None when the executor lost the process
    timed_out: bool = False
    message: str = ""  # what the executor knows beyond the code, if anything
    lost: bool = False  # the trial's machine or worker died under it: re-queued, no attempt spent


class Executor(abc.ABC):
    """Runs trial processes, at most ``capacity`` at once.

    Contract: ``start`` returns once the process is started (never blocks on
    it); ``poll`` returns the trials that ended since the last call, each
    once; ``stop_all`` ends every running trial (gracefully first, then by
    force) and returns their ids; ``wait`` blocks until a trial may have
    ended or its timeout passes. Called from one thread.
    """

    @property
    @abc.abstractmethod
    def capacity(self) -> int:
        """How many trials may run at once."""

    @abc.abstractmethod
    def start(self, launch: Launch) -> None:
        """Start a trial; the caller keeps ``len(running()) < capacity``."""

    @abc.abstractmethod
    def poll(self) -> list[tuple[int, Exit]]:
        """(trial id, exit) for each trial that ended since the last poll."""

    @abc.abstractmethod
    def running(self) -> list[int]:
        """Ids of the trials still running."""

    @abc.abstractmethod
    def stop_all(self, grace: float = 10.0) -> list[int]:
        """End every running trial (SIGTERM, then SIGKILL after ``grace`` s)."""

    def wait(self, timeout: float) -> None:
        """Block up to ``timeout`` seconds; an executor that can tell returns as soon as a trial ends.

        The runner calls it between its looks around; this default sleeps.
        """
        time.sleep(timeout)

    def close(self) -> None:
        """Release resources; running trials have been stopped or have ended."""
