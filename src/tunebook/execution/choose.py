"""Which executor runs a run's trials: the spec's ``run.executor``, or the command line's choice."""

from __future__ import annotations

from tunebook.core.run_spec import RunConfig
from tunebook.execution.base import Executor


def make_executor(config: RunConfig, parallel: int | None, store_url: str | None = None,
                  executor: str | None = None, address: str | None = None) -> Executor:
    """The executor for ``config`` (``executor``/``address`` override ``run.executor``/``run.address``).

    ``parallel`` None: the spec's ``run.parallel`` if it gives one, else for Ray
    as many as the cluster holds. ``store_url`` lets the Ray executor refuse a
    store its other nodes cannot reach, before anything runs.
    """
    kind = executor or config.executor
    if kind == "ray":
        from tunebook.execution.ray import RayExecutor

        return RayExecutor(parallel, cpus=config.cpus_per_trial, gpus=config.gpus_per_trial,
                           resources=config.resources, address=address or config.address, store_url=store_url)
    from tunebook.execution.local import LocalExecutor

    return LocalExecutor(parallel or config.parallel, config.gpus_per_trial)
