"""`tunebook run --executor ray` on a real two-node Ray cluster: placement, a node killed, a runner killed.

One cluster for the module (tests/faults/ray_scenarios.py, run once inside a
network namespace with only loopback, with its own PostgreSQL server); each
test judges one part of what it saw. A head with 2 CPUs and no GPU, a worker
node with 2 CPUs and 2 fake GPUs. Trials run with ``retries: 0``: a node loss
that spent an attempt would end the trial FAILED.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]


def _namespace_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root, to make a network namespace with only loopback (unshare -n)"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs unshare and ip (util-linux, iproute2)"
    done = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True, text=True)
    if done.returncode != 0:
        return f"cannot make a network namespace here: {done.stderr.strip()}"
    return None


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the scenarios saw (see ray_scenarios.py), run once for the module."""
    pytest.importorskip("ray")
    reason = _namespace_unavailable()
    if reason:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("ray")
    out = workdir / "seen.json"
    inner = (f"ip link set lo up && exec {sys.executable} -m tests.faults.ray_scenarios {out} {workdir}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    done = subprocess.run(["unshare", "-n", "bash", "-c", inner], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=420)
    assert out.exists(), f"the scenarios wrote nothing (exit {done.returncode}):\n{done.stderr[-3000:]}"
    facts = json.loads(out.read_text())
    print(f"Ray scenarios: cluster start {facts.get('cluster_start_s', 0):.1f} s; " + ", ".join(
        f"{name} {facts[name]['seconds']:.1f} s" for name in ("sqlite", "gpus", "nodes", "orphans") if name in facts))
    assert done.returncode == 0, done.stderr[-3000:]
    return facts


def _completed_run(facts: dict[str, Any]) -> None:
    assert facts["returncode"] == 0, facts["output"]


def _final_node(trial: dict[str, Any]) -> str:
    return trial["attempts"][-1].split()[0]


def test_a_sqlite_store_is_refused_on_a_two_node_cluster_before_anything_runs(seen: dict[str, Any]) -> None:
    refused = seen["sqlite"]
    assert refused["returncode"] == 1
    assert "SQLite file" in refused["output"] and "2 nodes" in refused["output"]
    assert "--store postgresql://" in refused["output"]
    assert "Traceback" not in refused["output"]
    assert not refused["db_exists"] and not refused["runs_exist"]  # nothing written, not even an empty store


def test_gpu_trials_run_on_the_gpu_node_with_their_own_cuda_devices(seen: dict[str, Any]) -> None:
    gpus = seen["gpus"]
    _completed_run(gpus)
    assert [t["state"] for t in gpus["trials"]] == ["complete"] * 3
    for trial in gpus["trials"]:
        node, devices, _ = trial["attempts"][-1].split()
        assert node == gpus["worker_node"]  # the head has no GPU
        assert devices in ("0", "1")  # one of the node's two, as Ray assigned it
    assert gpus["strays"] == []


def test_trials_spread_over_both_nodes(seen: dict[str, Any]) -> None:
    nodes = seen["nodes"]
    assert nodes["both_nodes_were_busy"]
    ran_on = {line.split()[0] for trial in nodes["trials"] for line in trial["attempts"]}
    assert len(ran_on) == 2 and nodes["worker_node"] in ran_on


def test_a_node_killed_mid_trial_costs_a_retry_and_nothing_else(seen: dict[str, Any]) -> None:
    nodes = seen["nodes"]
    _completed_run(nodes)
    assert nodes["running_on_worker_at_kill"] >= 1 and nodes["killed_processes"] >= 2
    trials = nodes["trials"]
    assert len(trials) == 6 and all(t["state"] == "complete" for t in trials)  # the budget exactly, none RUNNING
    moved = [t for t in trials if len(t["attempts"]) > 1]
    assert moved, "no trial was running on the killed node"
    for trial in moved:
        assert trial["attempts"][0].startswith(nodes["worker_node"])
        assert _final_node(trial) != nodes["worker_node"]  # finished elsewhere
        assert trial["attempt"] == 0  # not counted against run.retries (0 here)
    assert "re-queued" in nodes["output"] and "NodeDiedError" in nodes["output"]
    assert nodes["strays"] == []  # the killed node's trial programs died with their Ray worker


def test_sigterm_stops_a_ray_run_handing_its_trials_back_with_nothing_left_running(seen: dict[str, Any]) -> None:
    stopped = seen["orphans"]["after_sigterm"]
    assert seen["orphans"]["first_was_running"]
    assert stopped["returncode"] == 1 and "handed back" in stopped["output"]
    assert stopped["states"] == ["waiting", "waiting"]  # back in the queue, not RUNNING
    assert stopped["strays"] == []  # each task ended its trial's process group


def test_a_runner_killed_with_kill_9_leaves_nothing_running(seen: dict[str, Any]) -> None:
    orphans = seen["orphans"]
    assert orphans["trials_were_running"] and orphans["strays_before_kill"] >= 2
    # the killed run's programs ended on their own, within 60 s of the next run's start
    assert isinstance(orphans["orphans_gone_after_s"], float)
    _completed_run(orphans)
    trials = orphans["trials"]
    assert len(trials) == 2 and all(t["state"] == "complete" for t in trials)
    # three starts each (stopped, killed, completed), none counted against retries (0 here)
    assert all(len(t["attempts"]) == 3 and t["attempt"] == 0 for t in trials)
    assert orphans["strays"] == []


def test_the_cluster_is_gone_afterwards(seen: dict[str, Any]) -> None:
    assert seen["cluster_processes_left"] == 0
