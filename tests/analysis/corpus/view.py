"""Look at the corpus: every entry's curves in one grid, titled with its id and labels, as HTML and PNG.

    PYTHONPATH=src python -m tests.analysis.corpus.view [--only SUBSTRING] [--tail 0.5] [--out /tmp/corpus.png]

Per entry: the training loss (blue, log scale, left axis) and the objective
metric (red, right axis, zoomed past its first tenth) of every trial;
``--tail`` shows only that last share of the steps (periodicity is easier
to see there). The PNG needs a headless Chromium (``--chromium``, default
``/usr/bin/chromium``).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from tests.analysis.corpus.harness import curve_points, load_corpus

COLUMNS = 3
PANEL_HEIGHT = 300
LABEL_MARK = {"fire": "+", "silent": "-", "expected": "~"}


def _tail(curve: dict, share: float) -> tuple[np.ndarray, np.ndarray]:
    steps, values = curve_points(curve)
    keep = steps >= (1 - share) * steps[-1]
    return steps[keep], values[keep]


def figure(entries: list[dict], tail: float = 1.0):
    """A plotly figure: one panel per entry, the last ``tail`` share of the steps."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = max(1, math.ceil(len(entries) / COLUMNS))
    titles = [f"{e['id']}<br>" + " ".join(f"{LABEL_MARK[v]}{k}" for k, v in e["labels"].items() if k != "periodicity")
              + (" +periodicity" if e["labels"].get("periodicity") == "fire" else "") for e in entries]
    fig = make_subplots(rows=rows, cols=COLUMNS, subplot_titles=titles, vertical_spacing=0.5 / rows,
                        specs=[[{"secondary_y": True}] * COLUMNS] * rows)
    for i, entry in enumerate(entries):
        row, col = i // COLUMNS + 1, i % COLUMNS + 1
        metric = entry["objective"]["metric"]
        low, high = math.inf, -math.inf
        for trial in entry["trials"]:
            steps, values = _tail(trial["curves"]["train/loss"], tail)
            fig.add_trace(go.Scatter(x=steps, y=values, mode="lines", line={"width": 1, "color": "steelblue"},
                                     showlegend=False), row=row, col=col)
            steps, values = _tail(trial["curves"][metric], tail)
            fig.add_trace(go.Scatter(x=steps, y=values, mode="lines", line={"width": 1, "color": "crimson"},
                                     showlegend=False), row=row, col=col, secondary_y=True)
            low, high = min(low, float(np.min(values))), max(high, float(np.max(values[len(values) // 10:])))
        fig.update_yaxes(type="log", row=row, col=col, secondary_y=False)
        pad = 0.05 * (high - low) or 0.01
        fig.update_yaxes(range=[low - pad, high + pad], row=row, col=col, secondary_y=True)
    fig.update_layout(width=1500, height=PANEL_HEIGHT * rows, margin={"l": 30, "r": 30, "t": 50, "b": 20})
    fig.update_annotations(font_size=10)
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="only the entries whose id contains this")
    parser.add_argument("--out", default="/tmp/corpus.png", help="the PNG to write (the HTML goes next to it)")
    parser.add_argument("--tail", type=float, default=1.0, help="show only this last share of the steps")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    entries = [e for e in load_corpus() if not args.only or args.only in e["id"]]
    out = Path(args.out)
    html = out.with_suffix(".html")
    figure(entries, args.tail).write_html(html, include_plotlyjs=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1500, "height": PANEL_HEIGHT})
        page.goto(html.resolve().as_uri())
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out), full_page=True)
        browser.close()
    print(out)


if __name__ == "__main__":
    main()
