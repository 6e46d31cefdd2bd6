"""The one family of exceptions tunebook raises on purpose.

Each subclass also inherits the built-in it means, so callers that catch
``ValueError`` or ``LookupError`` keep working. The CLI prints any
``TunebookError`` as a plain message and exits non-zero, without a traceback:
these errors are about the user's input or the state of their store, not bugs.
"""

from __future__ import annotations


class TunebookError(Exception):
    """Base of every error tunebook raises for the user to act on."""


class ProblemsError(TunebookError, ValueError):
    """Input with mistakes, all reported together.

    ``problems`` holds one ``(where, message)`` pair per mistake found (a
    field path, or a file), so the user fixes everything in one pass.
    Subclasses say what the input was (``subject``) and may add a ``footer``.
    """

    subject = "invalid input"
    source_prefix = ""  # words between the subject and the source ("from ")
    footer = ""

    def __init__(self, problems: list[tuple[str, str]] | str, source: str | None = None):
        if isinstance(problems, str):
            problems = [("", problems)]
        self.problems = list(problems)
        self.source = source
        super().__init__(self._render())

    def __reduce__(self) -> tuple:
        """Pickled (a worker process's error sent back) as its problems and source, not its rendered text,
        which would be rendered again under a second subject on arrival."""
        return type(self), (self.problems, self.source)

    def _render(self) -> str:
        lines = [f"{path}: {msg}" if path else msg for path, msg in self.problems]
        head = f"{self.subject} {self.source_prefix}{self.source}" if self.source else self.subject
        tail = f" {self.footer}" if self.footer else ""
        if len(lines) == 1:
            return f"{head}: {lines[0]}{tail}"
        return head + ":\n" + "\n".join(f"  - {line}" for line in lines) + (f"\n{self.footer}" if self.footer else "")


class SpecError(ProblemsError):
    """An experiment spec is invalid; fix the named fields (paths like ``nuisance.lr.high``)."""

    subject = "invalid experiment spec"


class StoreError(TunebookError, RuntimeError):
    """The store cannot do what was asked (unreachable, wrong schema, conflict)."""


class NotFoundError(TunebookError, LookupError):
    """A named experiment, study or trial does not exist in the store."""


class ConflictError(StoreError):
    """The store already holds something different under the same name."""


class MissingExtraError(TunebookError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""
