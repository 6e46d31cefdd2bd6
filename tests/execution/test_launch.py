"""The in-trial launcher: function trials, commands whose output is teed and parsed, the trial's folder.

Real trial processes, started by a Runner in this process on a real SQLite store.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tunebook.core.states import TrialState
from tunebook.storage import SQLStore
from tunebook.tracking.protocol import PARAMS_FILE, STDERR_FILE, STDOUT_FILE

from .harness import all_trials, curves_of, run_here, store_url, trial_folder, write_program, write_spec

FUNCTION = """
import os
import pathlib

VALUES = [5.0, 1.0, 4.0, 2.0, 3.0, 6.0]  # by step; the two best are steps 1 and 3

def train(params, trial):
    assert params == trial.params
    pathlib.Path(trial.dir, "called.json").write_text(repr((sorted(params), os.getcwd())))
    for step, value in enumerate(VALUES):
        trial.log(step, {"valid_loss": value * params["lr"], "train_loss": value})
        with trial.checkpoint(step) as path:
            pathlib.Path(path).write_text(f"weights at {step}")
"""


def test_function_trials_complete_and_keep_the_best_checkpoints_and_the_latest(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    write_program(project, "train_fn.py", FUNCTION)
    spec = write_spec(project, {"function": "train_fn:train", "checkpoints_kept": 2}, trials=3)
    url, runs = store_url(tmp_path), tmp_path / "runs"
    (progress,) = run_here(spec, url, runs)
    trials = all_trials(url)
    assert progress.complete == 3 and [t.number for t in trials] == [0, 1, 2]
    with SQLStore(url) as store:
        for trial in trials:
            assert trial.state is TrialState.COMPLETE
            assert (trial.objective, trial.best_step) == (1.0 * trial.params["lr"], 1)
            folder = trial_folder(runs, "default", trial.number)
            assert eval((folder / "called.json").read_text()) == (["lr"], str(project))
            assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == ["step-1", "step-3", "step-5"]
            kept = store.list_checkpoints(trial.id)
            assert [(c.step, Path(c.path).name) for c in kept] == [(1, "step-1"), (3, "step-3"), (5, "step-5")]
            assert [c.value for c in kept] == [v * trial.params["lr"] for v in (1.0, 2.0, 6.0)]
    curves = curves_of(url)
    assert curves[(trials[0].id, "train_loss")] == list(enumerate([5.0, 1.0, 4.0, 2.0, 3.0, 6.0]))


JSON_PRINTER = """
import json, sys
print("starting {not json}")
for step in range(0, 40, 10):
    print(json.dumps({"step": step, "valid_loss": 1.0 / (step + 1), "phase": "eval"}))
    print(json.dumps({"step": step, "train_loss": 2.0 / (step + 1)}), file=sys.stderr)
print("done")
"""


def test_a_command_without_metrics_is_read_as_json_lines_from_stdout_and_stderr(tmp_path):
    write_program(tmp_path, "train.py", JSON_PRINTER)
    spec = write_spec(tmp_path, {"command": "python train.py"}, trials=1)
    run_here(spec, store_url(tmp_path), tmp_path / "runs")
    (trial,) = all_trials(store_url(tmp_path))
    assert (trial.state, trial.objective, trial.best_step) == (TrialState.COMPLETE, 1.0 / 31, 30)
    curves = curves_of(store_url(tmp_path))
    assert curves[(trial.id, "valid_loss")] == [(s, 1.0 / (s + 1)) for s in (0, 10, 20, 30)]
    assert curves[(trial.id, "train_loss")] == [(s, 2.0 / (s + 1)) for s in (0, 10, 20, 30)]
    assert set(curves) == {(trial.id, "valid_loss"), (trial.id, "train_loss")}


ECHO = """
import json, os, sys
print(json.dumps({"argv": sys.argv[1:], "env": json.loads(os.environ["TUNEBOOK_PARAMS"]),
                  "cwd": os.getcwd(), "extra": os.environ.get("EXTRA"), "python": sys.executable,
                  "valid_loss": 1.0}))
print("to stderr", file=sys.stderr)
"""


def test_a_command_gets_its_params_filled_in_and_in_the_environment(tmp_path):
    project = tmp_path / "project"
    (project / "code").mkdir(parents=True)
    write_program(project / "code", "echo.py", ECHO)
    run = {
        "command": ["python", "echo.py", "--lr={lr}", "--opt", "{optimizer}", "a b"],
        "workdir": "code",
        "env": {"EXTRA": 42},
    }
    nuisance = {"lr": {"low": 0.01, "high": 1.0, "scale": "log"}, "optimizer": ["adam", "sgd"]}
    spec = write_spec(project, run, trials=2, nuisance=nuisance)
    runs = tmp_path / "runs"
    run_here(spec, store_url(tmp_path), runs)
    for trial in all_trials(store_url(tmp_path)):
        folder = trial_folder(runs, "default", trial.number)
        assert json.loads((folder / PARAMS_FILE).read_text()) == trial.plain_params
        seen = json.loads((folder / STDOUT_FILE).read_text())
        params = trial.plain_params
        assert seen["argv"] == [f"--lr={params['lr']}", "--opt", params["optimizer"], "a b"]
        assert seen["env"] == params
        assert seen["cwd"] == str(project / "code")  # run.workdir is relative to the spec
        assert seen["extra"] == "42"
        assert seen["python"] == sys.executable  # "python" is the interpreter tunebook runs on
        assert (folder / STDERR_FILE).read_text() == "to stderr\n"  # and nothing of tunebook's own


HEAVY = ("sqlalchemy", "numpy", "pandas", "yaml", "click", "rich", "tunebook.storage", "tunebook.core",
         "tunebook.execution.runner")


def test_the_launcher_loads_no_heavy_module_next_to_the_training_program(tmp_path):
    probe = f"import json, sys, tunebook.execution.launch; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == []
    # run as the executor runs it: no warning from runpy about the package importing the launcher
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", "tunebook.execution.launch", str(tmp_path / "absent")],
        capture_output=True, text=True, timeout=60,
    )
    assert "RuntimeWarning" not in done.stderr and "FileNotFoundError" in done.stderr
