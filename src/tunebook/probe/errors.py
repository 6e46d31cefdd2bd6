"""The probe's own error: bad options or a command it cannot run."""

from __future__ import annotations

from tunebook.core.errors import TunebookError


class ProbeError(TunebookError, ValueError):
    """A probe option or command is unusable; the message names the option and the value."""
