"""The routes of ``tunebook ui`` and what guards them.

Pages: ``/`` (Experiments), ``/experiment?name=``, ``/trial?name=&trial=STUDY/NUMBER``,
``/live?name=``, ``/spec?name=``, ``/report?name=``. JSON: ``/api/experiments``,
``/api/trials``, ``/api/analysis``, ``/api/figures``, ``/api/curves``, ``/api/log``,
``/api/live``, ``POST /api/notes``. Static: ``/static/`` (this package's CSS and
scripts) and ``/static/plotly-DIGEST.min.js`` (the installed plotly package's own
file, no CDN, at a URL named by a digest of its content and cached by the browser
for a year without asking again: a page opened after another reuses the script
already fetched and compiled; a new plotly gets a new URL; ``/static/plotly.min.js``
serves the same file, cached a day). Names travel in query strings, so any
experiment or study name (slashes, quotes, markup) reaches the server intact and
is never part of a path.
Errors: unknown names 404, bad parameters 400, each with a message naming the
value; no traceback reaches the page.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import threading
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tunebook.core.errors import NotFoundError, TunebookError
from tunebook.ui import experiment, experiments, live, notes, trial, trials_table
from tunebook.ui.context import UIContext
from tunebook.ui.params import BadRequest
from tunebook.ui.responses import error
from tunebook.ui.security import HostAndHeaders, allowed_hosts

STATIC = Path(__file__).parent / "static"


IMMUTABLE = "public, max-age=31536000, immutable"  # a content-named file never changes: never asked again


def plotly_file() -> Path:
    """plotly.min.js as the installed plotly package ships it."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@functools.lru_cache(maxsize=1)
def plotly_url() -> str:
    """``/static/plotly-DIGEST.min.js``: DIGEST the first 16 hex digits of the file's SHA-256."""
    return f"/static/plotly-{hashlib.sha256(plotly_file().read_bytes()).hexdigest()[:16]}.min.js"


def _plotly_js(request: Any) -> FileResponse:
    return FileResponse(plotly_file(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})


def _plotly_js_named(request: Any) -> Any:
    """The content-named plotly.js, cached for good; 404 for a digest of another plotly (an older page)."""
    if request.url.path != plotly_url():
        return error(request, 404, f"{request.url.path} is not this server's plotly.js ({plotly_url()})")
    return FileResponse(plotly_file(), media_type="text/javascript", headers={"Cache-Control": IMMUTABLE})


async def _not_found(request: Any, exc: Exception) -> Any:
    return error(request, 404, str(exc))


async def _bad_request(request: Any, exc: Exception) -> Any:
    return error(request, 400, str(exc))


async def _http_error(request: Any, exc: Any) -> Any:
    return error(request, exc.status_code, str(exc.detail))


def create_app(store: Any, runs_dir: Path, allow_write: bool = False, host: str = "127.0.0.1",
               store_label: str | None = None, warm: bool = False) -> Starlette:
    """The app over an open ``store``; trial logs read under ``runs_dir``; notes written only if ``allow_write``;
    ``warm``: start reading the spreadsheet now (``UIContext.warm``), so the first page view does not wait."""
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware

    routes = [
        Route("/", experiments.experiments_page),
        Route("/experiment", experiment.experiment_page),
        Route("/trial", trial.trial_page),
        Route("/live", live.live_page),
        Route("/spec", experiments.spec_page),
        Route("/report", experiment.report_page),
        Route("/api/experiments", experiments.experiments_api),
        Route("/api/trials", trials_table.trials_api),
        Route("/api/analysis", experiment.analysis_api),
        Route("/api/figures", experiment.figures_api),
        Route("/api/curves", trial.curves_api),
        Route("/api/log", trial.log_api),
        Route("/api/live", live.live_api),
        Route("/api/notes", notes.add_note_api, methods=["POST"]),
        Route("/static/plotly.min.js", _plotly_js),
        Route("/static/plotly-{digest}.min.js", _plotly_js_named),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers = {NotFoundError: _not_found, BadRequest: _bad_request, TunebookError: _bad_request,
                HTTPException: _http_error}
    ui = UIContext(store, runs_dir, allow_write, store_label or getattr(store, "display_url", store.url))
    ui.plotly_url = plotly_url()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> Any:
        yield
        ui.close()

    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan,
                    middleware=[Middleware(HostAndHeaders, hosts=allowed_hosts(host))])
    app.state.ui = ui
    threading.Thread(target=_import_curve_thinning, daemon=True).start()
    if warm:
        ui.warm()
    return app


def _import_curve_thinning() -> None:
    """Import what the Trial page's curves need now, in the background: ``tunebook.plots`` pulls in scipy
    (about 2 s of imports, many more on a loaded machine) and a first Trial page would wait for it."""
    import tunebook.plots.lines  # noqa: F401
