"""LocalExecutor: trial processes on this machine, GPUs handed out through CUDA_VISIBLE_DEVICES.

``ExecutorContract`` states the Executor interface's contract as tests; any
executor that can run a plain Python program passes it by providing
``make_executor``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable

import pytest

from tunebook.core.errors import TunebookError
from tunebook.execution import Executor, Exit, Launch, LocalExecutor
from tunebook.execution.local import visible_gpus
from tunebook.tracking.protocol import STDERR_FILE, STDOUT_FILE

from .harness import alive, all_trials, run_here, store_url, wait_for, write_program, write_spec


def python_launch(folder: Path, trial_id: int, code: str, timeout: float | None = None) -> Launch:
    """A Launch that runs ``python -c CODE`` in its own trial folder."""
    trial_dir = folder / f"trial-{trial_id}"
    trial_dir.mkdir(parents=True, exist_ok=True)
    return Launch(
        trial_id=trial_id, trial_dir=trial_dir, argv=(sys.executable, "-c", textwrap.dedent(code)),
        env=dict(os.environ), cwd=folder, timeout=timeout,
    )


def wait_all(executor: Executor, ids: set[int], timeout: float = 20) -> dict[int, Exit]:
    ended: dict[int, Exit] = {}

    def done() -> bool:
        for trial_id, exit in executor.poll():
            assert trial_id not in ended, f"trial {trial_id} reported twice"
            ended[trial_id] = exit
        return set(ended) >= ids

    wait_for(done, timeout, f"trials {sorted(ids)} to end")
    return ended


class ExecutorContract:
    """Behaviour every Executor owes the runner loop."""

    make_executor: Callable[..., Executor]

    def test_exit_codes_are_reported_once_each(self, tmp_path):
        executor = self.make_executor(parallel=3)
        assert executor.capacity == 3
        executor.start(python_launch(tmp_path, 1, "pass"))
        executor.start(python_launch(tmp_path, 2, "import sys; sys.exit(3)"))
        executor.start(python_launch(tmp_path, 3, "raise SystemExit('bad')"))
        ended = wait_all(executor, {1, 2, 3})
        assert {i: e.returncode for i, e in ended.items()} == {1: 0, 2: 3, 3: 1}
        assert not any(e.timed_out for e in ended.values())
        assert executor.running() == [] and executor.poll() == []
        executor.close()

    def test_start_does_not_wait_for_the_trial(self, tmp_path):
        executor = self.make_executor(parallel=1)
        started = time.monotonic()
        executor.start(python_launch(tmp_path, 7, "import time; time.sleep(1)"))
        assert time.monotonic() - started < 0.8
        assert executor.running() == [7]
        wait_all(executor, {7})
        executor.close()

    def test_output_goes_to_the_trial_logs_and_retries_append(self, tmp_path):
        executor = self.make_executor(parallel=1)
        for attempt in range(2):
            code = f"import sys; print('out {attempt}'); print('err {attempt}', file=sys.stderr)"
            executor.start(python_launch(tmp_path, 1, code))
            wait_all(executor, {1})
        folder = tmp_path / "trial-1"
        assert (folder / STDOUT_FILE).read_text() == "out 0\nout 1\n"
        assert (folder / STDERR_FILE).read_text() == "err 0\nerr 1\n"
        executor.close()

    def test_a_trial_past_its_timeout_is_stopped_with_its_children(self, tmp_path):
        executor = self.make_executor(parallel=1)
        code = """
            import subprocess, sys, time
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            open("child.pid", "w").write(str(child.pid))
            time.sleep(60)
        """
        started = time.monotonic()
        executor.start(python_launch(tmp_path, 1, code, timeout=1))
        ended = wait_all(executor, {1})
        assert ended[1].timed_out and ended[1].returncode != 0
        assert time.monotonic() - started < 8
        grandchild = int(wait_for(lambda: (tmp_path / "child.pid").exists() and (tmp_path / "child.pid").read_text(),
                                  5, "child.pid"))
        wait_for(lambda: not alive(grandchild), 5, "the trial's child to be gone")
        executor.close()

    def test_stop_all_terminates_then_kills(self, tmp_path):
        executor = self.make_executor(parallel=2)
        polite = """
            import signal, sys, time
            signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
            open("polite.ready", "w").close()
            time.sleep(60)
        """
        stubborn = """
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            open("stubborn.ready", "w").close()
            time.sleep(60)
        """
        executor.start(python_launch(tmp_path, 1, polite))
        executor.start(python_launch(tmp_path, 2, stubborn))
        wait_for(lambda: (tmp_path / "polite.ready").exists() and (tmp_path / "stubborn.ready").exists(), 10, "ready")
        started = time.monotonic()
        assert sorted(executor.stop_all(grace=1.0)) == [1, 2]
        assert 0.9 < time.monotonic() - started < 5  # the stubborn one got its grace, then SIGKILL
        assert executor.running() == [] and executor.poll() == []
        executor.close()


class TestLocalExecutor(ExecutorContract):
    @staticmethod
    def make_executor(parallel: int) -> Executor:
        return LocalExecutor(parallel, gpus=[])


# -- GPUs ---------------------------------------------------------------------------


def test_gpus_per_trial_caps_parallel_at_the_gpus_there_are():
    assert LocalExecutor(parallel=4, gpus_per_trial=1, gpus=["0", "1"]).capacity == 2
    assert LocalExecutor(parallel=4, gpus_per_trial=2, gpus=["0", "1", "2", "3", "4"]).capacity == 2
    assert LocalExecutor(parallel=1, gpus_per_trial=1, gpus=["0", "1"]).capacity == 1
    assert LocalExecutor(parallel=3, gpus=[]).capacity == 3  # no GPUs asked, none needed


def test_gpus_per_trial_without_gpus_is_an_error_that_says_so():
    with pytest.raises(TunebookError, match=r"run.gpus_per_trial=1 but 0 GPU\(s\) are visible here"):
        LocalExecutor(parallel=2, gpus_per_trial=1, gpus=[])
    with pytest.raises(TunebookError, match=r"run.gpus_per_trial=2 but 1 GPU\(s\)"):
        LocalExecutor(parallel=2, gpus_per_trial=2, gpus=["0"])


@pytest.mark.parametrize(
    ("listed", "expected"), [("2,3", ["2", "3"]), ("0", ["0"]), ("", []), ("-1", []), (" 1 , 4 ", ["1", "4"])]
)
def test_visible_gpus_are_those_cuda_visible_devices_lists(monkeypatch, listed, expected):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", listed)
    assert visible_gpus() == expected


@pytest.mark.skipif(shutil.which("nvidia-smi") is None, reason="needs nvidia-smi (a machine with NVIDIA GPUs)")
def test_without_cuda_visible_devices_every_gpu_nvidia_smi_lists_is_visible(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
    count = sum(line.startswith("GPU ") for line in listed.splitlines())
    assert count > 0 and visible_gpus() == [str(i) for i in range(count)]


GPU_TRIAL = """
import json, os, pathlib, time

def train(params, trial):
    device = os.environ["CUDA_VISIBLE_DEVICES"]
    start = time.time()
    time.sleep(0.4)
    record = {"device": device, "start": start, "end": time.time()}
    pathlib.Path(trial.dir, "gpu.json").write_text(json.dumps(record))
    trial.log(0, {"valid_loss": params["lr"], "gpu": int(device)})
"""


def test_each_running_trial_sees_its_own_gpu(tmp_path):
    write_program(tmp_path, "gpu_fn.py", GPU_TRIAL)
    spec = write_spec(tmp_path, {"function": "gpu_fn:train", "gpus_per_trial": 1}, trials=6)
    executor = LocalExecutor(parallel=4, gpus_per_trial=1, gpus=["0", "1"])
    most = []
    run_here(spec, store_url(tmp_path), tmp_path / "runs", executor=executor,
             on_tick=lambda runner: most.append(len(runner.executor.running())))
    assert max(most) == 2
    records = [json.loads(p.read_text()) for p in sorted((tmp_path / "runs").rglob("gpu.json"))]
    assert len(records) == 6 and {r["device"] for r in records} == {"0", "1"}
    for a in records:
        for b in records:
            overlap = a is not b and a["start"] < b["end"] and b["start"] < a["end"]
            assert not (overlap and a["device"] == b["device"]), (a, b)
    assert all(t.objective is not None for t in all_trials(store_url(tmp_path)))
