"""Trial states and which of them are final."""

from __future__ import annotations

import enum


class TrialState(str, enum.Enum):
    """Where a trial stands.

    WAITING: created or re-queued, not running. RUNNING: claimed by a worker.
    COMPLETE: finished with an objective. INFEASIBLE: finished, but diverged or
    otherwise unusable (a normal outcome of the search, not a crash). FAILED:
    crashed and out of retries.
    """

    WAITING = "waiting"
    RUNNING = "running"
    COMPLETE = "complete"
    INFEASIBLE = "infeasible"
    FAILED = "failed"

    @property
    def is_finished(self) -> bool:
        return self in FINISHED_STATES


FINISHED_STATES = frozenset({TrialState.COMPLETE, TrialState.INFEASIBLE, TrialState.FAILED})
