"""The Ray executor: each trial a Ray task on whichever node of the cluster has room for it.

The task (execution/ray/task.py) runs the trial launcher as a subprocess in
its own process group on that node; metrics go to the store from there, logs
to the trial folder on that node. Ray itself retries nothing (max_retries=0):
a task whose node or worker died comes back as a *lost* Exit, which the
runner re-queues without spending the trial's crash retries.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any, Mapping

from tunebook.core.errors import TunebookError
from tunebook.execution.base import Executor, Exit, Launch
from tunebook.execution.launch import LAUNCH_FILE
from tunebook.execution.ray import cluster
from tunebook.execution.ray.task import ray_task, warm_up
from tunebook.execution.settle import exit_words
from tunebook.tracking.protocol import CONTEXT_FILE, OUTCOME_FILE, PARAMS_FILE, STDERR_FILE

MAX_LOSSES = 3  # a trial lost this many times in one run is reported as a crash (its retries then apply)
_CANCEL_SLACK_S = 5.0  # after the grace period, how long a cancelled task may take to report back
_LOST_ERRORS = (
    "NodeDiedError", "WorkerCrashedError", "LocalRayletDiedError", "ObjectLostError", "RaySystemError",
)


@dataclasses.dataclass
class _Task:
    launch: Launch
    ref: Any  # ray.ObjectRef of the task's result


class RayExecutor(Executor):
    """Trials as Ray tasks, each asking for ``cpus``, ``gpus`` and ``resources``.

    ``parallel`` None: as many trials at once as the cluster's live nodes can
    hold (counted when the executor starts). ``store_url``: a SQLite store is
    refused when the cluster has more than one node (TunebookError, before
    anything runs). ``grace``: seconds between SIGTERM and SIGKILL when a
    trial is stopped.
    """

    def __init__(self, parallel: int | None = None, cpus: float = 1.0, gpus: int = 0,
                 resources: Mapping[str, float] | None = None, address: str | None = None,
                 store_url: str | None = None, grace: float = 10.0):
        self._ray = cluster.import_ray()
        cluster.connect(self._ray, address)
        try:
            nodes = cluster.alive_nodes(self._ray)
            cluster.refuse_unreachable_store(store_url, nodes)
            request = cluster.trial_request(cpus, gpus, resources or {})
            fits = cluster.trials_that_fit(nodes, request)
        except TunebookError:
            self._ray.shutdown()
            raise
        self._capacity = parallel or fits
        self._grace = grace
        shape = {"num_cpus": cpus, "num_gpus": gpus, "resources": dict(resources or {})}
        # no max_calls: a worker runs trial after trial (each trial is a subprocess of it anyway)
        self._remote = self._ray.remote(ray_task).options(
            **shape, max_retries=0, retry_exceptions=False, name="tunebook-trial",
        )
        # start a worker per trial slot now, while the runner prepares the run (not waited for: on a
        # 2-core machine 8 cold workers take ~7 s, which the first trials would otherwise wait through)
        warm = self._ray.remote(warm_up).options(**shape, name="tunebook-warm-up")
        for _ in range(min(self._capacity, fits)):
            warm.remote()
        self._tasks: dict[int, _Task] = {}
        self._losses: dict[int, int] = {}
        self._copied_logs: set[Path] = set()

    @property
    def capacity(self) -> int:
        return self._capacity

    def start(self, launch: Launch) -> None:
        files = {name: (launch.trial_dir / name).read_bytes()
                 for name in (LAUNCH_FILE, CONTEXT_FILE, PARAMS_FILE) if (launch.trial_dir / name).exists()}
        ref = self._remote.remote(files, env_changes(launch.env), str(launch.cwd), launch.timeout, self._grace)
        self._tasks[launch.trial_id] = _Task(launch, ref)

    def poll(self) -> list[tuple[int, Exit]]:
        if not self._tasks:
            return []
        by_ref = {task.ref: trial_id for trial_id, task in self._tasks.items()}
        ready, _ = self._ray.wait(list(by_ref), num_returns=len(by_ref), timeout=0, fetch_local=True)
        return [(by_ref[ref], self._finish(by_ref[ref])) for ref in ready]

    def running(self) -> list[int]:
        return list(self._tasks)

    def stop_all(self, grace: float = 10.0) -> list[int]:
        """Cancel every task (the task ends its trial's group: SIGTERM, SIGKILL after its grace), then force."""
        refs = [task.ref for task in self._tasks.values()]
        for ref in refs:
            self._ray.cancel(ref, force=False)
        deadline = time.monotonic() + max(grace, self._grace) + _CANCEL_SLACK_S
        pending = refs
        while pending and time.monotonic() < deadline:
            _, pending = self._ray.wait(pending, num_returns=len(pending), timeout=0.2)
        for ref in pending:  # kills the worker; the launcher dies with it (PDEATHSIG)
            self._ray.cancel(ref, force=True)
        stopped = list(self._tasks)
        self._tasks.clear()
        return stopped

    def close(self) -> None:
        if self._ray.is_initialized():
            self._ray.shutdown()

    def _finish(self, trial_id: int) -> Exit:
        task = self._tasks.pop(trial_id)
        try:
            result = self._ray.get(task.ref)
        except Exception as exc:  # noqa: BLE001 - every Ray error becomes an Exit: the runner must go on
            return self._failed(trial_id, exc)
        bring_back(task.launch.trial_dir, result, self._copied_logs)
        where = f"on Ray node {result['node'][:8]} ({result['host']})"
        return Exit(result["returncode"], timed_out=result["timed_out"],
                    message="" if result["returncode"] == 0 else f"{exit_words(result['returncode'], unknown='stopped')} {where}")

    def _failed(self, trial_id: int, exc: Exception) -> Exit:
        """A task that raised: lost (its node or worker died) or broken (anything else)."""
        kind = type(exc).__name__
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else kind
        if any(cls.__name__ in _LOST_ERRORS for cls in type(exc).__mro__):
            self._losses[trial_id] = self._losses.get(trial_id, 0) + 1
            if self._losses[trial_id] < MAX_LOSSES:
                return Exit(None, lost=True, message=f"its Ray node or worker died ({kind})")
            return Exit(None, message=f"lost with its Ray node or worker {MAX_LOSSES} times in this run ({kind})")
        return Exit(None, message=f"the Ray task failed ({kind}: {first[:300]})")


def bring_back(folder: Path, result: Mapping[str, Any], copied: set[Path]) -> None:
    """What settle reads from the trial folder, when the node that ran the trial does not share it with us.

    outcome.json (an infeasible trial's verdict) unless the folder has it; and
    stderr.log's tail, when this folder has no stderr.log of its own (the node
    wrote it elsewhere) or holds an earlier copy (``copied``: the folders
    already given one; added to).
    """
    if result["outcome"] is not None and not (folder / OUTCOME_FILE).exists():
        (folder / OUTCOME_FILE).write_text(result["outcome"])
    log = folder / STDERR_FILE
    tail = result["stderr_tail"]
    if tail and (folder in copied or not log.exists()):
        note = f"[tunebook: the end of stderr.log on {result['host']}, Ray node {result['node'][:8]}]\n"
        log.write_bytes(note.encode() + tail)
        copied.add(folder)


def env_changes(env: Mapping[str, str]) -> dict[str, str]:
    """The trial's variables that differ from this runner's own: what the task adds on its node."""
    mine = os.environ
    return {name: value for name, value in env.items() if mine.get(name) != value and name != "PATH"}
