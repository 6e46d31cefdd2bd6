"""A real two-node Ray cluster and a PostgreSQL server on loopback, for the Ray fault tests.

Run inside a network namespace that has only loopback (outside one, Ray binds
this machine's network address even when asked for 127.0.0.1):
``unshare -n bash -c 'ip link set lo up; exec python -m tests.faults.ray_scenarios ...'``.

Every process the cluster starts carries ``TUNEBOOK_RAY_TEST=<tag>`` in its
environment; ``stop`` SIGKILLs exactly those (never by name, never another
session's Ray).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")
HEAD_PORT = 16379
_HEAD_PORTS = dict(node_manager=16380, object_manager=16381, min_worker=16400, max_worker=16449)
_WORKER_PORTS = dict(node_manager=16382, object_manager=16383, min_worker=16450, max_worker=16499)
MARK = "TUNEBOOK_RAY_TEST"


class RayCluster:
    """A head (2 CPUs, no GPU) and a worker node (2 CPUs, 2 fake GPUs) on 127.0.0.1."""

    def __init__(self, pythonpath: str):
        self.tag = f"{os.getpid()}-{time.time_ns()}"
        self.temp = Path(tempfile.mkdtemp(prefix="tbray-", dir="/tmp"))  # short: Ray's socket paths are limited
        self.env = {**os.environ, MARK: self.tag, "RAY_USAGE_STATS_ENABLED": "0",
                    # a ~/.ray/auth_token left by any earlier ray.init() would turn token auth on for the head only
                    "RAY_AUTH_MODE": "disabled", "PYTHONPATH": pythonpath}
        self.address = f"127.0.0.1:{HEAD_PORT}"

    def start(self, attempts: int = 3) -> None:
        """Start both nodes; again from scratch when Ray gives up (it allows a raylet 30 s to register,
        which a loaded 2-core machine can miss)."""
        for attempt in range(attempts):
            try:
                self._start_nodes()
                return
            except RuntimeError:
                self.stop(remove=False)
                if attempt == attempts - 1:
                    raise

    def _start_nodes(self) -> None:
        self._ray_start(["--head", f"--port={HEAD_PORT}", "--num-cpus=2", "--num-gpus=0", "--include-dashboard=false"], _HEAD_PORTS)
        self._ray_start([f"--address={self.address}", "--num-cpus=2", "--num-gpus=2"], _WORKER_PORTS)

    def _ray_start(self, args: list[str], ports: dict[str, int]) -> None:
        command = [
            str(RAY), "start", *args, "--node-ip-address=127.0.0.1",
            "--disable-usage-stats", f"--temp-dir={self.temp}",
            f"--node-manager-port={ports['node_manager']}", f"--object-manager-port={ports['object_manager']}",
            f"--min-worker-port={ports['min_worker']}", f"--max-worker-port={ports['max_worker']}",
        ]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")

    def worker_raylet(self) -> int | None:
        """The worker node's raylet pid (found by its node-manager port among this cluster's processes)."""
        flag = f"--node_manager_port={_WORKER_PORTS['node_manager']}"
        for pid in self.processes():
            cmdline = _read(f"/proc/{pid}/cmdline").replace("\0", " ")
            if "raylet" in cmdline.split(" ")[0] and flag in cmdline:
                return pid
        return None

    def kill_worker_node(self, spare: str) -> int:
        """SIGKILL the worker node's raylet and every process below it (its Ray workers and agents) at once,
        as a machine that dies; processes whose command line holds ``spare`` (the trials) are left to die
        on their own, as tunebook's launcher must when its worker goes. Returns how many were killed."""
        raylet = self.worker_raylet()
        if raylet is None:
            return 0
        doomed = [raylet] + [pid for pid in _descendants(raylet) if spare not in _read(f"/proc/{pid}/cmdline")]
        for pid in doomed:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(doomed)

    def processes(self) -> list[int]:
        """Pids of live processes carrying this cluster's tag (its Ray processes, workers, trials)."""
        wanted = f"{MARK}={self.tag}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    if wanted in (entry / "environ").read_bytes().split(b"\0"):
                        found.append(int(entry.name))
                except OSError:
                    continue
        return found

    def stop(self, remove: bool = True) -> None:
        """SIGKILL every process of this cluster, a few passes (Ray restarts nothing once its raylets are gone)."""
        for _ in range(5):
            pids = self.processes()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.5)
        if remove:
            shutil.rmtree(self.temp, ignore_errors=True)


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _read(f"/proc/{entry.name}/stat")
            if stat:
                parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _read(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""
