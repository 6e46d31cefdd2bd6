"""Where the store lives: from a user's URL or path to a SQLAlchemy URL.

Accepted forms:

- a bare file path (``runs/x.db``): a SQLite file, parent folders created;
- ``sqlite:///path`` (relative paths are taken from the current directory);
- ``postgresql://...`` or ``postgres://...`` (driver: psycopg, the
  ``postgres`` extra).

Relative SQLite paths are made absolute so that worker processes started in
another directory open the same file.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tunebook.core.errors import StoreError
from tunebook.core.imports import require

ENV_VAR = "TUNEBOOK_STORE"
DEFAULT_FILE = "tunebook.db"

_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def default_store_url() -> str:
    """``$TUNEBOOK_STORE`` if set, else ``tunebook.db`` in the current directory."""
    return os.environ.get(ENV_VAR) or f"sqlite:///{Path(DEFAULT_FILE).resolve()}"


def normalize_url(url: str | None = None) -> str:
    """The canonical store URL for ``url`` (None: the default store).

    SQLite URLs come back with an absolute path whose folder exists; PostgreSQL
    URLs come back as ``postgresql://...``. StoreError names anything else.
    """
    url = url or default_store_url()
    if "://" not in url:
        return _sqlite_url(Path(url), query="")
    scheme, rest = url.split("://", 1)
    if scheme == "sqlite":
        path, _, query = rest.partition("?")
        if path in ("", "/", "/:memory:") or "mode=memory" in query:
            raise StoreError(
                f"store URL {url!r} is an in-memory SQLite database, which other "
                "processes cannot share: give a file path instead"
            )
        return _sqlite_url(Path(path[1:]) if path.startswith("/") else Path(path), query)
    if scheme in _POSTGRES_SCHEMES:
        return "postgresql://" + rest
    raise StoreError(
        f"unsupported store URL {display_url(url)!r}: use a file path, "
        "sqlite:///path/to/file.db or postgresql://user@host/database"
    )


def sqlite_file(url: str) -> Path | None:
    """The database file of a normalized SQLite store URL; None for any other store."""
    if not url.startswith("sqlite:///"):
        return None
    return Path(url[len("sqlite:///"):].partition("?")[0])


def engine_url(url: str) -> URL:
    """The SQLAlchemy URL, with the driver, for a normalized store URL."""
    if url.startswith("postgresql://"):
        require("psycopg", "postgres", "a PostgreSQL store")
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"cannot parse store URL {display_url(url)!r}: {exc}") from None


def display_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        scheme, sep, rest = url.partition("://")
        userinfo, at, host = rest.rpartition("@")
        if at and ":" in userinfo:
            return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{host}"
        return url


def command_url(url: str) -> str:
    """``url`` as a printed command's ``--store`` carries it: runnable, with no password in it.

    A password is dropped rather than masked: ``***`` would make the command fail, while
    without one psycopg reads it from ``PGPASSWORD`` or ``~/.pgpass`` as libpq does. Other
    URLs are returned unchanged.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return display_url(url)
    if parsed.password is None:
        return url
    bare = URL.create(parsed.drivername, parsed.username, None, parsed.host, parsed.port, parsed.database,
                      parsed.query)  # URL.set(password=None) leaves the password as it was
    return bare.render_as_string(hide_password=False)


def _sqlite_url(path: Path, query: str) -> str:
    path = path.expanduser().resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the folder of store file {str(path)!r}: {exc}") from None
    return f"sqlite:///{path}" + (f"?{query}" if query else "")
