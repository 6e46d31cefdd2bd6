"""The error an import raises when run folders cannot be read as they are."""

from __future__ import annotations

from tunebook.core.errors import TunebookError


class ImportInputError(TunebookError, ValueError):
    """Run folders hold something tunebook cannot import; nothing was written.

    ``problems`` holds one ``(where, message)`` pair per mistake, ``where``
    naming the run folder and file (``run-07/eval.csv``), so every bad run is
    reported in one go.
    """

    def __init__(self, problems: list[tuple[str, str]] | str, source: str | None = None):
        if isinstance(problems, str):
            problems = [("", problems)]
        self.problems = list(problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [f"{where}: {msg}" if where else msg for where, msg in self.problems]
        head = f"cannot import runs from {self.source}" if self.source else "cannot import runs"
        if len(lines) == 1:
            return f"{head}: {lines[0]} (nothing was written to the store)"
        return head + ":\n" + "\n".join(f"  - {line}" for line in lines) + "\n(nothing was written to the store)"
