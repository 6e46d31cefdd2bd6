"""Who runs a trial: a runner's ``host:pid`` name, and whether that runner is gone.

Light (standard library only), so ``tunebook status`` can tell a dead
runner's trials without loading the runner.
"""

from __future__ import annotations

import os
import socket


def worker_name() -> str:
    """``host:pid`` of this runner; lets a later runner spot trials whose runner died."""
    return f"{socket.gethostname()}:{os.getpid()}"


def dead_here(worker: str | None) -> bool:
    """Whether ``worker`` names a process on this host that no longer exists."""
    if not worker or ":" not in worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
