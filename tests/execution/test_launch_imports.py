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
