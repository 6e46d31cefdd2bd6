"""Options shared by several commands."""

from __future__ import annotations

from typing import Any

import click

store_option = click.option(
    "--store", "store_url", envvar="TUNEBOOK_STORE", default=None, metavar="URL",
    help="Store: a SQLite file path or sqlite:///..., or postgresql://... "
         "[env TUNEBOOK_STORE; default ./tunebook.db]",
)


def open_cli_store(url: str | None) -> Any:
    """The store the user named (or the default), opened."""
    from tunebook.storage import open_store

    return open_store(url)
