"""The Ray executor's parts that need no cluster: the task body run here on real trial folders,
placement arithmetic, the store check, a lost trial's settling, the spec's Ray fields.

The same parts on a real two-node cluster: tests/faults/test_ray_nodes.py (slow).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tunebook.core.errors import SpecError, TunebookError
from tunebook.core.experiment import Experiment
from tunebook.core.states import TrialState
from tunebook.execution import Exit
from tunebook.execution.launch import LAUNCH_FILE
from tunebook.execution.prepare import prepare_launch
from tunebook.execution.ray.cluster import connect, refuse_unreachable_store, trial_request, trials_that_fit
from tunebook.execution.ray.executor import bring_back, env_changes
from tunebook.execution.ray.task import ENV_NODE_ID, run_trial
from tunebook.execution.settle import settle
from tunebook.storage import SQLStore
from tunebook.tracking.protocol import CONTEXT_FILE, OUTCOME_FILE, PARAMS_FILE, STDERR_FILE, STDOUT_FILE

from .harness import alive, store_url, write_program

PROGRAM = """
import json, os, subprocess, sys, time
mode = sys.argv[1]
print(json.dumps({"node": os.environ.get("TUNEBOOK_RAY_NODE_ID"), "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
                  "flag": os.environ.get("FROM_SPEC")}), file=sys.stderr)
print(json.dumps({"step": 0, "loss": 0.5}), flush=True)
if mode == "fail":
    print("ValueError: the data file is missing", file=sys.stderr)
    sys.exit(3)
if mode == "hang":  # a helper that ignores SIGTERM, then the program hangs
    helper = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
    open(os.path.join(os.environ["TUNEBOOK_TRIAL_DIR"], "helper.pid"), "w").write(str(helper.pid))
    time.sleep(600)
"""


def _spec(folder: Path) -> Experiment:
    return Experiment.from_dict({
        "name": "raytask", "objective": {"metric": "loss", "mode": "min"},
        "nuisance": {"mode": ["ok", "fail", "hang"]}, "search": {"algorithm": "grid"},
        "run": {"command": "python prog.py {mode}", "metrics": ["json"], "env": {"FROM_SPEC": "yes"}},
    }, source=str(folder / "spec.yaml"))


@pytest.fixture
def launches(tmp_path: Path):
    """(store, {mode: (trial, launch)}): three claimed trials of a real SQLite store, their folders written."""
    write_program(tmp_path, "prog.py", PROGRAM)
    experiment = _spec(tmp_path)
    with SQLStore(store_url(tmp_path)) as store:
        record = store.ensure_experiment(experiment.name, experiment.to_dict())
        study = store.ensure_study(record.id, "default", {}, budget=3)
        modes = ["ok", "fail", "hang"]
        out = {}
        for mode in modes:
            trial = store.claim_trial(study.id, "tests", lambda n: {"mode": modes[n]})
            launch = prepare_launch(trial, "default", experiment, experiment.run_config(), store, tmp_path / "runs",
                                    tmp_path)
            out[mode] = trial, launch
        yield store, out


def _run(launch, timeout=None, grace=1.0, node="node-abc"):  # noqa: ANN001, ANN202
    files = {name: (launch.trial_dir / name).read_bytes() for name in (LAUNCH_FILE, CONTEXT_FILE, PARAMS_FILE)}
    return run_trial(files, env_changes(launch.env), str(launch.cwd), timeout, grace, node)


def test_a_trial_runs_with_the_nodes_devices_and_logs_its_metrics(launches, monkeypatch):
    store, trials = launches
    trial, launch = trials["ok"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")  # what Ray sets in the worker for this task's GPU
    result = _run(launch)
    assert (result["returncode"], result["timed_out"], result["node"]) == (0, False, "node-abc")
    seen = (launch.trial_dir / STDERR_FILE).read_text()
    assert '"node": "node-abc", "cuda": "1", "flag": "yes"' in seen  # the node's devices, the spec's env
    assert '{"step": 0, "loss": 0.5}' in (launch.trial_dir / STDOUT_FILE).read_text()
    curves = store.load_curves(trial_ids=[trial.id])
    assert curves["value"].tolist() == [0.5]


def test_a_failed_trial_brings_back_the_end_of_its_stderr(launches):
    _, trials = launches
    result = _run(trials["fail"][1])
    assert result["returncode"] == 3
    assert b"ValueError: the data file is missing" in result["stderr_tail"]


def test_a_timeout_ends_the_whole_process_group_even_what_ignores_sigterm(launches):
    _, trials = launches
    launch = trials["hang"][1]
    began = time.monotonic()
    result = _run(launch, timeout=3.0, grace=1.0)
    assert result["timed_out"] and time.monotonic() - began < 20
    helper = int((launch.trial_dir / "helper.pid").read_text())
    deadline = time.monotonic() + 5
    while alive(helper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(helper)


def test_the_files_of_a_trial_are_written_on_a_node_that_lacks_them(launches, tmp_path):
    _, trials = launches
    launch = trials["ok"][1]
    files = {name: (launch.trial_dir / name).read_bytes() for name in (LAUNCH_FILE, CONTEXT_FILE, PARAMS_FILE)}
    for name in files:
        (launch.trial_dir / name).unlink()  # as on a node that never saw this folder
    (launch.trial_dir / OUTCOME_FILE).write_text("{}")  # an earlier attempt's outcome must not count
    result = run_trial(files, env_changes(launch.env), str(launch.cwd), None, 1.0, "n")
    assert result["returncode"] == 0 and result["outcome"] is None
    assert {name: (launch.trial_dir / name).read_bytes() for name in files} == files


def test_a_remote_trials_stderr_tail_and_outcome_are_copied_to_the_runners_folder(tmp_path):
    folder = tmp_path / "trial"
    folder.mkdir()
    copied: set[Path] = set()
    result = {"outcome": '{"state": "infeasible", "reason": "nan"}', "stderr_tail": b"boom\n", "host": "gpu7",
              "node": "abcdef123456"}
    bring_back(folder, result, copied)
    assert (folder / OUTCOME_FILE).read_text() == result["outcome"]
    assert (folder / STDERR_FILE).read_text() == "[tunebook: the end of stderr.log on gpu7, Ray node abcdef12]\nboom\n"
    bring_back(folder, {**result, "stderr_tail": b"second\n"}, copied)  # a later attempt elsewhere replaces it
    assert (folder / STDERR_FILE).read_text().endswith("]\nsecond\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / STDERR_FILE).write_text("the node's own log\n")  # a folder the node shares with us: left alone
    bring_back(shared, result, copied)
    assert (shared / STDERR_FILE).read_text() == "the node's own log\n"


def test_the_env_sent_to_a_node_is_what_the_trial_adds_not_this_machines(launches):
    _, trials = launches
    changes = env_changes(trials["ok"][1].env)
    assert changes["FROM_SPEC"] == "yes" and "TUNEBOOK_TRIAL_DIR" in changes
    assert "PATH" not in changes and "HOME" not in changes and ENV_NODE_ID not in changes
    assert all(os.environ.get(k) != v for k, v in changes.items())


# -- placement and the store check --------------------------------------------------

HEAD = {"Alive": True, "Resources": {"CPU": 8.0, "memory": 1e10, "node:10.0.0.1": 1.0}}
GPU_NODE = {"Alive": True, "Resources": {"CPU": 16.0, "GPU": 4.0, "TPU_pod": 1.0}}


def test_trials_that_fit_count_per_node_by_the_scarcest_resource():
    assert trials_that_fit([HEAD, GPU_NODE], trial_request(2, 0, {})) == 4 + 8
    assert trials_that_fit([HEAD, GPU_NODE], trial_request(1, 1, {})) == 4  # only the GPU node, 4 GPUs
    assert trials_that_fit([HEAD, GPU_NODE], trial_request(3, 2, {})) == 2
    assert trials_that_fit([HEAD, GPU_NODE], trial_request(0.5, 0, {"TPU_pod": 0.5})) == 2


def test_a_trial_no_node_can_hold_is_refused_naming_what_it_asks_and_what_there_is():
    with pytest.raises(TunebookError) as info:
        trials_that_fit([HEAD, GPU_NODE], trial_request(1, 8, {}))
    message = str(info.value)
    assert "CPU=1, GPU=8" in message and "GPU=4" in message and "run.gpus_per_trial" in message


def test_a_sqlite_store_is_refused_only_with_more_than_one_node(tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'x.db'}"
    refuse_unreachable_store(sqlite, [HEAD])  # one machine: it can reach the file
    refuse_unreachable_store("postgresql://u@db:5432/t", [HEAD, GPU_NODE])
    with pytest.raises(TunebookError, match=r"SQLite file .* 2 nodes.*--store postgresql://"):
        refuse_unreachable_store(sqlite, [HEAD, GPU_NODE])
    assert not (tmp_path / "x.db").exists()


def test_a_ray_address_nobody_answers_on_is_refused_at_once_naming_it():
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    ray = pytest.importorskip("ray")
    began = time.monotonic()
    with pytest.raises(TunebookError, match=rf"run.address: nothing answers at 127.0.0.1:{port} .*ray start --head"):
        connect(ray, f"127.0.0.1:{port}")
    assert time.monotonic() - began < 10  # Ray on its own retries for minutes
    with pytest.raises(TunebookError, match="must be HOST:PORT, auto, local or ray://HOST:PORT, got 'headnode'"):
        connect(ray, "headnode")
    assert not ray.is_initialized()


# -- a lost trial, settled -------------------------------------------------------------


def test_a_lost_trial_goes_back_to_waiting_without_spending_an_attempt(launches):
    store, trials = launches
    trial, launch = trials["ok"]
    objective = Experiment.from_dict(_spec(launch.cwd).to_dict()).objective
    done = settle(store, trial, Exit(None, lost=True, message="its Ray node or worker died (NodeDiedError)"),
                  objective, launch.trial_dir, retries=0)
    assert (done.state, done.attempt) == (TrialState.WAITING, 0)
    assert "NodeDiedError" in done.reason and "not counted as an attempt" in done.reason


# -- the spec -------------------------------------------------------------------------------


@pytest.mark.parametrize("field, value, fragment", [
    ("executor", "slurm", "run.executor: must be one of local, ray, got 'slurm'"),
    ("cpus_per_trial", 0, "run.cpus_per_trial: must be a number > 0, got 0"),
    ("resources", {"TPU": -1}, "run.resources: must map Ray resource names to amounts >= 0, got {'TPU': -1}"),
    ("address", 6379, "run.address: must be text, got 6379"),
])
def test_bad_ray_fields_name_the_field_and_the_value(tmp_path, field, value, fragment):
    data = _spec(tmp_path).to_dict()
    data["run"] = {**data["run"], field: value}
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(data).run_config()
    assert fragment in str(info.value)


def test_ray_fields_read_from_the_spec(tmp_path):
    data = _spec(tmp_path).to_dict()
    data["run"] = {**data["run"], "executor": "ray", "address": "auto", "cpus_per_trial": 0.5,
                   "resources": {"TPU": 1}}
    config = Experiment.from_dict(data).run_config()
    assert (config.executor, config.address, config.cpus_per_trial, dict(config.resources)) == (
        "ray", "auto", 0.5, {"TPU": 1.0})
