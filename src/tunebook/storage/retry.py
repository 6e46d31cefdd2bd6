"""Store calls retried when the database connection drops (a PostgreSQL restart, a network blip).

Rule: a call whose failure comes from a lost or refused connection
(SQLAlchemy marks the connection invalidated, or the driver raises an
OperationalError on PostgreSQL) is run again, whole, after 0.25, 0.5, 1, 2,
4 and 8 s: about 16 s in all, longer than a ``pg_ctl restart`` takes
(opening a store retries for under 2 s: a mistyped URL must not keep a
command waiting). Each
retry is logged as a warning (logger ``tunebook.storage``) naming the store,
the call and the cause. Other failures (a constraint, a full disk on SQLite,
a read-only file) are raised at once: waiting would not change them.

A call is one transaction, so a retried call never half-applies. A commit
whose acknowledgement is lost with the connection may have been applied: a
retried ``log_curves`` may then store its chunk twice (never lose it), a
retried claim may leave one extra RUNNING trial that the stale-trial check
re-queues.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any, Callable, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from tunebook.core.errors import StoreError

F = TypeVar("F", bound=Callable[..., Any])

DELAYS_S = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
# opening a store: a mistyped URL or a server that is down should not keep a command waiting long
OPEN_DELAYS_S = (0.25, 0.5, 1.0)
log = logging.getLogger("tunebook.storage")

# The SQLStore calls retried (``retry_transient``): every call but imports (not idempotent).
RETRIED_CALLS = (
    "ensure_experiment", "replace_spec", "get_experiment", "list_experiments", "ensure_study", "list_studies",
    "claim_trial", "heartbeat", "finish_trial", "release_trial", "reclaim_stale", "get_trial", "trial_by_number",
    "list_trials", "page_trials", "summarize_studies",
    "add_code_version", "get_code_version", "log_curves", "load_curves", "add_checkpoint", "remove_checkpoint",
    "list_checkpoints", "add_note", "list_notes", "list_trial_notes", "append_launch", "list_launches",
    "launch_lines",
)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (a StoreError) comes from a dropped or refused database connection."""
    cause = exc.__cause__ if isinstance(exc, StoreError) else exc
    if not isinstance(cause, DBAPIError):
        return False
    if cause.connection_invalidated:
        return True
    return isinstance(cause, OperationalError) and _on_postgres(cause)


def _on_postgres(exc: DBAPIError) -> bool:
    return type(exc.orig).__module__.startswith(("psycopg", "psycopg2"))


def retrying(method: F) -> F:
    """Wrap a store method so a transient failure (``is_transient``) is retried per ``DELAYS_S``."""

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return call_retrying(method.__name__, lambda: method(self, *args, **kwargs))

    return call  # type: ignore[return-value]


def call_retrying(what: str, attempt: Callable[[], Any], delays: tuple[float, ...] = DELAYS_S) -> Any:
    """``attempt()``, run again after each of ``delays`` while it raises a transient StoreError."""
    for tries, delay in enumerate(delays, start=1):
        try:
            return attempt()
        except StoreError as exc:
            if not is_transient(exc):
                raise
            log.warning("%s; retrying %s in %g s (retry %d of %d)", exc, what, delay, tries, len(delays))
            time.sleep(delay)
    return attempt()


def retry_transient(names: tuple[str, ...]) -> Callable[[type], type]:
    """Class decorator: wrap each method in ``names`` with ``retrying``."""

    def wrap(cls: type) -> type:
        for name in names:
            setattr(cls, name, retrying(getattr(cls, name)))
        return cls

    return wrap
