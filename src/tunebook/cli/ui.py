"""``tunebook ui``: the tracking spreadsheet, experiments and trials, as a local web app (``tunebook.ui``)."""

from __future__ import annotations

from pathlib import Path

import click

from tunebook.cli.options import runs_option, store_option
from tunebook.core.errors import StoreError


@click.command("ui")
@store_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Only this machine can reach the default; the Host header must name "
                   "localhost, 127.0.0.1, ::1 or this address (DNS rebinding is refused).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@runs_option("The trial folders (tunebook run --runs), for the trials' stdout/stderr.")
@click.option("--allow-write", is_flag=True, help="Let the pages add notes to the store (read-only without it).")
def ui_command(store_url: str | None, host: str, port: int, runs_dir: str, allow_write: bool) -> None:
    """Browse the store's experiments and trials in a web browser, live while runs go on."""
    from tunebook.core.imports import require

    require("uvicorn", "ui", "tunebook ui")
    import uvicorn

    from tunebook.storage import open_store
    from tunebook.storage.url import display_url, normalize_url, sqlite_file
    from tunebook.ui import create_app

    url = normalize_url(store_url)
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise StoreError(f"no store at {path}: tunebook ui reads an existing store (give --store, or run "
                         "tunebook run SPEC first); it never creates one")
    store = open_store(url)
    try:
        app = create_app(store, Path(runs_dir).resolve(), allow_write=allow_write, host=host,
                         store_label=display_url(url), warm=True)
        shown = f"[{host}]" if ":" in host else host
        click.echo(f"tunebook ui: http://{shown}:{port}/  (store {display_url(url)}, "
                   f"{'notes writable' if allow_write else 'read-only'}; Ctrl-C stops)")
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        store.close()
