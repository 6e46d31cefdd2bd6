"""Joining a Ray cluster: import Ray, connect, and check the cluster can run this experiment's trials.

Runs on the runner's machine only. Ray is imported here, lazily, with an
error naming the extra when it is missing.
"""

from __future__ import annotations

import os
import socket
from typing import Any, Mapping

from tunebook.core.errors import TunebookError
from tunebook.storage.url import display_url, sqlite_file

LOCAL = "local"  # run.address: start a private single-node Ray instance for this run


def import_ray() -> Any:
    """The ``ray`` module; TunebookError naming the extra when it is not installed."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # set before Ray is first imported: nothing phones home
    try:
        import ray
    except ImportError as exc:
        raise TunebookError(
            f"run.executor: ray needs Ray, which is not installed here ({exc}): pip install 'tunebook[ray]'"
        ) from None
    return ray


def connect(ray: Any, address: str | None) -> None:
    """Join the cluster at ``address``.

    None: Ray's own choice (RAY_ADDRESS, else a cluster started on this
    machine with ``ray start``, else a new local instance); ``auto``: a
    cluster already running, never a new one; ``local``: a new private
    instance; anything else: that address (``HOST:PORT`` or ``ray://...``).
    """
    if ray.is_initialized():
        return
    _check_reachable(address)
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": "WARNING", "configure_logging": True}
    if address == LOCAL:
        options["include_dashboard"] = False
    try:
        ray.init(address=None if address == LOCAL else address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise TunebookError(
            f"run.address: cannot join a Ray cluster at {address or 'the default address'} ({_first_line(exc)}). "
            "Start one with `ray start --head` (and `ray start --address=HEAD_IP:6379` on the other machines), "
            "then give its address with run.address or --ray-address (auto: the one started on this machine)"
        ) from None


def _check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """A ``HOST:PORT`` nobody answers on fails here at once (Ray itself would retry for minutes)."""
    if address is None or address in ("auto", LOCAL) or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise TunebookError(f"run.address: must be HOST:PORT, auto, local or ray://HOST:PORT, got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise TunebookError(
            f"run.address: nothing answers at {address} ({exc.strerror or exc}). Is the Ray head running there "
            "(`ray start --head --port PORT`) and reachable from this machine?"
        ) from None


def alive_nodes(ray: Any) -> list[dict[str, Any]]:
    return [node for node in ray.nodes() if node.get("Alive")]


def refuse_unreachable_store(store_url: str | None, nodes: list[dict[str, Any]]) -> None:
    """A SQLite file lives on one machine: with more than one node, trials elsewhere could not log to it."""
    if store_url is None or sqlite_file(store_url) is None or len(nodes) <= 1:
        return
    raise TunebookError(
        f"--store: {display_url(store_url)} is a SQLite file on this machine, and the Ray cluster has "
        f"{len(nodes)} nodes: trials on the others could not reach it. Use a PostgreSQL store every node can "
        "reach: --store postgresql://USER@HOST:5432/DATABASE (or TUNEBOOK_STORE)"
    )


def trial_request(cpus: float, gpus: int, resources: Mapping[str, float]) -> dict[str, float]:
    """What one trial asks of a node, in Ray's resource names (zero amounts left out)."""
    request = {"CPU": float(cpus), "GPU": float(gpus), **{k: float(v) for k, v in resources.items()}}
    return {name: amount for name, amount in request.items() if amount > 0}


def trials_that_fit(nodes: list[dict[str, Any]], request: Mapping[str, float]) -> int:
    """How many trials the live nodes can run at once: per node, the fewest of its resources allow, summed.

    TunebookError when no node can hold even one, naming what is asked and what the nodes have.
    """
    total = sum(_fits(node.get("Resources", {}), request) for node in nodes)
    if total == 0:
        have = "; ".join(_describe(node.get("Resources", {})) for node in nodes) or "no live node"
        asked = ", ".join(f"{name}={amount:g}" for name, amount in request.items())
        raise TunebookError(
            f"run: each trial asks for {asked} (run.cpus_per_trial, run.gpus_per_trial, run.resources) "
            f"but no node of the Ray cluster has that much ({have}): ask for less, or add a node that has it"
        )
    return total


def _fits(resources: Mapping[str, float], request: Mapping[str, float]) -> int:
    if not request:
        return 0
    return int(min(resources.get(name, 0.0) // amount for name, amount in request.items()))


def _describe(resources: Mapping[str, float]) -> str:
    shown = {k: v for k, v in resources.items() if not k.startswith("node:") and "memory" not in k}
    return ", ".join(f"{k}={v:g}" for k, v in sorted(shown.items())) or "nothing"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
