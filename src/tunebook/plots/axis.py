"""Basic hyperparameter axis plots: the objective of every trial against one hyperparameter.

The playbook ("Identifying bad search space boundaries"): one point per
trial, the validation objective against e.g. the learning rate, so that a
best trial crowding the edge of the search space shows; infeasible trials
are drawn apart (a red X, as in Figure 7a). Here they sit in a strip above
the plot labelled "infeasible", outside the objective's axis, so they never
read as values. A log-scaled range gets a log x axis; the range's edges are
dashed vertical lines inside a padded x range (never on the tick labels);
each study is a colour.

Studies share their nuisance points (the same quasi-random sequence), so
their markers would sit on top of each other and only the last colour show.
Each study is drawn at a small fixed offset instead: study i of m moves by
(i - (m - 1) / 2) x ``DODGE`` of the axis width (in decades on a log axis).
A choice's values sit at 0, 1, 2 ...; the studies with trials at one value
spread evenly over ``CHOICE_DODGE`` of its slot (one study: centred), and
one study's trials there over ``STRIP`` / (studies there), in the order of
their numbers, so that a value's trials can be counted. Hover
texts give the true value and the trial's name (``STUDY/NUMBER``).

The objective axis spans the trials in focus (``scale.focus``): trials that
barely trained, far worse than the cluster of good ones, are drawn on the
axis' edge as triangles labelled "worse than shown" (their true value in the
hover), so the good region keeps its scale and nothing is hidden.

A study run by Bayesian optimization marks how each trial was chosen
(``suggested_by``): initial (quasi-random) points are circles, model
suggestions diamonds, fallbacks to quasi-random squares (infeasible: the
red x, diamond-x, square-x), with a grey legend entry per kind shown and the
kind in the hover. Model points crowd where the model expects the best, so
their density says nothing about the objective elsewhere.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tunebook.analysis.best import study_keys
from tunebook.core.domains import Choice, Range
from tunebook.core.space import format_value
from tunebook.plots import _common, scale

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

DODGE = 0.012  # offset between neighbouring studies, as a share of the axis width
CHOICE_DODGE = 0.4  # ... of a choice: the studies of one value spread over at most this share of a slot
STRIP = 0.3  # a study's trials at one value of a choice spread over this share of the slot (split between studies)
PAD = 0.04  # the x range extends this share of its width beyond the edges and the points
# marker symbol per ``suggested_by`` (complete trials, infeasible trials) and its legend words
SYMBOLS = {
    None: ("circle", "x", ""),
    "initial": ("circle", "x", "initial point (quasi-random)"),
    "model": ("diamond", "diamond-x", "model suggestion (Bayesian)"),
    "fallback": ("square", "square-x", "fallback to quasi-random"),
}

__all__ = ["AxisInfo", "AxisSeries", "get_axis_info", "get_axis_infos", "render_axis"]


@dataclasses.dataclass(frozen=True)
class AxisSeries:
    """Trials of one study: ids, names, hyperparameter values (x), plotted positions and objectives (y).

    ``positions`` are where the markers go: ``x`` moved by the study's offset
    (a choice's values are at 0, 1, 2 ... in ``categories`` order first).
    """

    study: str
    trial_ids: tuple[int, ...]
    names: tuple[str, ...]
    numbers: tuple[int, ...]
    x: tuple[Any, ...]
    positions: tuple[float, ...]
    y: tuple[float, ...]
    by: tuple[str | None, ...] = ()  # per trial, how its sampler chose it (``suggested_by``); () when none says


@dataclasses.dataclass(frozen=True)
class AxisInfo:
    """One axis plot. ``x`` of a choice is its formatted value; ``categories`` its spec order.

    ``series``: complete trials with a finite objective, one per study;
    ``infeasible``: the infeasible trials (and complete ones without a finite
    objective), drawn in the strip above (their ``y`` NaN). ``edges`` are the
    range's (low, high), None for a choice; ``x_range`` the plotted range in
    data units (positions for a choice), the edges and every point inside it;
    ``y_range`` the objective axis (``scale.focus``; None without a value),
    ``outside`` how many complete trials lie beyond it, drawn on its edge.
    """

    param: str
    metric: str
    mode: str
    log_x: bool
    edges: tuple[float, float] | None
    categories: tuple[str, ...] | None
    series: tuple[AxisSeries, ...]
    infeasible: tuple[AxisSeries, ...]
    x_range: tuple[float, float]
    y_range: tuple[float, float] | None = None
    outside: int = 0


def get_axis_infos(data: "ExperimentData") -> list[AxisInfo]:
    """One axis plot per varied hyperparameter (range or choice) that the trials hold."""
    return [get_axis_info(data, hp.id) for hp in data.experiment.space
            if hp.is_varied and hp.id in data.trials.columns]


def get_axis_info(data: "ExperimentData", param: str) -> AxisInfo:
    domain = data.experiment.space[param].domain
    trials = data.search_trials[data.search_trials[param].notna()].copy()  # retrains are not search points
    trials["objective"] = pd.to_numeric(trials["objective"], errors="coerce").astype(float)
    good = (trials["state"] == "complete") & np.isfinite(trials["objective"].to_numpy(dtype=float))
    bad = (trials["state"] == "infeasible") | ((trials["state"] == "complete") & ~good)
    categories = tuple(format_value(v) for v in domain.values) if isinstance(domain, Choice) else None
    is_range = isinstance(domain, Range)
    log_x = is_range and domain.scale == "log"
    edges = (float(domain.low), float(domain.high)) if is_range else None
    keys = study_keys(data)
    x_range = _x_range(trials[param], edges, categories, log_x)
    sharing = _studies_per_value(trials, param) if categories is not None else {}
    series, infeasible = [], []
    study, masks = trials["study"].to_numpy(), ((good.to_numpy(), series), (bad.to_numpy(), infeasible))
    for i, key in enumerate(keys):
        offset = (i - (len(keys) - 1) / 2) * DODGE
        mine = study == key
        for mask, out in masks:
            rows = trials[mine & mask].sort_values("number", kind="stable")
            if len(rows):
                out.append(_series(data, key, rows, param, categories, offset, x_range, log_x, sharing))
    ys = [y for s in series for y in s.y]
    y_range = scale.focus(ys, data.objective.mode)
    outside = sum(not y_range[0] <= y <= y_range[1] for y in ys) if y_range else 0
    return AxisInfo(param=param, metric=data.objective.metric, mode=data.objective.mode, log_x=log_x, edges=edges,
                    categories=categories, series=tuple(series), infeasible=tuple(infeasible), x_range=x_range,
                    y_range=y_range, outside=outside)


def _series(data: "ExperimentData", key: str, rows: pd.DataFrame, param: str, categories: tuple[str, ...] | None,
            offset: float, x_range: tuple[float, float], log_x: bool, sharing: dict[str, list[str]]) -> AxisSeries:
    ids = tuple(rows["trial_id"].to_numpy(dtype=np.int64).tolist())
    if categories is not None:
        xs = tuple(format_value(_common.plain(v)) for v in rows[param])
        positions = _strip(xs, categories, sharing, key)
    else:
        xs = _common.floats(rows[param])
        positions = _moved_all(np.asarray(xs, dtype=float), offset, x_range, log_x)
    by = tuple(b if isinstance(b, str) else None for b in rows.get("suggested_by", pd.Series(dtype=object)))
    return AxisSeries(key, ids, tuple(map(data.trial_name, ids)), tuple(rows["number"].to_numpy(dtype=np.int64).tolist()),
                      xs, positions, _common.floats(rows["objective"]), by if any(by) else ())


def _studies_per_value(trials: pd.DataFrame, param: str) -> dict[str, list[str]]:
    """Each formatted value of a choice -> the studies with a trial at it, in the order they come."""
    out: dict[str, list[str]] = {}
    for value, study in zip(trials[param], trials["study"]):
        studies = out.setdefault(format_value(_common.plain(value)), [])
        if study not in studies:
            studies.append(study)
    return out


def _strip(xs: tuple[str, ...], categories: tuple[str, ...], sharing: dict[str, list[str]], study: str
           ) -> tuple[float, ...]:
    """A study's positions at a choice: its slot's offset, its trials spread evenly over ``STRIP`` / studies there."""
    counts = Counter(xs)
    seen: Counter[str] = Counter()
    out = []
    for x in xs:
        j, n = seen[x], counts[x]
        seen[x] += 1
        spread = (j / (n - 1) - 0.5) * STRIP / len(sharing[x]) if n > 1 else 0.0
        out.append(_slot(categories, x) + _choice_offset(sharing[x], study) + spread)
    return tuple(out)


def _choice_offset(studies: list[str], study: str) -> float:
    """Where ``study`` sits in a choice's slot: the slot's studies spread over ``CHOICE_DODGE``, centred."""
    if len(studies) < 2:
        return 0.0
    return (studies.index(study) / (len(studies) - 1) - 0.5) * CHOICE_DODGE


def _slot(categories: tuple[str, ...], value: str) -> float:
    return float(categories.index(value)) if value in categories else float(len(categories))


def _moved(x: float, offset: float, x_range: tuple[float, float], log_x: bool) -> float:
    """``x`` moved by ``offset`` of the axis width (multiplicatively on a log axis)."""
    low, high = x_range
    if log_x and x > 0:
        return x * 10 ** (offset * math.log10(high / low))
    return x + offset * (high - low)


def _moved_all(xs: np.ndarray, offset: float, x_range: tuple[float, float], log_x: bool) -> tuple[float, ...]:
    """``_moved`` of every x, in one pass (the same float operations, so the same numbers)."""
    low, high = x_range
    shifted = xs + offset * (high - low)
    if log_x:
        shifted = np.where(xs > 0, xs * 10 ** (offset * math.log10(high / low)), shifted)
    return tuple(shifted.tolist())


def _x_range(values: pd.Series, edges: tuple[float, float] | None, categories: tuple[str, ...] | None,
             log_x: bool) -> tuple[float, float]:
    """The edges and every value, widened by ``PAD`` of the width on each side (-0.5 .. m - 0.5 for a choice)."""
    if categories is not None:
        return -0.5, len(categories) - 0.5
    points = [float(v) for v in values if not log_x or float(v) > 0] + list(edges or ())
    low, high = (min(points), max(points)) if points else (0.0, 1.0)
    if log_x:
        a, b = math.log10(low), math.log10(high)
        pad = PAD * (b - a) or 0.5
        return 10 ** (a - pad), 10 ** (b + pad)
    pad = PAD * (high - low) or 0.5
    return low - pad, high + pad


def render_axis(info: AxisInfo):
    """Markers per study; the infeasible trials in a strip above labelled "infeasible"; edges as dashed lines."""
    go = _common.go()
    rows = 2 if info.infeasible else 1
    fig = _common.make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.03,
                                row_heights=[0.12, 0.88] if rows == 2 else None)
    colors = {study: _common.color(i) for i, study in enumerate(_studies(info))}
    low, high = info.y_range or (-math.inf, math.inf)
    for s in info.series:
        y = np.asarray(s.y)
        shown = (y >= low) & (y <= high)
        fig.add_trace(go.Scatter(
            x=np.asarray(s.positions)[shown], y=y[shown], mode="markers", name=s.study,
            marker={"color": colors[s.study], "size": 8, "opacity": 0.85, "line": {"color": "white", "width": 1},
                    **_symbols(s, 0, shown)},
            legendgroup=s.study, **_hover(info, s, f"<br>{info.metric} %{{y:.4g}}", shown)), row=rows, col=1)
    _add_outside(fig, info, colors, rows)
    for i, s in enumerate(info.infeasible):
        fig.add_trace(go.Scatter(
            x=np.asarray(s.positions), y=np.zeros(len(s.positions)), mode="markers", name="infeasible",
            marker={"symbol": "x", "color": _common.INFEASIBLE_COLOR, "size": 9, **_symbols(s, 1)},
            legendgroup="infeasible",
            showlegend=i == 0, legendrank=1000, **_hover(info, s, " infeasible")), row=1, col=1)
    _add_symbol_legend(fig, info, rows)
    _add_edges(fig, info, rows)
    _layout_x(fig, info, rows)
    if rows == 2:
        fig.update_yaxes(range=[-1, 1], tickvals=[0], ticktext=["infeasible"], showgrid=False, zeroline=False,
                         fixedrange=True, tickfont={"color": _common.INFEASIBLE_COLOR}, row=1, col=1)
    fig.update_yaxes(title_text=info.metric, row=rows, col=1)
    if info.y_range:
        fig.update_yaxes(range=list(info.y_range), row=rows, col=1)
    fig.update_layout(title=f"{info.metric} ({info.mode}) vs {info.param}")
    return fig


def _add_edges(fig, info: AxisInfo, rows: int) -> None:
    """The range's edges as dashed lines across each row that holds points (the shapes ``add_vline`` makes,
    set in one assignment: ``add_vline`` per edge and row cost ~20 ms each)."""
    drawn = {trace.xaxis or "x" for trace in fig.data}
    names = [str(row) if row > 1 else "" for row in range(1, rows + 1)]  # row 1's axes are x and y, row 2's x2, y2
    refs = [(f"x{n}", f"y{n}") for n in names if f"x{n}" in drawn]
    lines = [{"type": "line", "x0": edge, "x1": edge, "xref": x, "y0": 0, "y1": 1, "yref": f"{y} domain",
              "line": {"color": "#444", "dash": "dash", "width": 1.5}, "layer": "above", "opacity": 0.7}
             for edge in info.edges or () for x, y in refs]
    if lines:
        fig.layout.shapes = tuple(fig.layout.shapes) + tuple(lines)


def _symbols(s: AxisSeries, column: int, keep: np.ndarray | None = None) -> dict[str, Any]:
    """``symbol`` per point by how it was chosen (``SYMBOLS``); nothing when the series does not say."""
    if not s.by:
        return {}
    symbols = np.asarray([SYMBOLS.get(b, SYMBOLS[None])[column] for b in s.by], dtype=object)
    return {"symbol": list(symbols if keep is None else symbols[keep])}


def _add_symbol_legend(fig, info: AxisInfo, row: int) -> None:
    """A grey legend entry per kind of suggestion drawn (e.g. initial point, model suggestion)."""
    go = _common.go()
    drawn = dict.fromkeys(b for s in info.series + info.infeasible for b in s.by if b in SYMBOLS)
    for by in drawn:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=SYMBOLS[by][2], legendgroup=f"by-{by}",
                                 marker={"symbol": SYMBOLS[by][0], "color": "#888", "size": 8}, legendrank=1001,
                                 hoverinfo="skip"), row=row, col=1)


def _add_outside(fig, info: AxisInfo, colors: dict[str, str], row: int) -> None:
    """The trials beyond ``y_range``: triangles on its worse edge, in their study's colour, true value in the hover."""
    if not info.outside:
        return
    go = _common.go()
    low, high = info.y_range
    edge, symbol = (high, "triangle-up") if info.mode == "min" else (low, "triangle-down")
    first = True
    for s in info.series:
        y = np.asarray(s.y)
        out = (y < low) | (y > high)
        if not out.any():
            continue
        fig.add_trace(go.Scatter(
            x=np.asarray(s.positions)[out], y=np.full(int(out.sum()), edge), mode="markers",
            name=f"worse than shown ({info.outside})", legendgroup="outside", showlegend=first, legendrank=999,
            marker={"symbol": symbol, "color": colors[s.study], "size": 10, "line": {"color": "#333", "width": 1}},
            cliponaxis=False, **_hover(info, s, f"<br>{info.metric} %{{customdata[2]:.4g}} (off the axis)", out,
                                       with_y=True)), row=row, col=1)
        first = False


def _hover(info: AxisInfo, s: AxisSeries, outcome: str, keep: np.ndarray | None = None,
           with_y: bool = False) -> dict[str, Any]:
    """customdata and hovertemplate: the trial's name, the true value (not the offset position), ``outcome``.

    Numbers travel as one float32 array, compact for 10,000 trials (exact
    for trial numbers below 16 million, 7 digits of a value where the hover
    shows 4): the trial's number and a range's value; a choice's label is
    the point's text.
    """
    name = _common.numbered(s.study, "%{customdata[0]}")
    keep = np.ones(len(s.numbers), dtype=bool) if keep is None else keep
    x = np.asarray(s.x, dtype=object)[keep]
    if info.categories is None:
        columns, value, extra = [np.asarray(s.numbers)[keep], x.astype(float)], "%{customdata[1]:.4g}", {}
    else:
        columns, value, extra = [np.asarray(s.numbers)[keep], np.zeros(int(keep.sum()))], "%{text}", {"text": list(x)}
    if with_y:  # the true objective of a point drawn on the edge
        columns.append(np.asarray(s.y)[keep])
    data = np.column_stack(columns).astype(np.float32)
    if s.by:  # how the trial was chosen, in words
        extra["hovertext"] = [f" ({SYMBOLS.get(b, SYMBOLS[None])[2] or 'not said'})" for b in np.asarray(s.by, dtype=object)[keep]]
        outcome = "%{hovertext}" + outcome
    return {"customdata": data, "hovertemplate": f"{name}{outcome}<br>{info.param} {value}<extra></extra>", **extra}


def _layout_x(fig, info: AxisInfo, rows: int) -> None:
    """The x axes: log or linear over ``x_range``; a choice's values as ticks at 0, 1, 2 ..."""
    low, high = info.x_range
    axis: dict[str, Any] = {"type": "log" if info.log_x else "linear", "zeroline": False,  # would hide an edge at 0
                            "range": [math.log10(low), math.log10(high)] if info.log_x else [low, high]}
    if info.categories is not None:
        axis.update(tickvals=list(range(len(info.categories))), ticktext=list(info.categories), showgrid=False)
    for row in range(1, rows + 1):
        fig.update_xaxes(**axis, row=row, col=1)
    fig.update_xaxes(title_text=info.param, row=rows, col=1)


def _studies(info: AxisInfo) -> list[str]:
    return list(dict.fromkeys(s.study for s in info.series + info.infeasible))
