"""Smoke: every renderer returns a Figure with the traces and axis types its info calls for."""

import subprocess
import sys

import pytest

from tests.analysis import synthetic as syn
from tunebook import plots

go = pytest.importorskip("plotly.graph_objects")


def test_importing_plots_needs_no_plotly():
    code = "import sys, tunebook.plots; assert 'plotly' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_axis(two_studies):
    infos = {i.param: i for i in plots.get_axis_infos(two_studies)}
    fig = plots.render_axis(infos["lr"])
    assert isinstance(fig, go.Figure) and len(fig.data) == 4  # 2 studies + 2 infeasible
    assert fig.layout.xaxis.type == "log" and [s.x0 for s in fig.layout.shapes] == [1e-4, 1.0]
    assert [t.marker.symbol for t in fig.data[2:]] == ["x", "x"] and fig.data[2].marker.color == "red"
    assert plots.render_axis(infos["wd"]).layout.xaxis.type == "linear"
    assert plots.render_axis(infos["act"]).layout.xaxis.type == "category"


def test_isolation(two_studies):
    fig = plots.render_isolation(plots.get_isolation_info(two_studies, "act"))
    assert len(fig.data) == 1 and list(fig.data[0].x) == ["relu", "gelu"]
    exp = syn.experiment(scientific={"act": ["relu"]}, trials=2)
    rows = [("act=relu", {"act": "relu", "lr": 0.01}, v) for v in (0.3, 0.4)]
    fig = plots.render_isolation(plots.get_isolation_info(syn.frames(exp, rows), "act"))
    assert len(fig.data) == 2 and fig.data[1].error_y.array[0] > 0


def test_curves_and_grad_norm(curve_data):
    info = plots.get_curves_info(curve_data)
    fig = plots.render_curves(info)
    # the faint lines of each panel are one trace; each highlighted line its own
    faint_panels = {ln.metric for ln in info.lines if not ln.highlighted}
    assert len(fig.data) == len(info.highlighted()) + len(faint_panels) and fig.layout.xaxis2.title.text == "step"
    faint = fig.data[0]
    assert faint.showlegend and sorted(set(faint.customdata)) == sorted(
        {ln.trial_id for ln in info.lines if not ln.highlighted and ln.metric == info.metrics[0]})
    info = plots.get_grad_norm_info(curve_data)
    fig = plots.render_grad_norm(info)
    assert len(fig.data) == sum(ln.best_of is not None for ln in info.lines) + 2 and fig.data[-1].type == "bar"
    assert sum(fig.data[-1].y) == sum(info.counts)
    assert fig.layout.yaxis.type == "log"


def test_bootstrap_and_best_step(two_studies):
    info = plots.get_bootstrap_info(two_studies)
    fig = plots.render_bootstrap(info)
    assert len(fig.data) == 2 and all(t.type == "box" for t in fig.data) and fig.layout.xaxis.type == "category"
    assert list(fig.data[0].x) == [str(b.k) for b in info.series[0].boxes]
    fig = plots.render_best_step(plots.get_best_step_info(two_studies))
    assert len(fig.data) == 2 and all(t.type == "histogram" for t in fig.data) and len(fig.layout.shapes) == 1


def test_missing_plotly_names_the_extra(monkeypatch, two_studies):
    from tunebook.core.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    with pytest.raises(MissingExtraError, match="report"):
        plots.render_best_step(plots.get_best_step_info(two_studies))
