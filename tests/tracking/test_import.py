"""``import tunebook.tracking`` stays cheap: it runs inside every training program."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "numpy", "pandas", "plotly", "sqlalchemy", "sqlite3", "tunebook.core", "tunebook.storage")

PROBE = f"""
import json, sys, time
start = time.perf_counter()
import tunebook.tracking
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "heavy": [m for m in {HEAVY!r} if m in sys.modules],
                   "all": sorted(tunebook.tracking.__all__)}}))
"""


def probe() -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_import_is_fast_and_light() -> None:
    runs = [probe() for _ in range(3)]  # the best of three: a busy machine only slows things down
    assert min(run["seconds"] for run in runs) < 0.1, runs
    assert runs[0]["heavy"] == []
    assert runs[0]["all"] == ["Diverged", "Trial", "trial"]


def test_the_trial_side_loss_names_match_the_spec_default():
    """The trial-side default copy (kept to avoid importing core) equals core's."""
    from tunebook.core.run_spec import DEFAULT_LOSS_METRICS as spec_default
    from tunebook.tracking.protocol import DEFAULT_LOSS_METRICS as trial_default

    assert trial_default == spec_default
