"""What the fault tests share: a trial program that records what the store acknowledged,
and the checks every fault ends with.

The program (``faulty:train``) logs ``loss`` and ``attempt`` (its own pid,
so each attempt's points differ from a retry's) at each step and flushes
every ``per_flush`` steps; once ``flush()`` has returned (the store committed
the points) it appends ``STEP PID`` to ``ACKS/<trial id>.acks`` with one
``write`` (it survives a kill -9 of the process). ``check_after`` then looks
for every acknowledged (step, pid) point in the store: a retry that logs the
same steps again cannot hide a lost one.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.execution.harness import all_trials, curves_of, trials_by_study, write_program, write_spec
from tunebook.core.states import TrialState

PROGRAM = '''
import os, signal, time

ACKS = {acks!r}
STEPS, PER_FLUSH, PAUSE, IGNORE_TERM = {steps}, {per_flush}, {pause}, {ignore_term}


def train(params, trial):
    if IGNORE_TERM:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    acks = os.open(os.path.join(ACKS, f"{{trial.id}}.acks"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    pid = os.getpid()
    for step in range(STEPS):
        trial.log(step, loss=params["lr"] / (1 + step), attempt=float(pid))
        if (step + 1) % PER_FLUSH == 0:
            trial.flush()
            os.write(acks, f"{{step}} {{pid}}\\n".encode())
        time.sleep(PAUSE)
'''


def write_faulty(folder: Path, *, steps: int = 20, per_flush: int = 1, pause: float = 0.05,
                 ignore_term: bool = False) -> Path:
    """``faulty.py`` in ``folder``, acknowledging into ``folder/acks``; returns the acks folder."""
    acks = folder / "acks"
    acks.mkdir(exist_ok=True)
    write_program(folder, "faulty.py", PROGRAM.format(acks=str(acks), steps=steps, per_flush=per_flush,
                                                      pause=pause, ignore_term=ignore_term))
    return acks


def faulty_spec(folder: Path, trials: int, *, parallel: int = 2, retries: int = 1, **run: object) -> Path:
    """A spec of two studies (width 1 and 2) running ``faulty:train``, ``trials`` each."""
    return write_spec(folder, {"function": "faulty:train", "parallel": parallel, "retries": retries, **run},
                      trials=trials, scientific={"width": [1, 2]}, objective={"metric": "loss", "mode": "min"})


def acknowledged(acks: Path) -> dict[int, dict[int, int]]:
    """Trial id -> {attempt pid: the highest step whose points the store acknowledged}."""
    out: dict[int, dict[int, int]] = {}
    for path in acks.glob("*.acks"):
        attempts = out.setdefault(int(path.stem), {})
        for line in path.read_text().splitlines():
            step, pid = (int(word) for word in line.split())
            attempts[pid] = max(step, attempts.get(pid, -1))
    return out


def lost_points(url: str, acks: Path) -> tuple[int, int]:
    """(acknowledged points, how many of them the store lacks).

    Each attempt acknowledged steps 0..S of ``attempt`` (= its pid) and of
    ``loss``: ``attempt`` points are matched by (step, pid), ``loss`` by step.
    """
    acked = acknowledged(acks)
    stored = curves_of(url, list(acked)) if acked else {}
    total = lost = 0
    for trial_id, attempts in acked.items():
        have = set(stored.get((trial_id, "attempt"), []))
        loss_steps = {step for step, _ in stored.get((trial_id, "loss"), [])}
        for pid, last in attempts.items():
            total += 2 * (last + 1)
            lost += sum((step, float(pid)) not in have for step in range(last + 1))
            lost += sum(step not in loss_steps for step in range(last + 1))
    return total, lost


def check_after(url: str, acks: Path, budget: int, row) -> None:  # noqa: ANN001
    """Every fault ends here: 0 acknowledged points lost, 0 trials RUNNING, every study at its budget.

    Adds the figures to ``row`` (a conftest FaultFigures) before asserting.
    """
    total, lost = lost_points(url, acks)
    trials = all_trials(url)
    running = [t for t in trials if t.state is TrialState.RUNNING]
    studies = trials_by_study(url)
    at_budget = [key for key, ts in studies.items()
                 if sorted(t.number for t in ts) == list(range(budget)) and all(t.state.is_finished for t in ts)]
    row.acked_points += total
    row.lost_points += lost
    row.left_running += len(running)
    row.studies += len(studies)
    row.studies_at_budget += len(at_budget)
    assert lost == 0, f"{lost} of {total} acknowledged points are missing from the store"
    assert total > 0, "no point was acknowledged: the fault hit before anything ran"
    assert not running, f"trials left RUNNING: {[(t.study_id, t.number) for t in running]}"
    assert sorted(at_budget) == sorted(studies), {k: [(t.number, t.state.value) for t in ts] for k, ts in studies.items()}


def launcher_pids(root_pid: int) -> list[int]:
    """Trial launcher processes (``python -m tunebook.execution.launch``) below ``root_pid``,
    not counting a spare launcher that has no trial yet."""
    from tests.execution.harness import descendants_of, idle_spare

    found = []
    for pid in descendants_of(root_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"tunebook.execution.launch" in cmdline and not idle_spare(pid):
            found.append(pid)
    return found


def kill9(pid: int) -> bool:
    """SIGKILL ``pid``; whether it was still there to kill."""
    try:
        os.kill(pid, signal.SIGKILL)
        return True
    except ProcessLookupError:
        return False


def no_traceback(text: str) -> None:
    assert "Traceback" not in text, text
