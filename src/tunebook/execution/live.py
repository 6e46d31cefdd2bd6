"""What a live display of a run shows: elapsed time, an estimate to finish,
the running trials with their latest point, and trials that went wrong.

Read from a Runner between its ticks; the runner's own state plus one small
query of the store for the running trials' latest objective values.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from tunebook.core.readable import reason_line
from tunebook.core.records import trial_name
from tunebook.core.states import TrialState
from tunebook.execution.progress import StudyProgress

if TYPE_CHECKING:
    from tunebook.execution.runner import Runner

RECENT_PROBLEMS = 5  # failed or infeasible trials shown, latest last


@dataclasses.dataclass(frozen=True)
class RunningTrial:
    name: str  # STUDY/NUMBER
    seconds: float  # since it started (this attempt)
    step: int | None  # of the latest objective value flushed, None before the first
    value: float | None


@dataclasses.dataclass(frozen=True)
class EndedTrial:
    name: str
    state: str  # "failed" | "infeasible" (the words of `tunebook status`)
    reason: str  # its first line


@dataclasses.dataclass(frozen=True)
class LiveStatus:
    elapsed: float  # seconds since the runner started
    eta: float | None  # seconds to finish, None until a trial ended here (see ``estimate_to_finish``)
    studies: list[StudyProgress]
    running: list[RunningTrial]
    problems: list[EndedTrial]  # the latest failed/infeasible trials of this run
    notices: list[str]


def live_status(runner: "Runner") -> LiveStatus:
    """A snapshot of ``runner`` for display."""
    elapsed = time.monotonic() - runner.started
    studies = runner.progress()
    remaining = sum(max(p.budget - p.finished, 0) for p in studies)
    return LiveStatus(
        elapsed=elapsed,
        eta=estimate_to_finish(elapsed, len(runner.ended), remaining),
        studies=studies,
        running=_running(runner),
        problems=[
            EndedTrial(trial_name(key, t.number), t.state.value, reason_line(t.reason))
            for key, t in runner.ended if t.state in (TrialState.FAILED, TrialState.INFEASIBLE)
        ][-RECENT_PROBLEMS:],
        notices=list(runner.notices),
    )


def estimate_to_finish(elapsed: float, ended_here: int, remaining: int) -> float | None:
    """Seconds until ``remaining`` trials end at this run's pace so far.

    Rule: ``remaining * elapsed / ended_here`` — trials ended per second of
    this run, which already reflects how many run at once. Assumes the
    trials still to come take as long as those that ended; None (no
    estimate) before the first trial ends here; 0 when nothing remains.
    """
    if remaining <= 0:
        return 0.0
    if ended_here <= 0:
        return None
    return remaining * elapsed / ended_here


def _running(runner: "Runner") -> list[RunningTrial]:
    trials = runner.running_trials()
    latest = _latest_objective(runner, [t.id for _, t in trials])
    now = time.time()
    out = []
    for key, trial in sorted(trials, key=lambda kt: (kt[0], kt[1].number)):
        started = trial.started_at.timestamp() if trial.started_at else now
        step, value = latest.get(trial.id, (None, None))
        out.append(RunningTrial(trial_name(key, trial.number), max(now - started, 0.0), step, value))
    return out


def _latest_objective(runner: "Runner", trial_ids: list[int]) -> dict[int, tuple[int, float]]:
    """Trial id -> (step, value) of its latest flushed objective point."""
    if not trial_ids:
        return {}
    curves = runner.store.load_curves(trial_ids=trial_ids, metrics=[runner.experiment.objective.metric])
    latest: dict[int, tuple[int, float]] = {}
    for trial_id, step, value in zip(curves["trial_id"], curves["step"], curves["value"]):
        latest[int(trial_id)] = (int(step), float(value))  # sorted by step: the last one wins
    return latest
