"""The error an import raises when run folders cannot be read as they are."""

from __future__ import annotations

from tunebook.core.errors import ProblemsError


class ImportInputError(ProblemsError):
    """Run folders hold something tunebook cannot import; nothing was written.

    Each problem's ``where`` names the run folder and file (``run-07/eval.csv``),
    so every bad run is reported in one go.
    """

    subject = "cannot import runs"
    source_prefix = "from "
    footer = "(nothing was written to the store)"
