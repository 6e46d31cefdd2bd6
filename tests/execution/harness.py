"""What the execution and ``tunebook run`` tests share: specs and tiny training
programs written into ``tmp_path``, a real SQLite store, and tunebook driven
the way a user drives it (the console script, or a Runner in this process).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import yaml

from tunebook.core.experiment import Experiment
from tunebook.core.records import Trial
from tunebook.execution import LocalExecutor, Runner, StudyProgress, Timing
from tunebook.storage import SQLStore

TUNEBOOK = Path(sys.executable).with_name("tunebook")

# Fast enough that a lost trial is noticed within seconds, slow enough for 2 cores.
FAST = Timing(poll=0.05, heartbeat=0.5, stale_after=3, wait_for_others=0.2)

# The toy's printed line, parsed by a named-group regex with a step group.
LINE_REGEX = r"step (?P<step>\d+) train loss: (?P<train_loss>\S+) valid loss: (?P<valid_loss>\S+)"


def clean_env(**extra: str) -> dict[str, str]:
    """Our environment without tunebook variables that would change what a command does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUNEBOOK_")}
    env["COLUMNS"] = "250"  # rich tables wide enough to read whole cells
    env.update(extra)
    return env


def write_program(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def write_spec(
    folder: Path,
    run: Mapping[str, Any],
    *,
    name: str = "exp",
    trials: int = 3,
    nuisance: Mapping[str, Any] | None = None,
    scientific: Mapping[str, Any] | None = None,
    objective: Mapping[str, Any] | None = None,
    filename: str = "spec.yaml",
    **extra: Any,
) -> Path:
    """A YAML spec in ``folder``: one log-scaled ``lr`` unless told otherwise."""
    spec: dict[str, Any] = {
        "name": name,
        "goal": "does width matter?",
        "objective": dict(objective or {"metric": "valid_loss", "mode": "min"}),
        "nuisance": dict(nuisance or {"lr": {"low": 0.01, "high": 1.0, "scale": "log"}}),
        "search": {"trials": trials},
        "run": dict(run),
    }
    if scientific:
        spec["scientific"] = dict(scientific)
    spec.update(extra)
    path = folder / filename
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def store_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'tunebook.db'}"


def run_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``tunebook ARGS`` as a user types it; output captured as text."""
    return subprocess.run(
        [str(TUNEBOOK), *args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout
    )


def start_cli(*args: str, cwd: Path, log: Path) -> subprocess.Popen:
    """``tunebook ARGS`` in the background, output to ``log``."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [str(TUNEBOOK), *args], cwd=cwd, env=clean_env(), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def run_here(
    spec: Path, url: str, runs: Path, *, parallel: int = 2, trials: int | None = None,
    executor: Any = None, timing: Timing = FAST, on_tick: Callable[[Runner], None] | None = None,
) -> list[StudyProgress]:
    """Run SPEC to its budget with a Runner in this process, as ``tunebook run`` does."""
    experiment = Experiment.from_yaml(str(spec))
    with SQLStore(url) as store:
        runner = Runner(
            experiment, store, executor or LocalExecutor(parallel), runs, trials=trials, timing=timing,
            on_tick=on_tick,
        )
        return runner.run()


def trials_by_study(url: str, experiment: str = "exp") -> dict[str, list[Trial]]:
    with SQLStore(url) as store:
        record = store.get_experiment(experiment)
        keys = {s.id: s.key for s in store.list_studies(record.id)}
        out: dict[str, list[Trial]] = {key: [] for key in keys.values()}
        for trial in store.list_trials(experiment_id=record.id):
            out[keys[trial.study_id]].append(trial)
    return out


def all_trials(url: str, experiment: str = "exp") -> list[Trial]:
    return [t for trials in trials_by_study(url, experiment).values() for t in trials]


def curves_of(url: str, trial_ids: Iterable[int] | None = None) -> dict[tuple[int, str], list[tuple[int, float]]]:
    """(trial id, metric) -> [(step, value), ...] in stored order."""
    with SQLStore(url) as store:
        frame = store.load_curves(trial_ids=None if trial_ids is None else list(trial_ids))
    out: dict[tuple[int, str], list[tuple[int, float]]] = {}
    for trial_id, metric, step, value in frame.itertuples(index=False):
        out.setdefault((int(trial_id), str(metric)), []).append((int(step), float(value)))
    return out


def trial_folder(runs: Path, study: str, number: int, experiment: str = "exp") -> Path:
    return runs / experiment / study / f"{number:04d}"


def wait_for(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll ``condition`` until it returns something truthy; AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(every)


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def idle_spare(pid: int) -> bool:
    """Whether ``pid`` is the local executor's spare launcher still waiting for a trial (its output
    goes nowhere until it gets one; see tunebook.execution.spare): a process, but no trial's."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        return b"--spare" in cmdline and os.readlink(f"/proc/{pid}/fd/1") == os.devnull
    except OSError:
        return False


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def descendants_of(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for child in children_of(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def clean_up_after_failure(runner: subprocess.Popen, pids: Iterable[int]) -> None:
    """SIGKILL the runner we started and the trial processes still alive of those we saw it start.

    Only for a test that failed half-way: after a passing test they are gone,
    and their pids may belong to someone else by now.
    """
    if runner.poll() is None:
        runner.kill()
        runner.wait()
    for pid in pids:
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
