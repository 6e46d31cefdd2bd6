"""The trial launcher starts lean: every trial pays its imports before the program runs."""

from __future__ import annotations

import json
import subprocess
import sys

# What a run.function trial must not load before the user's program asks for it.
HEAVY = ("torch", "numpy", "pandas", "plotly", "sqlalchemy", "tunebook.core", "tunebook.storage.sql")
# Standard modules only run.command needs (or only type checkers): ~10 ms a trial.
NOT_FOR_FUNCTIONS = ("typing", "dataclasses", "subprocess", "threading", "queue")

PROBE = """
import json, sys
import tunebook.execution.launch, tunebook.tracking
print(json.dumps(sorted(sys.modules)))
"""


def test_the_function_launcher_loads_neither_heavy_nor_command_only_modules():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    loaded = set(json.loads(done.stdout))
    assert [m for m in HEAVY if m in loaded] == []
    assert [m for m in NOT_FOR_FUNCTIONS if m in loaded] == []


MODULES_SEEN = """
import json, os, sys

def train(params, trial):
    with open(os.path.join(trial.dir, "modules.json"), "w") as out:
        json.dump(sorted(sys.modules), out)
    trial.log(0, valid_loss=1.0)
"""


def test_trials_start_the_launcher_without_runpy(tmp_path):
    """Executors start it with ``-c`` (launcher_argv): ``-m`` would load runpy and importlib.util first."""
    from tests.execution.harness import run_here, store_url, trial_folder, write_program, write_spec

    write_program(tmp_path, "seen.py", MODULES_SEEN)
    spec = write_spec(tmp_path, {"function": "seen:train"}, trials=1)
    runs = tmp_path / "runs"
    (progress,) = run_here(spec, store_url(tmp_path), runs)
    assert progress.complete == 1
    loaded = set(json.loads((trial_folder(runs, "default", 0) / "modules.json").read_text()))
    assert "tunebook.execution.launch" in loaded and "runpy" not in loaded and "importlib.util" not in loaded
