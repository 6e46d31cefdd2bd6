"""An exported experiment opens in optuna-dashboard: the real server, started on 127.0.0.1, read through its API."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.optuna_io.helpers import tunebook, write_experiment
from tunebook.analysis.data import load

pytest.importorskip("optuna_dashboard")
START_TIMEOUT_S = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dashboard_command() -> str:
    beside = Path(sys.executable).with_name("optuna-dashboard")
    found = str(beside) if beside.exists() else shutil.which("optuna-dashboard")
    assert found, "optuna-dashboard is installed as a package but its command is missing"
    return found


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def wait_for_studies(process: subprocess.Popen, base: str) -> Any:
    """/api/studies once the server answers; fails with its output if it exits or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"optuna-dashboard exited with {process.returncode}: {process.stdout.read()}")
        try:
            return get_json(f"{base}/api/studies")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"optuna-dashboard did not answer within {START_TIMEOUT_S} s")


@pytest.mark.slow
def test_optuna_dashboard_shows_the_exported_studies_trials_and_states(tmp_path: Path) -> None:
    store, storage = f"sqlite:///{tmp_path / 'tb.db'}", f"sqlite:///{tmp_path / 'optuna.db'}"
    write_experiment(store)
    assert tunebook("export", "optuna", "depth", "--storage", storage, "--store", store) == 0
    data = load("depth", store)
    port = free_port()
    process = subprocess.Popen([dashboard_command(), storage, "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)  # its own group: the server and its workers stop together
    try:
        base = f"http://127.0.0.1:{port}"
        summaries = wait_for_studies(process, base)["study_summaries"]
        assert sorted(s["study_name"] for s in summaries) == ["depth/num_layers=2", "depth/num_layers=4"]
        for summary in summaries:
            assert summary["directions"] == ["minimize"]
            key = summary["study_name"].split("/", 1)[1]
            study = get_json(f"{base}/api/studies/{summary['study_id']}?after=0")
            ours = data.trials[data.trials["study"] == key]
            assert len(study["trials"]) == len(ours)
            shown = {}
            for trial in study["trials"]:
                attrs = {a["key"]: a["value"] for a in trial["user_attrs"]}
                shown[attrs["tunebook_trial"]] = (trial["state"], attrs["tunebook_state"])
            expected = {f"{key}/{n}": ({"complete": "Complete"}.get(s, "Fail"), s)
                        for n, s in zip(ours["number"], ours["state"])}
            assert shown == expected
            assert {s for _, s in shown.values()} == {"complete", "infeasible", "failed"}
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Stop the dashboard's process group (gunicorn and its worker): politely, then for good after 10 s."""
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue
