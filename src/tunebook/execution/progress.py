"""Counts and best objective per study, kept up to date as trials end."""

from __future__ import annotations

import dataclasses
import math
from typing import Iterable

from tunebook.core.records import Trial
from tunebook.core.states import TrialState


@dataclasses.dataclass
class StudyProgress:
    key: str
    budget: int
    mode: str  # "min" | "max"
    complete: int = 0
    infeasible: int = 0
    failed: int = 0
    running: int = 0
    best: float | None = None
    best_trial: int | None = None  # trial number
    # ended trials by how their sampler chose them (``Trial.suggestion["by"]``: initial, model, fallback);
    # empty for samplers that do not say
    suggested_by: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def finished(self) -> int:
        return self.complete + self.infeasible + self.failed

    def record(self, trial: Trial) -> None:
        """Count a trial that just ended (WAITING: re-queued, counts nothing yet)."""
        by = (trial.suggestion or {}).get("by")
        if by is not None and trial.state.is_finished:
            self.suggested_by[by] = self.suggested_by.get(by, 0) + 1
        if trial.state is TrialState.COMPLETE:
            self.complete += 1
            self._offer(trial)
        elif trial.state is TrialState.INFEASIBLE:
            self.infeasible += 1
        elif trial.state is TrialState.FAILED:
            self.failed += 1

    def reload(self, trials: Iterable[Trial], running_here: set[int]) -> None:
        """Recount from the store (trials run by other runners count too)."""
        self.complete = self.infeasible = self.failed = 0
        self.best = self.best_trial = None
        self.running = 0
        self.suggested_by = {}
        for trial in trials:
            if trial.state is TrialState.RUNNING:
                self.running += 1
            else:
                self.record(trial)

    def _offer(self, trial: Trial) -> None:
        value = trial.objective
        if value is None or not math.isfinite(value):
            return
        better = self.best is None or (value < self.best if self.mode == "min" else value > self.best)
        if better:
            self.best, self.best_trial = value, trial.number
