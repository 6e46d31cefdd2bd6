"""tunebook ui against optuna-dashboard, serving the same trials side by side.

One tunebook store holds experiment ``big`` (``--trials``, 50,000 by default:
two studies, quasi-random params with a conditional one, about 1 in 7
infeasible and 1 in 11 failed) and, with ``--points``, one finished trial of
that many curve points (1,000,000 by default). The same trials are exported
to an Optuna in-memory storage (one Optuna study per tunebook study, the
objective as its value, infeasible and failed trials as FAIL; the
million-point curve as the trial's intermediate values) by the small helper
here (``export_optuna``). Writing the data is not timed.

Both apps are served over HTTP on 127.0.0.1 (uvicorn for tunebook ui,
wsgiref for optuna-dashboard, each in a thread of this process) and timed
with one HTTP client, each request ``--repeat`` times (the median is
printed; the first, cold one too):

- tunebook: the Experiments page (its spreadsheet, the first read), the
  Experiment page, its first trials page (``/api/trials``), a
  page sorted by ``lr``, a filtered page, the Live poll, and the big
  trial's curves (``/api/curves``, thinned on the server);
- optuna-dashboard: its study list (``/api/studies``) and the study detail
  its trials table and plots read (``/api/studies/ID``: every trial, every
  intermediate value).

With ``--chromium`` both pages are first opened in headless Chromium, on a
server that has read nothing yet: tunebook's Experiment page until its
trials table shows rows (cold, then again), until it says it is computing
the checklist, and until the checklist and first plot are filled in; the
Trial page of the big curve until its curve is drawn, twice in a new browser
profile (cold) and twice clicked from the Experiment page (how a user gets
there: plotly.js already fetched and compiled); optuna-dashboard's study page
until the network is idle. The load average is printed beside.

    python benchmarks/ui.py [--trials 50000] [--points 1000000] [--repeat 5] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_store(folder: Path, trials: int, points: int) -> str:
    """The tunebook store (see the module docstring); its URL."""
    import numpy as np

    from tests.ui import stores
    from tunebook.storage import open_store

    url = f"sqlite:///{folder / 'ui-bench.db'}"
    with open_store(url) as store:
        stores.add_big(store, trials)
        if points:
            trial = stores.running_trial(store, "huge")
            steps = np.arange(points)
            values = 2.0 / (1.0 + steps / 5e4)
            store.log_curves(trial.id, {"valid/loss": (steps.tolist(), values.tolist())})
            store.finish_trial(trial.id, stores.TrialState.COMPLETE, objective=float(values.min()),
                               best_step=points - 1)
    return url


def export_optuna(url: str) -> Any:
    """The store's trials as Optuna studies in an in-memory storage (the conditional param where present)."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution
    from optuna.trial import TrialState as OptunaState
    from optuna.trial import create_trial

    from tunebook.storage import open_store

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.InMemoryStorage()
    shapes = {"depth": CategoricalDistribution([1, 2]), "optimizer": CategoricalDistribution(["sgd", "adam"]),
              "lr": FloatDistribution(1e-4, 1.0, log=True), "beta1[optimizer=adam]": FloatDistribution(0.8, 0.99)}
    with open_store(url) as store:
        for record in store.list_experiments():
            curves = store.load_curves(experiment_id=record.id) if record.name == "huge" else None
            for study in store.list_studies(record.id):
                target = optuna.create_study(storage=storage, study_name=f"{record.name}/{study.key}")
                made = []
                for t in store.list_trials(study_id=study.id):
                    params = {k: v for k, v in t.params.items() if k in shapes}
                    done = t.state.value == "complete" and t.objective is not None
                    middle = {}
                    if curves is not None:
                        mine = curves[curves["trial_id"] == t.id]
                        middle = dict(zip(mine["step"].tolist(), mine["value"].tolist()))
                    made.append(create_trial(
                        state=OptunaState.COMPLETE if done else OptunaState.FAIL, value=t.objective if done else None,
                        params=params, distributions={k: shapes[k] for k in params}, intermediate_values=middle))
                target.add_trials(made)
    return storage


class Served:
    """An app (ASGI through uvicorn, or WSGI through wsgiref) on a free port of 127.0.0.1, in a thread."""

    def __init__(self, app: Any, asgi: bool) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        if asgi:
            import uvicorn

            self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
            threading.Thread(target=self.server.run, daemon=True).start()
            while not self.server.started:
                time.sleep(0.05)
        else:
            from wsgiref.simple_server import WSGIRequestHandler, make_server

            class Quiet(WSGIRequestHandler):
                def log_message(self, *args: Any) -> None:
                    pass

            self.server = make_server("127.0.0.1", self.port, app, handler_class=Quiet)
            threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.port}"


def timed(get: Callable[[], Any], repeat: int) -> tuple[float, float, int]:
    """(first seconds, median seconds, bytes) of ``repeat`` calls of ``get``."""
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = get()
        times.append(time.perf_counter() - started)
        response.raise_for_status()
        size = len(response.content)
    return times[0], statistics.median(times), size


def measure(tb: Served, od: Served, repeat: int, points: int) -> list[tuple[str, str, float, float, int]]:
    """Rows (tool, request, first s, median s, bytes)."""
    import httpx

    client = httpx.Client(timeout=600)
    rows = []
    ask = {
        "Experiment page": "/experiment?name=big",
        "trials, first page": "/api/trials?name=big",
        "trials sorted by lr, page 100": "/api/trials?name=big&sort=lr&desc=1&page=100",
        "trials filtered (complete, lr 1e-3..1e-2)": "/api/trials?name=big&state=complete&range=lr:0.001:0.01",
        "live poll (counts)": "/api/live?name=big&limit=0",
    }
    rows.append(("tunebook ui", "Experiments page (the spreadsheet, cold)", *timed(lambda: client.get(tb.base + "/"), 1)))
    if points:
        ask[f"trial of {points:,} points: curves"] = "/api/curves?name=huge&trial=depth%3D1/0"
    for label, path in ask.items():
        rows.append(("tunebook ui", label, *timed(lambda: client.get(tb.base + path), repeat)))
    studies = client.get(od.base + "/api/studies").json()["study_summaries"]
    ids = {s["study_name"]: s["study_id"] for s in studies}
    rows.append(("optuna-dashboard", "study list", *timed(lambda: client.get(od.base + "/api/studies"), repeat)))
    big = ids["big/depth=1"]
    rows.append(("optuna-dashboard", "study detail (half the trials: one study)",
                 *timed(lambda: client.get(f"{od.base}/api/studies/{big}"), repeat)))
    if points:
        huge = ids["huge/depth=1"]
        rows.append(("optuna-dashboard", f"study of the {points:,}-point trial",
                     *timed(lambda: client.get(f"{od.base}/api/studies/{huge}"), repeat)))
    return rows


def browser_times(chromium: str, tb: Served, od: Served, od_study: int) -> list[tuple[str, str, float]]:
    """Seconds until each page is usable in headless Chromium."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(tb.base + "/experiment?name=big")
        page.wait_for_selector("#trials tbody tr", timeout=600_000)
        out.append(("tunebook ui", "Experiment page, cold: trials table shown", time.perf_counter() - started))
        page.wait_for_function("() => document.querySelector('#checklist').textContent.includes('computing')")
        out.append(("tunebook ui", "  ... 'computing the checklist' shown", time.perf_counter() - started))
        page.wait_for_selector("#figures .plot .main-svg", timeout=600_000)
        page.wait_for_function("() => !document.querySelector('#analysis-loading')", timeout=600_000)
        out.append(("tunebook ui", "  ... checklist and first plot filled in", time.perf_counter() - started))
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(tb.base + "/experiment?name=big")
        page.wait_for_selector("#trials tbody tr", timeout=600_000)
        out.append(("tunebook ui", "Experiment page, again: trials table shown", time.perf_counter() - started))
        out += trial_page_times(browser, tb)
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(f"{od.base}/dashboard/studies/{od_study}", timeout=600_000)
        page.wait_for_load_state("networkidle", timeout=600_000)
        out.append(("optuna-dashboard", "study page: network idle", time.perf_counter() - started))
        browser.close()
    return out


def trial_page_times(browser: Any, tb: Served, runs: int = 2) -> list[tuple[str, str, float]]:
    """Seconds until the million-point trial's first curve is drawn: cold (a new browser profile: plotly.js
    fetched and compiled; the server's first thinning in the first run), then as a user gets there (a click
    on the trial in the Experiment page, which had loaded plotly.js for its plots); ``runs`` of each."""
    drawn = "#curves .plotly-graph-div .main-svg"
    out = []
    for run in range(1, runs + 1):
        context = browser.new_context()
        page = context.new_page()
        started = time.perf_counter()
        page.goto(tb.base + "/trial?name=huge&trial=depth%3D1/0", wait_until="commit")
        page.wait_for_selector(drawn, timeout=600_000)
        out.append(("tunebook ui", f"Trial page, 1,000,000 points, cold {run}: drawn", time.perf_counter() - started))
        context.close()
    for run in range(1, runs + 1):
        context = browser.new_context()
        page = context.new_page()
        page.goto(tb.base + "/experiment?name=huge")
        page.wait_for_selector("#trials tbody tr a", timeout=600_000)
        page.wait_for_function("() => window.Plotly !== undefined", timeout=600_000)
        started = time.perf_counter()
        page.click("#trials tbody tr a")
        page.wait_for_selector(drawn, timeout=600_000)
        out.append(("tunebook ui", f"  ... clicked from the Experiment page {run}", time.perf_counter() - started))
        context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--chromium", default=None)
    args = parser.parse_args()

    import optuna_dashboard

    from tunebook.storage import open_store
    from tunebook.ui import create_app

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        url = build_store(folder, args.trials, args.points)
        storage = export_optuna(url)
        print(f"data: {args.trials:,} trials + a {args.points:,}-point trial, written in "
              f"{time.perf_counter() - started:.1f} s (not timed below)")
        store = open_store(url)
        tb = Served(create_app(store, folder / "runs"), asgi=True)
        od = Served(optuna_dashboard.wsgi(storage), asgi=False)
        if args.chromium:  # first, on a server that has read nothing yet
            studies = {s.study_name: s._study_id for s in storage.get_all_studies()}
            print(f"\nheadless Chromium (load average before: {os.getloadavg()[0]:.1f})")
            for tool, label, seconds in browser_times(args.chromium, tb, od, studies["big/depth=1"]):
                print(f"{tool:<17} {label:<45} {seconds:>8.2f} s")
        rows = measure(tb, od, args.repeat, args.points)
        print(f"\n{'tool':<17} {'request':<45} {'first s':>8} {'median s':>9} {'bytes':>12}")
        for tool, label, first, median, size in rows:
            print(f"{tool:<17} {label:<45} {first:>8.3f} {median:>9.3f} {size:>12,}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        tb.server.should_exit = True
        od.server.shutdown()
        store.close()


if __name__ == "__main__":
    main()
