"""Signal a child started in its own process group (``start_new_session=True``) together with its children.

Shared by the local executor (trials) and the batch-size probe: one ended
program must not leave its data loaders or helpers running.
"""

from __future__ import annotations

import os
import subprocess


def signal_group(process: subprocess.Popen, sig: int) -> None:
    """Send ``sig`` to the process group led by ``process``; a group already gone is not an error."""
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
