"""The HTML report in a real headless browser: it opens offline, every plot draws (the first screen's at
once, the others when the browser is idle, without scrolling), the trial table sorts."""

from __future__ import annotations

import pytest

from tests.analysis import curve_cases as cc
from tests.browser import browser  # noqa: F401 - the shared headless Chromium fixture
from tunebook.report import figures, write_html_report


def wait_for_every_plot(page, timeout: float = 60_000) -> int:
    """Wait until every plot of the page has drawn (plotly's SVG in each); returns how many there are."""
    page.wait_for_function("""() => {
      const plots = Array.from(document.querySelectorAll('.plot > .plotly-graph-div'));
      return plots.length > 0 && plots.every(p => p.querySelector('.main-svg') !== null);
    }""", timeout=timeout)
    return page.locator(".plot > .plotly-graph-div").count()


def _data():
    rng = cc.np.random.default_rng(0)
    trials = []
    for depth in (1, 2):
        for j in range(5):
            trials.append({"depth": depth, "lr": 10.0 ** -(j + 1), "curves": {
                "train/loss": cc.noisy(cc.decay(40, floor=0.2 + 0.05 * j), 0.01, rng),
                "valid/loss": cc.noisy(cc.u_shape(40, floor=0.3 + 0.05 * j + 0.02 * depth), 0.01, rng),
                "grad_norm": abs(cc.noisy(cc.np.full(40, 1.0 + j), 0.2, rng))}})
    trials.append({"depth": 1, "lr": 0.9, "state": "infeasible", "curves": {"train/loss": cc.np.array([2.0, 50.0])}})
    # a trial that diverged: its losses run to 1e30, then NaN (step 5250 is where it passes 10x its start)
    loss, valid = cc.decay(40), cc.decay(40, floor=0.5)
    loss[20:], valid[20:] = cc.np.geomspace(30.0, 1e30, 20), cc.np.geomspace(1.0, 1e30, 20)
    loss[35:], valid[30:] = cc.np.nan, cc.np.nan
    trials.append({"depth": 2, "lr": 0.7, "state": "infeasible", "curves": {"train/loss": loss, "valid/loss": valid}})
    return cc.make_data(trials)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """(data, path of its HTML report), written once for the module."""
    data = _data()
    return data, write_html_report(data, tmp_path_factory.mktemp("report"))


def test_the_report_opens_offline_draws_every_plot_and_sorts(browser, report):
    data, path = report
    isolation, others = figures(data)
    page = browser.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(path.as_uri())
    assert wait_for_every_plot(page) == len(isolation) + len(others) > 5  # without scrolling
    assert requests and errors == [] and all(url.startswith("file:") for url in requests)  # offline: no CDN
    drawn = page.locator(".plot .js-plotly-plot").count()
    assert drawn == len(isolation) + len(others)
    # every figure drew its traces (an empty or broken figure has no trace groups)
    for i in range(drawn):
        assert page.locator(".plot .js-plotly-plot").nth(i).locator("g.trace, g.boxlayer path, g.barlayer path").count() > 0
    table = page.locator("table.sortable")
    header = table.locator("th", has_text="objective")
    column = table.locator("th").all_inner_texts().index("objective") + 1
    header.click()
    values = table.locator(f"tbody tr td:nth-child({column})").evaluate_all("tds => tds.map(t => t.dataset.v)")
    numbers = [float(v) for v in values if v]
    assert numbers == sorted(numbers) and len(numbers) == 10
    header.click()
    values = table.locator(f"tbody tr td:nth-child({column})").evaluate_all("tds => tds.map(t => t.dataset.v)")
    numbers = [float(v) for v in values if v]
    assert numbers == sorted(numbers, reverse=True)
    page.close()


def test_diverged_trials_do_not_flatten_the_curves(browser, report):
    """As drawn: the curve panels' y-axes stay at the losses' scale, the divergence is marked and labelled."""
    page = browser.new_page()
    page.goto(report[1].as_uri())
    wait_for_every_plot(page)
    curves = page.locator(".plot .js-plotly-plot").filter(has_text="Training curves")
    ranges = curves.evaluate("gd => [gd._fullLayout.yaxis.range, gd._fullLayout.yaxis2.range]")
    assert all(high < 3.0 for _, high in ranges)  # the 1e30 of the diverged trial sets nothing
    assert curves.locator("text", has_text="diverged at step 5250").count() == 1
    axis = page.locator(".plot .js-plotly-plot").filter(has_text="valid/loss (min) vs lr")
    assert axis.locator("text", has_text="infeasible").count() >= 1  # the strip's label
    page.close()


def test_the_plots_in_the_window_draw_first(browser, report):
    """Opened at the trial table (the page's end), the plots there draw before the first ones; all draw unscrolled."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script("""window.__drawn = [];
      addEventListener('DOMContentLoaded', () => document.querySelectorAll('.plot > .plotly-graph-div').forEach(
        (div, i) => new MutationObserver((_, seen) => { window.__drawn.push(i); seen.disconnect(); })
          .observe(div, {childList: true})));""")
    page.goto(report[1].as_uri() + "#trials")
    count = wait_for_every_plot(page)
    order = page.evaluate("window.__drawn")
    near = page.locator(".plot > .plotly-graph-div").evaluate_all(  # within the window or 200 px of it
        "ds => ds.map(d => d.getBoundingClientRect()).map(r => r.bottom > -200 && r.top < innerHeight + 200)")
    assert sorted(order) == list(range(count)) and 0 < sum(near) < count and not near[0]
    assert all(near[i] for i in order[:sum(near)])  # those near the window first, then the others
    page.close()
