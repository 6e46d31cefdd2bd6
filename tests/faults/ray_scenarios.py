"""What tests/faults/test_ray_nodes.py asserts on, gathered on a real two-node Ray cluster.

``python -m tests.faults.ray_scenarios OUT.json WORKDIR``, run inside a network
namespace with only loopback: starts PostgreSQL (tests/conftest.py's server)
and a Ray cluster (tests/faults/ray_cluster.py), runs ``tunebook run
--executor ray`` through each scenario, and writes the facts it saw as JSON
(no verdicts: the tests judge). Every wait is bounded; the cluster and the
server are stopped in a finally.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Callable

import yaml

from tests.conftest import _DATABASE, _pg_bindir, _Server
from tests.faults.ray_cluster import RayCluster

REPO = Path(__file__).resolve().parents[2]

# Each attempt appends "node-id cuda-devices pid" to nodes.txt in its trial folder, then prints its curve.
PROGRAM = """
import json, os, sys, time
x, marker, steps, pause = float(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
folder = os.environ["TUNEBOOK_TRIAL_DIR"]
with open(os.path.join(folder, "nodes.txt"), "a") as f:
    f.write(f"{os.environ.get('TUNEBOOK_RAY_NODE_ID')} {os.environ.get('CUDA_VISIBLE_DEVICES')} {os.getpid()}\\n")
for step in range(steps):
    print(json.dumps({"step": step, "loss": (x - 0.3) ** 2 + 1.0 / (step + 1)}), flush=True)
    time.sleep(pause)
"""


class Scenarios:
    def __init__(self, workdir: Path, cluster: RayCluster, store: str):
        self.workdir, self.cluster, self.store = workdir, cluster, store
        (workdir / "prog.py").write_text(textwrap.dedent(PROGRAM).lstrip())

    def spec(self, name: str, trials: int, steps: int, pause: float, **run: Any) -> Path:
        """A spec whose trials run PROGRAM; retries 0, so a node loss counted as a crash would fail the trial."""
        runs = self.runs(name)
        spec = {
            "name": name, "objective": {"metric": "loss", "mode": "min"},
            "nuisance": {"x": {"low": 0.0, "high": 1.0}}, "search": {"trials": trials},
            "run": {"command": f"python prog.py {{x}} {runs} {steps} {pause}", "metrics": ["json"], "retries": 0,
                    "executor": "ray", **run},
        }
        path = self.workdir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        return path

    def runs(self, name: str) -> Path:
        return self.workdir / f"runs-{name}"

    def tunebook(self, spec: Path, store: str, log: Path) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TUNEBOOK_")}
        env.update(PYTHONPATH=str(REPO / "src"), RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled", COLUMNS="200")
        argv = [sys.executable, "-m", "tunebook.cli.main", "run", str(spec), "--store", store,
                "--executor", "ray", "--ray-address", self.cluster.address, "--runs", str(self.runs(spec.stem))]
        with open(log, "wb") as out:
            return subprocess.Popen(argv, cwd=self.workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)

    def finish(self, runner: subprocess.Popen, log: Path, timeout: float) -> dict[str, Any]:
        try:
            runner.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            runner.kill()
            runner.wait()
        # the whole log: Ray's own warnings, printed after tunebook's lines, would push them out of a tail
        return {"returncode": runner.returncode, "output": log.read_text(errors="replace")}

    def trials(self, name: str) -> list[dict[str, Any]]:
        """Each trial of experiment ``name``: state, attempt, reason, and the attempts' nodes.txt lines."""
        from tunebook.storage import open_store

        with open_store(self.store) as store:
            record = store.get_experiment(name)
            studies = {s.id: s.key for s in store.list_studies(record.id)}
            found = []
            for trial in store.list_trials(experiment_id=record.id):
                folder = self.runs(name) / name / studies[trial.study_id] / f"{trial.number:04d}"
                nodes = folder / "nodes.txt"
                found.append({
                    "number": trial.number, "state": trial.state.value, "attempt": trial.attempt,
                    "reason": trial.reason, "attempts": nodes.read_text().split("\n")[:-1] if nodes.exists() else [],
                })
        return found

    def strays(self, name: str) -> list[str]:
        """Command lines of live processes that belong to experiment ``name``'s trials (launchers, programs)."""
        marker = str(self.runs(name))
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                if marker in cmdline and _state(int(entry.name)) != "Z":
                    found.append(cmdline.strip())
        return found

    def running_on(self, name: str, attempt: int = 1) -> list[str]:
        """The node of each RUNNING trial whose ``attempt``-th start (nodes.txt line) has begun."""
        try:
            return [t["attempts"][-1].split()[0] for t in self.trials(name)
                    if t["state"] == "running" and len(t["attempts"]) >= attempt]
        except Exception:  # noqa: BLE001 - the experiment may not exist yet
            return []


def sqlite_refused(s: Scenarios) -> dict[str, Any]:
    """`tunebook run --executor ray` with a SQLite store on a two-node cluster."""
    spec = s.spec("sqlite", trials=2, steps=2, pause=0.1)
    db = s.workdir / "refused.db"
    log = s.workdir / "sqlite.log"
    done = s.finish(s.tunebook(spec, f"sqlite:///{db}", log), log, timeout=90)
    return {**done, "db_exists": db.exists(), "runs_exist": s.runs("sqlite").exists()}


def gpu_placement(s: Scenarios, worker_node: str) -> dict[str, Any]:
    """Trials asking for a GPU, on a cluster whose only GPUs are the worker node's two."""
    spec = s.spec("gpus", trials=3, steps=3, pause=0.3, gpus_per_trial=1)
    log = s.workdir / "gpus.log"
    done = s.finish(s.tunebook(spec, s.store, log), log, timeout=120)
    return {**done, "trials": s.trials("gpus"), "worker_node": worker_node, "strays": s.strays("gpus")}


def node_killed(s: Scenarios, worker_node: str) -> dict[str, Any]:
    """6 trials over both nodes; the worker node killed (its raylet and Ray workers, -9) while it runs trials."""
    spec = s.spec("nodes", trials=6, steps=10, pause=0.4)
    log = s.workdir / "nodes.log"
    runner = s.tunebook(spec, s.store, log)
    facts: dict[str, Any] = {"worker_node": worker_node}

    def both_nodes_busy() -> bool:
        running = s.running_on("nodes")
        return worker_node in running and any(node != worker_node for node in running)

    facts["both_nodes_were_busy"] = _wait(both_nodes_busy, 120)
    facts["running_on_worker_at_kill"] = s.running_on("nodes").count(worker_node)
    facts["killed_processes"] = s.cluster.kill_worker_node(spare=str(s.runs("nodes")))
    killed = time.monotonic()
    facts.update(s.finish(runner, log, timeout=180))
    facts["finished_after_kill_s"] = time.monotonic() - killed
    facts["trials"] = s.trials("nodes")
    facts["strays"] = s.strays("nodes")
    return facts


def runner_stopped(s: Scenarios) -> dict[str, Any]:
    """A run stopped with SIGTERM (Ctrl-C's path), the next killed with kill -9, both while trials run;
    a third starts at once after the kill and finishes the experiment."""
    spec = s.spec("orphans", trials=2, steps=10, pause=0.4)
    facts: dict[str, Any] = {}
    first = s.tunebook(spec, s.store, s.workdir / "orphans-1.log")
    facts["first_was_running"] = _wait(lambda: len(s.running_on("orphans")) >= 2, 120)
    first.send_signal(signal.SIGTERM)
    facts["after_sigterm"] = s.finish(first, s.workdir / "orphans-1.log", timeout=60)
    facts["after_sigterm"]["states"] = [t["state"] for t in s.trials("orphans")]
    facts["after_sigterm"]["strays"] = s.strays("orphans")
    second = s.tunebook(spec, s.store, s.workdir / "orphans-2.log")
    facts["trials_were_running"] = _wait(lambda: len(s.running_on("orphans", attempt=2)) >= 2, 120)
    facts["strays_before_kill"] = len(s.strays("orphans"))
    facts["killed_pids"] = [int(t["attempts"][-1].split()[2]) for t in s.trials("orphans") if t["attempts"]]
    second.kill()
    second.wait()
    third_log = s.workdir / "orphans-3.log"
    third = s.tunebook(spec, s.store, third_log)
    killed = time.monotonic()
    gone = _wait(lambda: not any(_state(pid) not in ("", "Z") for pid in facts["killed_pids"]), 60)
    facts["orphans_gone_after_s"] = gone and time.monotonic() - killed
    facts.update(s.finish(third, third_log, timeout=180))
    facts["trials"] = s.trials("orphans")
    facts["strays"] = s.strays("orphans")
    return facts


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def _safe(read: Callable[[], list]) -> list:
    try:
        return read()
    except Exception:  # noqa: BLE001 - the experiment may not exist yet
        return []


def _wait(condition: Callable[[], Any], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def main(out: Path, workdir: Path) -> None:
    results: dict[str, Any] = {}
    bindir = _pg_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl)")
    server, cluster = _Server(bindir), RayCluster(str(REPO / "src"))
    try:
        server.start()
        server.admin(f"CREATE DATABASE {_DATABASE}")
        started = time.monotonic()
        cluster.start()
        results["cluster_start_s"] = time.monotonic() - started
        worker_node = _worker_node(cluster)
        s = Scenarios(workdir, cluster, server.url(_DATABASE))
        for name, scenario in (("sqlite", lambda: sqlite_refused(s)), ("gpus", lambda: gpu_placement(s, worker_node)),
                               ("nodes", lambda: node_killed(s, worker_node)), ("orphans", lambda: runner_stopped(s))):
            began = time.monotonic()
            results[name] = scenario()
            results[name]["seconds"] = time.monotonic() - began
            out.write_text(json.dumps(results, indent=2))
    finally:
        cluster.stop()
        results["cluster_processes_left"] = len(cluster.processes())
        server.stop()
        out.write_text(json.dumps(results, indent=2))


def _worker_node(cluster: RayCluster) -> str:
    """The id of the node that has GPUs (asked of the cluster in a child process, so this one stays Ray-free)."""
    code = ("import ray; ray.init(address=%r, log_to_driver=False, logging_level='ERROR');"
            "print([n['NodeID'] for n in ray.nodes() if n['Alive'] and n['Resources'].get('GPU')][0])")
    done = subprocess.run([sys.executable, "-c", code % cluster.address], env=cluster.env, capture_output=True,
                          text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return done.stdout.strip().splitlines()[-1]


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
