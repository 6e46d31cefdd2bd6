"""The local executor's spare launcher, and what a trial's end costs to notice.

A trial handed to the spare (started while the previous trial ran) must be
indistinguishable, from inside, from one started cold: its argv, environment
(params, folder, GPUs, run.env), working folder, stdin, process group and
log files. Real trial processes, run by a Runner on a real SQLite store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tunebook.core.states import TrialState
from tunebook.execution import Launch, LocalExecutor
from tunebook.execution.launch import launcher_argv
from tunebook.execution.spare import Spare, shared_env
from tunebook.tracking.protocol import ENV_PARAMS, ENV_TRIAL_DIR, STDERR_FILE, STDOUT_FILE

from .harness import all_trials, alive, children_of, run_here, store_url, trial_folder, write_program, write_spec

REPORTER = """
import json, os, pathlib, sys, time

def train(params, trial):
    time.sleep(0.3)  # the next trial's spare starts meanwhile
    seen = {
        "cmdline": pathlib.Path("/proc/self/cmdline").read_bytes().decode().split("\\0"),
        "argv": sys.argv[1:], "cwd": os.getcwd(), "stdin": sys.stdin.read(),
        "own_group": os.getpgid(0) == os.getpid(),
        "params": json.loads(os.environ["TUNEBOOK_PARAMS"]), "dir": os.environ["TUNEBOOK_TRIAL_DIR"],
        "gpus": os.environ.get("CUDA_VISIBLE_DEVICES"), "extra": os.environ.get("EXTRA"),
    }
    pathlib.Path(trial.dir, "seen.json").write_text(json.dumps(seen))
    print(f"out {trial.params['lr']}")
    print(f"err {trial.params['lr']}", file=sys.stderr)
    trial.log(0, valid_loss=trial.params["lr"])
"""


def spares_of(pid: int) -> list[int]:
    """Spare launchers among ``pid``'s children (waiting or not)."""
    found = []
    for child in children_of(pid):
        try:
            if b"--spare" in Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0"):
                found.append(child)
        except OSError:
            pass
    return found


def test_a_trial_on_the_spare_launcher_sees_what_a_cold_started_trial_sees(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    write_program(project, "reporter.py", REPORTER)
    spec = write_spec(project, {"function": "reporter:train", "env": {"EXTRA": "x"}}, trials=4)
    url, runs = store_url(tmp_path), tmp_path / "runs"
    run_here(spec, url, runs, executor=LocalExecutor(2, gpus_per_trial=1, gpus=["3", "5"]))
    trials = all_trials(url)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 4
    on_spare = []
    for trial in trials:
        folder = trial_folder(runs, "default", trial.number)
        seen = json.loads((folder / "seen.json").read_text())
        on_spare.append("--spare" in seen["cmdline"])
        assert seen["argv"] == [str(folder)] and seen["dir"] == str(folder)
        assert seen["params"] == trial.plain_params and seen["extra"] == "x"
        assert seen["cwd"] == str(project) and seen["stdin"] == "" and seen["own_group"]
        assert seen["gpus"] in ("3", "5")
        lr = trial.params["lr"]
        assert (folder / STDOUT_FILE).read_text() == f"out {lr}\n"  # nothing of the spare's own
        assert (folder / STDERR_FILE).read_text() == f"err {lr}\n"
    # the first trial starts cold; every later one on the spare started while an earlier one ran
    assert on_spare == [False, True, True, True]
    first_two = [json.loads((trial_folder(runs, "default", n) / "seen.json").read_text())["gpus"] for n in (0, 1)]
    assert sorted(first_two) == ["3", "5"]  # run together, on different GPUs
    assert spares_of(os.getpid()) == []  # the last spare went with the run


def a_launch(folder: Path, env: dict[str, str], argv: tuple[str, ...] | None = None) -> Launch:
    trial_dir = folder / "trial"
    trial_dir.mkdir(exist_ok=True)
    return Launch(trial_id=1, trial_dir=trial_dir, argv=argv or launcher_argv(trial_dir), env=env, cwd=folder,
                  timeout=None)


def test_a_spare_takes_only_trials_started_as_it_was_and_is_reaped_when_dismissed(tmp_path):
    env = dict(os.environ, **{ENV_TRIAL_DIR: "/first", ENV_PARAMS: "{}"})
    spare = Spare(a_launch(tmp_path, env), "function")
    try:
        same_run = dict(env, **{ENV_TRIAL_DIR: "/second", ENV_PARAMS: '{"lr": 1}', "CUDA_VISIBLE_DEVICES": "2"})
        assert spare.fits(a_launch(tmp_path, same_run), same_run)
        other_path = dict(same_run, PYTHONPATH="/elsewhere")  # read when Python starts: too late for the spare
        assert not spare.fits(a_launch(tmp_path, other_path), other_path)
        assert not spare.fits(a_launch(tmp_path, same_run, argv=(sys.executable, "-c", "pass")), same_run)
        (tmp_path / "other").mkdir()
        assert not spare.fits(a_launch(tmp_path / "other", same_run), same_run)
        assert shared_env(same_run) == shared_env(env)
    finally:
        spare.dismiss()
    assert spare.process.returncode == 0 and not alive(spare.process.pid)  # it left on EOF, and was reaped


def test_the_executor_wakes_when_a_trial_ends_not_at_its_timeout(tmp_path):
    executor = LocalExecutor(1)
    trial_dir = tmp_path / "t"
    trial_dir.mkdir()
    executor.start(Launch(trial_id=9, trial_dir=trial_dir, argv=(sys.executable, "-c", "import time; time.sleep(0.3)"),
                          env=dict(os.environ), cwd=tmp_path, timeout=None))
    started = time.monotonic()
    waited = []
    while not waited:
        executor.wait(30)
        waited = executor.poll()
    assert time.monotonic() - started < 10  # well before the 30 s asked
    assert [(trial_id, exit.returncode) for trial_id, exit in waited] == [(9, 0)]
    executor.close()


TEE = r"""
import os, sys
out, err = sys.stdout.buffer, sys.stderr.buffer
out.write(b"step 1 loss: 0.5\n"); out.flush()
err.write(b"bytes \xff\xfe not utf-8\n"); err.flush()
out.write(b"x" * 300000 + b"\n"); out.flush()
out.write(b"step 2 loss: 0.25")  # the last line, without its newline
"""


def test_a_commands_output_reaches_its_logs_byte_for_byte_and_its_last_line_counts(tmp_path):
    write_program(tmp_path, "tee.py", TEE)
    run = {"command": "python tee.py", "metrics": [r"step (?P<step>\d+) loss: (?P<valid_loss>\S+)"]}
    spec = write_spec(tmp_path, run, trials=2)
    url, runs = store_url(tmp_path), tmp_path / "runs"
    run_here(spec, url, runs, parallel=1)
    for trial in all_trials(url):  # the first cold, the second on the spare
        folder = trial_folder(runs, "default", trial.number)
        assert (folder / STDOUT_FILE).read_bytes() == b"step 1 loss: 0.5\n" + b"x" * 300000 + b"\nstep 2 loss: 0.25"
        assert (folder / STDERR_FILE).read_bytes() == b"bytes \xff\xfe not utf-8\n"
        assert (trial.state, trial.objective, trial.best_step) == (TrialState.COMPLETE, 0.25, 2)


def test_a_spare_whose_interpreter_cannot_start_leaves_trials_to_start_cold(tmp_path, monkeypatch):
    write_program(tmp_path, "reporter.py", REPORTER)
    spec = write_spec(tmp_path, {"function": "reporter:train"}, trials=3)
    url, runs = store_url(tmp_path), tmp_path / "runs"
    real = subprocess.Popen

    class DoomedSpare(real):  # the spare's process dies at once, as a broken interpreter would
        def __init__(self, argv, **kwargs):  # noqa: ANN001, ANN003
            doomed = "--spare" in argv
            super().__init__([sys.executable, "-c", "raise SystemExit(3)"] if doomed else argv, **kwargs)
            if doomed:
                self.wait()

    monkeypatch.setattr(subprocess, "Popen", DoomedSpare)
    run_here(spec, url, runs, executor=LocalExecutor(1))
    trials = all_trials(url)
    assert [(t.state, t.attempt) for t in trials] == [(TrialState.COMPLETE, 0)] * 3  # no attempt spent on it
    seen = [json.loads((trial_folder(runs, "default", n) / "seen.json").read_text()) for n in range(3)]
    assert ["--spare" in s["cmdline"] for s in seen] == [False, False, False]
