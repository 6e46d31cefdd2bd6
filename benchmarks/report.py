"""Report speed: from a stored experiment to its verdict, checklist, importance and plots.

10,000 trials x 1,000 steps x 3 metrics (train/loss, valid/loss, valid/error),
4 scientific values with 2,500 quasi-random trials each, about 8 % of them
infeasible (diverged at a high learning rate). Measured side by side in one run:

- tunebook: the ``tunebook report`` command itself (``cli.report``, run in
  this process through click, its printed text captured): ``analyse`` (load
  the trials, every curve's last point and the whole curves of the few
  hundred trials the checks and plots read, ``report.reads``; the checklist,
  the verdict, the best per scientific value, parameter importance), the text
  report, and the self-contained HTML report (every plot, plotly inlined).
  Its steps are then timed one by one in a second run, to show where the
  time goes (not part of the ratio);
- Optuna 5: the same trials with one curve each (valid/loss as intermediate
  values; Optuna keeps one curve per trial) in its in-memory storage, so its
  time holds no loading at all, then ``plot_slice`` and
  ``plot_intermediate_values`` written to one HTML file (plotly inlined).

Writing the data is not timed; each side is timed with only its own data in
memory, and neither with its code's start-up: plotly is imported and warmed
first (Optuna's side imports it before its clock with
``optuna.visualization``), and tunebook's command is run once on a small
experiment first (it imports its modules as it meets them). Prints seconds
for each step (wall clock, and the process's CPU seconds, steadier on a
shared machine), the ratio, the machine's load average at the start and the
end, and how long tunebook's HTML takes to open in
headless Chromium (Playwright): until its first screen is readable (loaded,
the trial table's first page in place, the plots in the window drawn), and
until every plot has drawn.

    python benchmarks/report.py [--trials 10000] [--steps 1000] [--chromium /usr/bin/chromium] [--store FILE]

``--store FILE`` times tunebook alone on a kept SQLite file (written first when
missing), then opens its page in Chromium: for quick iterations, no Optuna, no
ratio.
"""

from __future__ import annotations

import argparse
import gc
import math
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

SCIENTIFIC = [1, 2, 3, 4]  # num_layers
NUISANCE = {
    "learning_rate": {"low": 1e-4, "high": 3.0, "scale": "log"},
    "weight_decay": {"low": 1e-6, "high": 1e-2, "scale": "log"},
    "dropout": {"low": 0.0, "high": 0.5},
}
METRICS = ("train/loss", "valid/loss", "valid/error")


def experiment(trials_per_study: int, steps: int):
    from tunebook.core import Experiment

    return Experiment.from_dict({
        "name": "report-bench", "objective": {"metric": "valid/loss", "mode": "min"},
        "scientific": {"num_layers": SCIENTIFIC}, "nuisance": NUISANCE,
        "fixed": {"batch_size": 128, "max_train_steps": steps},
        "search": {"trials": trials_per_study, "seed": 0},
    })


def curves(params: dict, num_layers: int, steps: int, rng: np.random.Generator) -> dict[str, np.ndarray] | None:
    """Three noisy curves that fall at a rate set by the learning rate; None when the run diverges."""
    lr = params["learning_rate"]
    if lr > 1.0 and rng.random() < 0.6:
        return None
    t = np.arange(1, steps + 1, dtype=float)
    speed = min(lr, 0.3) * 30 / steps
    floor = 0.2 + 0.05 * abs(num_layers - 2.5) + 0.1 * params["dropout"] + abs(np.log10(lr) + 1.5) * 0.05
    train = floor * 0.8 + 2.0 * np.exp(-speed * t) + rng.normal(0, 0.02, steps)
    valid = floor + 2.0 * np.exp(-speed * t) + 1e-4 * t * params["weight_decay"] * 100 + rng.normal(0, 0.01, steps)
    error = np.clip(valid / 3.0 + rng.normal(0, 0.005, steps), 0, 1)
    return {"train/loss": train, "valid/loss": valid, "valid/error": error}


def write_tunebook(exp, steps: int, db: Path, seed: int) -> list[tuple]:
    """Store every trial and its curves; returns (num_layers, params) per trial, in the order made.

    The curves are not kept: ``optuna_study`` makes them again from the same
    seed, so tunebook is timed without Optuna's data in memory.
    """
    from tunebook.core import TrialState
    from tunebook.core.objective import reduce_curve
    from tunebook.search import make_sampler
    from tunebook.storage import SQLStore

    store = SQLStore(f"sqlite:///{db}")
    record = store.ensure_experiment(exp.name, exp.to_dict())
    rows, rng = [], np.random.default_rng(seed)
    step_ids = np.arange(1, steps + 1)
    for plan in exp.studies():
        sampler = make_sampler(exp, plan)
        study = store.ensure_study(record.id, plan.key, plan.scientific, exp.search.trials)
        while (trial := store.claim_trial(study.id, "bench", sampler.params)) is not None:
            layers = plan.scientific["num_layers"]
            made = curves(trial.params, layers, steps, rng)
            if made is None:
                store.finish_trial(trial.id, TrialState.INFEASIBLE, reason="diverged")
            else:
                store.log_curves(trial.id, {m: (step_ids, v) for m, v in made.items()})
                value, best = reduce_curve(step_ids, made["valid/loss"], "min", "best")
                store.finish_trial(trial.id, TrialState.COMPLETE, objective=value, best_step=best)
            rows.append((layers, dict(trial.params)))
    store.close()
    return rows


class Clock:
    """Wall and CPU seconds of named steps, in order."""

    def __init__(self) -> None:
        self.seconds: dict[str, tuple[float, float]] = {}
        self._start = self._mark = (time.perf_counter(), time.process_time())

    def lap(self, name: str) -> None:
        now = (time.perf_counter(), time.process_time())
        self.seconds[name] = (now[0] - self._mark[0], now[1] - self._mark[1])
        self._mark = now

    def total(self) -> dict[str, tuple[float, float]]:
        now = (time.perf_counter(), time.process_time())
        return {**self.seconds, "total": (now[0] - self._start[0], now[1] - self._start[1])}


def warm_plotly() -> float:
    """Import plotly and draw a small figure once, before either side's clock; returns the CPU seconds it took.

    Optuna's side imports plotly with ``optuna.visualization`` before its
    clock, and plotly loads its trace and layout classes on first use; the
    side timed second would otherwise find them loaded by the first. Warm
    before both, neither side's time holds the plotting library's start-up.
    """
    mark = time.process_time()
    import plotly.graph_objects as go
    import plotly.io as pio
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=2, figure=go.Figure(layout={"template": pio.templates["plotly_white"]}))
    for trace in (go.Scatter(x=[1, 2], y=[1, 2]), go.Bar(x=[1], y=[1]), go.Box(y=[1, 2, 3])):
        figure.add_trace(trace, row=1, col=1)
    figure.update_xaxes(title_text="x").update_layout(title="warm")
    figure.add_vline(x=1.5, row=1, col=1)
    pio.to_json(figure, validate=False)
    figure.to_html(include_plotlyjs=False, full_html=False)
    return time.process_time() - mark


def warm_tunebook(workdir: Path) -> float:
    """Run ``tunebook report`` once on a small experiment before the clock; returns its CPU seconds.

    The command imports its modules lazily, as it meets them; Optuna's side
    is timed with ``optuna`` imported. Neither side's clock holds importing
    its code.
    """
    mark = time.process_time()
    exp = experiment(10, 50)
    write_tunebook(exp, 50, workdir / "warm.db", seed=1)
    report(workdir / "warm.db", workdir / "warm-report")
    return time.process_time() - mark


def report(db: Path, out: Path) -> str:
    """``tunebook report report-bench --store DB --out OUT``, in this process (what it prints comes back)."""
    from click.testing import CliRunner

    from tunebook.cli.main import cli

    result = CliRunner().invoke(cli, ["report", "report-bench", "--store", f"sqlite:///{db}", "--out", str(out)],
                                catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"tunebook report failed ({result.exit_code}):\n{result.output}")
    return result.output


def time_tunebook(db: Path, out: Path) -> tuple[dict[str, tuple[float, float]], Path]:
    """``tunebook report`` itself, timed whole; then, not timed for the ratio, where its time goes (a second run of
    the same steps: load, checklist and verdict, importance, the text report, the HTML)."""
    clock = Clock()
    printed = report(db, out)
    clock.lap("tunebook report")
    total = clock.total()
    path = out / "report-bench.html"
    print(f"  tunebook report: {len(printed.splitlines())} lines printed, report {path.stat().st_size / 1e6:.1f} MB")
    gc.collect()
    return {**steps(db, out), "total (the command, timed whole)": total["total"]}, path


def steps(db: Path, out: Path) -> dict[str, tuple[float, float]]:
    """The command's steps, each timed (``cli.report``: ``analyse``, ``print_report``, ``write_html``)."""
    import contextlib
    import io

    from tunebook.analysis import load
    from tunebook.analysis.best import best_per_scientific_value
    from tunebook.analysis.checklist import metrics_read, run_checklist
    from tunebook.analysis.verdict import decide
    from tunebook.cli.report import Analysis, importance_or_none, print_report, write_html
    from tunebook.report.reads import report_reads
    from tunebook.storage import SQLStore

    clock = Clock()
    with SQLStore(f"sqlite:///{db}") as store:
        data = load("report-bench", store, metrics=metrics_read("valid/loss"), chooser=report_reads)
    clock.lap("  load")
    findings = run_checklist(data)
    verdict = decide(data, findings, store=f"sqlite:///{db}")
    best = best_per_scientific_value(data)
    clock.lap("  checklist, verdict, best")
    found = importance_or_none(data)
    clock.lap("  importance")
    result = Analysis(data, best, findings, verdict, found)
    with contextlib.redirect_stdout(io.StringIO()):
        print_report(result)
    clock.lap("  text report")
    write_html(result, out / "steps")
    clock.lap("  html report")
    fitted = ", ".join(f"{r.region} {r.fitted:,} of {r.trials:,}" for r in found.regions) if found else "not installed"
    print(f"  tunebook: {len(data.trials)} trials, {len(data.curves):,} curve points read, {len(findings)} findings; "
          f"importance fitted on (region, trials fitted of its trials): {fitted}")
    return {"(steps, a second run)": (math.nan, math.nan), **clock.seconds}


def optuna_study(rows: list[tuple], steps: int, seed: int):
    """The trials of ``write_tunebook`` (same params, same curves from the same seed) in Optuna's memory."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {
        "num_layers": optuna.distributions.CategoricalDistribution(SCIENTIFIC),
        **{name: optuna.distributions.FloatDistribution(r["low"], r["high"], log=r.get("scale") == "log")
           for name, r in NUISANCE.items()},
    }
    study = optuna.create_study(direction="minimize")
    trials, rng = [], np.random.default_rng(seed)
    for layers, params in rows:
        made = curves(params, layers, steps, rng)
        params = {"num_layers": layers, **{k: params[k] for k in NUISANCE}}
        if made is None:
            trials.append(optuna.trial.create_trial(params=params, distributions=distributions,
                                                    state=optuna.trial.TrialState.FAIL))
            continue
        valid = made["valid/loss"]
        trials.append(optuna.trial.create_trial(
            params=params, distributions=distributions, value=float(valid.min()),
            intermediate_values={i + 1: float(v) for i, v in enumerate(valid)},
        ))
    study.add_trials(trials)
    return study


def time_optuna(study, out: Path) -> dict[str, tuple[float, float]]:
    import optuna.visualization as vis

    clock = Clock()
    slice_figure = vis.plot_slice(study)
    clock.lap("plot_slice")
    curves_figure = vis.plot_intermediate_values(study)
    clock.lap("plot_intermediate_values")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "optuna.html"
    with path.open("w") as f:
        f.write(slice_figure.to_html(include_plotlyjs=True, full_html=True))
        f.write(curves_figure.to_html(include_plotlyjs=False, full_html=False))
    clock.lap("write html")
    print(f"  optuna: {len(study.trials)} trials, html {path.stat().st_size / 1e6:.1f} MB")
    return clock.total()


# true once every plot of the page has drawn (plotly sets _fullLayout and adds its SVG)
_DRAWN = "p => p._fullLayout !== undefined && p.querySelector('.main-svg') !== null"
_ALL_PLOTS_DRAWN = f"""() => {{
  const plots = Array.from(document.querySelectorAll('.plotly-graph-div'));
  return plots.length > 0 && plots.every({_DRAWN});
}}"""
# true once the first screen is as a reader sees it: the page loaded, the trial table's rows in place, and
# every plot that reaches into the window drawn
_FIRST_SCREEN = f"""() => {{
  if (document.readyState !== 'complete') return false;
  const rows = document.querySelector('table.trials tbody tr');
  const plots = Array.from(document.querySelectorAll('.plotly-graph-div'))
    .filter(p => p.getBoundingClientRect().top < window.innerHeight);
  return rows !== null && plots.every({_DRAWN});
}}"""


def time_chromium_open(page_file: Path, chromium: str) -> tuple[float, float, int] | str:
    """(seconds until the first screen is readable, seconds until every plot has drawn, plots) in headless Chromium.

    A fresh browser per measurement (no cache); the clock starts when the
    page is asked for; the window is 1280 x 900 and is not scrolled (plots
    below it draw when the browser is idle). A string says why it could not
    be measured.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "playwright is not installed"
    if not Path(chromium).exists():
        return f"no Chromium at {chromium}"
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            start = time.perf_counter()
            page.goto(page_file.resolve().as_uri(), wait_until="commit", timeout=300_000)
            page.wait_for_function(_FIRST_SCREEN, timeout=300_000, polling=20)
            first = time.perf_counter() - start
            page.wait_for_function(_ALL_PLOTS_DRAWN, timeout=300_000, polling=20)
            drawn = time.perf_counter() - start
            plots = page.evaluate("document.querySelectorAll('.plotly-graph-div').length")
        finally:
            browser.close()
    return first, drawn, plots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=10_000, help="trials in all (split over 4 studies)")
    parser.add_argument("--steps", type=int, default=1000, help="steps per curve")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the browser that opens the report")
    parser.add_argument("--store", type=Path, default=None,
                        help="tunebook-only quick run: reuse this SQLite file (written first when missing); "
                             "Optuna is skipped")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    print(f"load average at the start: {load_average()}")
    exp = experiment(args.trials // len(SCIENTIFIC), args.steps)
    if args.store is not None:
        quick_tunebook(exp, args.steps, args.store, args.chromium)
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        mark = time.perf_counter()
        rows = write_tunebook(exp, args.steps, workdir / "tunebook.db", seed=0)
        print(f"data written in {time.perf_counter() - mark:.0f} s (not timed)")
        print(f"plotly imported and warmed for both sides in {warm_plotly():.2f} CPU s (not timed)")
        print(f"tunebook's code imported (a report of 40 trials) in {warm_tunebook(workdir):.2f} CPU s (not timed)")
        ours, page_file = time_tunebook(workdir / "tunebook.db", workdir / "tunebook-report")
        gc.collect()
        study = optuna_study(rows, args.steps, seed=0)  # after tunebook's turn: neither runs beside the other's data
        del rows
        gc.collect()
        theirs = time_optuna(study, workdir / "optuna-report")
        del study
        gc.collect()
        opened = time_chromium_open(page_file, args.chromium)
    print_results(ours, theirs, opened)
    print(f"load average at the end: {load_average()}")


def quick_tunebook(exp, steps: int, store: Path, chromium: str) -> None:
    """Only tunebook's side, on a kept store, and its page in Chromium: for iterating on its speed (no ratio)."""
    if not store.exists():
        mark = time.perf_counter()
        write_tunebook(exp, steps, store, seed=0)
        print(f"data written in {time.perf_counter() - mark:.0f} s (not timed)")
    print(f"plotly imported and warmed in {warm_plotly():.2f} CPU s (not timed)")
    with tempfile.TemporaryDirectory() as tmp:
        print(f"tunebook's code imported (a report of 40 trials) in {warm_tunebook(Path(tmp)):.2f} CPU s (not timed)")
        ours, page_file = time_tunebook(store, Path(tmp) / "tunebook-report")
        gc.collect()
        opened = time_chromium_open(page_file, chromium)
    print(f"\n{'tunebook':28} {'wall s':>8} {'cpu s':>8}")
    for name, (wall, cpu) in ours.items():
        print(f"  {name:26} {wall:8.2f} {cpu:8.2f}" if math.isfinite(wall) else f"  {name}")
    print_opened(opened)


def print_results(ours: dict, theirs: dict, opened: tuple[float, float, int] | str) -> None:
    """Each side's steps (wall and CPU seconds), the ratios, and the Chromium open time."""
    for title, times in (("tunebook", ours), ("optuna (in memory)", theirs)):
        print(f"\n{title:28} {'wall s':>8} {'cpu s':>8}")
        for name, (wall, cpu) in times.items():
            print(f"  {name:26} {wall:8.2f} {cpu:8.2f}" if math.isfinite(wall) else f"  {name}")
    mine = ours["total (the command, timed whole)"]
    wall, cpu = theirs["total"][0] / mine[0], theirs["total"][1] / mine[1]
    print(f"\ntunebook / optuna time: {1 / wall:.3f} ({wall:.1f}x faster; CPU seconds: {cpu:.1f}x; "
          "target: at least 20x)")
    print_opened(opened)


def load_average() -> str:
    """The machine's load average over 1, 5 and 15 minutes: how much else ran beside the benchmark."""
    import os

    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def print_opened(opened: tuple[float, float, int] | str) -> None:
    if isinstance(opened, str):
        print(f"tunebook's HTML in headless Chromium: not measured ({opened})")
    else:
        first, drawn, plots = opened
        print(f"tunebook's HTML in headless Chromium: first screen readable {first:.1f} s, "
              f"all {plots} plots drawn {drawn:.1f} s")


if __name__ == "__main__":
    main()
