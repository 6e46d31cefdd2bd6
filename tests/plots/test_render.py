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
    # the infeasible trials in their own strip (the top row), labelled, outside the objective's axis
    assert fig.layout.yaxis.ticktext == ("infeasible",) and fig.layout.yaxis2.title.text == "loss"
    assert [t.yaxis for t in fig.data] == ["y2", "y2", "y", "y"]
    assert [t.marker.symbol for t in fig.data[2:]] == ["x", "x"] and fig.data[2].marker.color == "red"
    assert [t.showlegend for t in fig.data[2:]] == [True, False]  # one legend entry "infeasible"
    assert fig.layout.xaxis2.type == "log" and sorted({s.x0 for s in fig.layout.shapes}) == [1e-4, 1.0]
    # hovers name trials STUDY/NUMBER (from numbers, compact), with the true value, not the offset position
    first = infos["lr"].series[0]
    assert fig.data[0].hovertemplate.startswith("act=relu/%{customdata[0]}")
    assert fig.data[0].customdata[0].tolist() == pytest.approx([first.numbers[0], first.x[0]], rel=1e-6)
    assert first.names[0] == f"act=relu/{first.numbers[0]}"
    assert plots.render_axis(infos["wd"]).layout.xaxis.type == "linear"
    act = plots.render_axis(infos["act"])
    assert act.layout.xaxis2.ticktext == ("relu", "gelu") and act.layout.xaxis2.tickvals == (0, 1)


def test_isolation(two_studies):
    info = plots.get_isolation_info(two_studies, "act")
    fig = plots.render_isolation(info)
    best, spread = fig.data
    assert best.mode == "markers" and list(best.x) == [0.0, 1.0]  # points, no line between categories
    assert spread.error_y.array is not None and list(spread.y) == [p.spread[1] for p in info.points]
    assert list(fig.layout.yaxis.range) == list(info.y_range)
    exp = syn.experiment(scientific={"act": ["relu"]}, trials=2)
    rows = [("act=relu", {"act": "relu", "lr": 0.01}, v) for v in (0.3, 0.4)]
    fig = plots.render_isolation(plots.get_isolation_info(syn.frames(exp, rows), "act"))
    assert len(fig.data) == 2 and fig.data[1].error_y.array[0] > 0  # too few for a spread; retrains' std
    assert "too few trials to tell" in fig.layout.title.text


def test_curves_and_grad_norm(curve_data):
    info = plots.get_curves_info(curve_data)
    fig = plots.render_curves(info)
    # the faint lines of each panel and study are one trace; each highlighted line its own; markers one per panel
    faint_traces = {(ln.metric, ln.study) for ln in info.lines if not ln.highlighted}
    diverged_panels = {ln.metric for ln in info.lines if ln.diverged_at is not None}
    assert len(fig.data) == len(info.highlighted()) + len(faint_traces) + len(diverged_panels)
    assert fig.layout.xaxis2.title.text == "step"
    faint = fig.data[0]
    study = faint.hovertemplate.split("/%{customdata}")[0]
    assert faint.showlegend and sorted(f"{study}/{n}" for n in set(faint.customdata)) == sorted(
        {ln.name for ln in info.lines if not ln.highlighted and ln.metric == info.metrics[0] and ln.study == study})
    assert [t.showlegend for t in fig.data[:len(faint_traces)]].count(True) == 1
    for axis, panel in zip((fig.layout.yaxis, fig.layout.yaxis2), info.panels):
        assert axis.type == ("log" if panel.log_y else "linear")
    info = plots.get_grad_norm_info(curve_data)
    fig = plots.render_grad_norm(info)
    faint_studies = {ln.study for ln in info.lines if ln.best_of is None}
    assert len(fig.data) == sum(ln.best_of is not None for ln in info.lines) + len(faint_studies) + 1
    assert fig.data[-1].fill == "tozeroy" and sum(fig.data[-1].y[:-1]) == sum(info.counts)
    assert fig.layout.yaxis.type == "log"


def test_bootstrap_and_best_step(two_studies):
    info = plots.get_bootstrap_info(two_studies)
    fig = plots.render_bootstrap(info)
    assert len(fig.data) == 2 and all(t.type == "box" for t in fig.data) and fig.layout.xaxis.type == "category"
    assert list(fig.data[0].x) == [str(b.k) for b in info.series[0].boxes]
    assert list(fig.layout.xaxis.categoryarray) == [str(k) for k in info.budgets]
    info = plots.get_best_step_info(two_studies)
    fig = plots.render_best_step(info)
    assert len(fig.data) == 2 and all(t.type == "bar" for t in fig.data) and fig.layout.barmode == "group"
    assert list(fig.layout.xaxis.range) == [0, info.edges[-1]]


def test_missing_plotly_names_the_extra(monkeypatch, two_studies):
    from tunebook.core.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    with pytest.raises(MissingExtraError, match="report"):
        plots.render_best_step(plots.get_best_step_info(two_studies))
