"""What a trial's end means: complete, infeasible, retry, or failed."""

from __future__ import annotations

from pathlib import Path

from tunebook.core.errors import StoreError
from tunebook.core.experiment import Objective
from tunebook.core.objective import reduce_curve
from tunebook.core.readable import STDERR_MARK
from tunebook.core.records import Trial
from tunebook.core.states import TrialState
from tunebook.execution.base import Exit
from tunebook.execution.launch import STORE_FAILED
from tunebook.storage.base import Store
from tunebook.tracking.protocol import STDERR_FILE, read_outcome

TAIL_LINES = 15


def settle(store: Store, trial: Trial, exit: Exit, objective: Objective, folder: Path, retries: int) -> Trial:
    """Record how the trial ended and return it as the store now holds it.

    Infeasible (the trial said so, e.g. it diverged) and timed-out trials are
    final. A trial that could not write to the store (full disk, read-only)
    goes back to the queue, its attempts unspent, and StoreError stops the
    runner: every other trial would fail the same way. A lost trial (its machine
    or worker died under it, ``exit.lost``) goes back to WAITING without spending
    an attempt. A crash is retried while attempts remain, then FAILED with the
    tail of its stderr. A clean exit is COMPLETE with the objective reduced
    from its stored curve, or FAILED if the objective metric was never logged.
    """
    outcome = read_outcome(folder)
    if outcome and outcome.get("state") == TrialState.INFEASIBLE.value:
        return store.finish_trial(trial.id, TrialState.INFEASIBLE, reason=str(outcome.get("reason", "")))
    if outcome and outcome.get("state") == STORE_FAILED and not exit.timed_out:
        reason = str(outcome.get("reason", ""))
        store.release_trial(trial.id, reason=f"could not write to the store; re-queued: {reason}")
        raise StoreError(f"it could not write its points to the store, so it went back to the queue: {reason}")
    if exit.lost:
        return store.release_trial(trial.id, reason=f"{exit.message or 'lost'}; re-queued (not counted as an attempt)")
    if exit.timed_out:
        why = f"timed out (run.timeout){'; ' + exit.message if exit.message else ''}"
        return store.finish_trial(trial.id, TrialState.FAILED, reason=f"{why}{_tail(folder)}")
    if exit.returncode == 0:
        return _complete(store, trial, objective)
    why = exit.message or exit_words(exit.returncode)
    if trial.attempt < retries:
        return store.finish_trial(trial.id, TrialState.WAITING, reason=f"{why}; retrying{_tail(folder)}")
    attempts = trial.attempt + 1
    return store.finish_trial(
        trial.id, TrialState.FAILED, reason=f"{why} after {attempts} attempt(s){_tail(folder)}"
    )


def _complete(store: Store, trial: Trial, objective: Objective) -> Trial:
    curve = store.load_curves(trial_ids=[trial.id], metrics=[objective.metric])  # not the other metrics' points
    reduced = reduce_curve(curve["step"].tolist(), curve["value"].tolist(), objective.mode, objective.reduce)
    if reduced is None:
        curves = store.load_curves(trial_ids=[trial.id])
        logged = ", ".join(sorted(set(curves["metric"].astype(str))))
        reason = f"the objective metric {objective.metric!r} was never logged with a finite value (logged: {logged or 'nothing'})"
        if not logged:
            reason += "; if the program prints its metrics, check run.metrics against the lines of its stdout.log"
        return store.finish_trial(trial.id, TrialState.FAILED, reason=reason)
    value, step = reduced
    return store.finish_trial(trial.id, TrialState.COMPLETE, objective=value, best_step=step)


def exit_words(returncode: int | None, unknown: str = "the trial process was lost") -> str:
    """How a trial process ended, in words; ``unknown`` when no code came back."""
    if returncode is None:
        return unknown
    if returncode < 0:
        return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def _tail(folder: Path) -> str:
    try:
        lines = (folder / STDERR_FILE).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    tail = [line for line in lines if line.strip()][-TAIL_LINES:]
    return (f"{STDERR_MARK}\n" + "\n".join(tail)) if tail else ""
