"""``cli.warm_imports``: the closing verdict's libraries load on a background thread, and a failure there is silent."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from tunebook.cli.warm_imports import VERDICT_MODULES, warm_in_background
assert not any(m in sys.modules for m in ("pandas", "scipy.ndimage"))  # nothing heavy before it starts
warm_in_background().join(timeout=120)
print(all(m in sys.modules for m in VERDICT_MODULES))
assert not any(m in sys.modules for m in ("colorsys", "tabnanny"))
warm_in_background(("colorsys", "tunebook_no_such_module", "tabnanny")).join(timeout=10)
print("colorsys" in sys.modules, "tabnanny" in sys.modules)
"""


def test_the_verdict_modules_are_imported_in_the_background_and_a_failed_import_stops_quietly():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "False"]  # all of them; then the first, and nothing after the failure
    assert done.stderr == ""  # the failure is left to the code that needs the module
