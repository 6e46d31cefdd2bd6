"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

store_option = click.option(
    "--store", "store_url", envvar="TUNEBOOK_STORE", default=None, metavar="URL",
    help="Store: a SQLite file path or sqlite:///..., or postgresql://... "
         "[env TUNEBOOK_STORE; default ./tunebook.db]",
)


RUNS_HELP = "Folder for trial folders (logs, params, checkpoints)."


def runs_option(help_text: str = RUNS_HELP) -> Any:
    """``--runs DIR`` (env TUNEBOOK_RUNS, default ./tunebook-runs): where trial folders are written and read."""
    return click.option("--runs", "runs_dir", envvar="TUNEBOOK_RUNS", type=click.Path(file_okay=False),
                        default="tunebook-runs", show_default=True, help=f"{help_text} [env TUNEBOOK_RUNS]")


DEMO_STORE = Path("tunebook-demo") / "tunebook.db"  # where `tunebook demo` keeps its store by default


def open_cli_store(url: str | None, create: bool = False) -> Any:
    """The store the user named (or the default), opened.

    Only ``create`` (``tunebook run``) may make a new SQLite file: a command
    that reads a store that is not there says so, and where the demo's store
    is when it sits below the current folder, instead of creating an empty
    ``tunebook.db`` and reporting that it holds nothing.
    """
    from tunebook.storage import open_store
    from tunebook.storage.url import normalize_url

    return open_store(normalize_url(url) if create else existing_store(url))


def existing_store(url: str | None) -> str:
    """The normalized URL of the store the user named; StoreError when it is a SQLite file that does not exist."""
    from tunebook.core.errors import StoreError
    from tunebook.storage.url import normalize_url, sqlite_file

    normalized = normalize_url(url)
    file = sqlite_file(normalized)
    if file is not None and not file.exists():
        hint = (f"; the demo's store is {DEMO_STORE}: add --store {DEMO_STORE}" if DEMO_STORE.exists() else "")
        raise StoreError(
            f"no store at {file}: nothing has run with it yet. Name another store with --store PATH "
            f"(or TUNEBOOK_STORE); `tunebook run SPEC` creates this one{hint}"
        )
    return normalized
