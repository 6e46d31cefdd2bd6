"""Basic hyperparameter axis plots: the objective of every trial against one hyperparameter.

The playbook ("Identifying bad search space boundaries"): one point per
trial, the validation objective against e.g. the learning rate, so that a
best trial crowding the edge of the search space shows; infeasible trials
are drawn apart (a red X, as in Figure 7a), here just beyond the worst
objective so that they never hide the good region. A log-scaled range gets
a log x axis; the range's edges are vertical lines; each study is a colour.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tunebook.analysis.best import study_keys
from tunebook.core.domains import Choice, Range
from tunebook.core.space import format_value
from tunebook.plots import _common

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

BEYOND = 0.05  # infeasible trials sit this share of the objective's span beyond the worst value

__all__ = ["AxisInfo", "AxisSeries", "get_axis_info", "get_axis_infos", "render_axis"]


@dataclasses.dataclass(frozen=True)
class AxisSeries:
    """Trials of one study: ids, hyperparameter values (x) and objectives (y)."""

    study: str
    trial_ids: tuple[int, ...]
    x: tuple[Any, ...]
    y: tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class AxisInfo:
    """One axis plot. ``x`` of a choice is its formatted value; ``categories`` its spec order.

    ``infeasible`` holds the infeasible trials (and complete ones without a
    finite objective), their ``y`` all ``infeasible_y``. ``edges`` are the
    range's (low, high), None for a choice.
    """

    param: str
    metric: str
    mode: str
    log_x: bool
    edges: tuple[float, float] | None
    categories: tuple[str, ...] | None
    series: tuple[AxisSeries, ...]
    infeasible: tuple[AxisSeries, ...]
    infeasible_y: float


def get_axis_infos(data: "ExperimentData") -> list[AxisInfo]:
    """One axis plot per varied hyperparameter (range or choice) that the trials hold."""
    return [get_axis_info(data, hp.id) for hp in data.experiment.space
            if hp.is_varied and hp.id in data.trials.columns]


def get_axis_info(data: "ExperimentData", param: str) -> AxisInfo:
    hp = data.experiment.space[param]
    domain = hp.domain
    trials = data.trials[data.trials[param].notna()].copy()
    trials["objective"] = pd.to_numeric(trials["objective"], errors="coerce").astype(float)
    good = (trials["state"] == "complete") & np.isfinite(trials["objective"].to_numpy(dtype=float))
    bad = (trials["state"] == "infeasible") | ((trials["state"] == "complete") & ~good)
    is_choice = isinstance(domain, Choice)
    series, infeasible = [], []
    for key in study_keys(data):
        in_study = trials["study"] == key
        for mask, out in ((good, series), (bad, infeasible)):
            rows = trials[in_study & mask].sort_values("number", kind="stable")
            if len(rows):
                xs = tuple(format_value(_common.plain(v)) if is_choice else float(v) for v in rows[param])
                out.append(AxisSeries(key, tuple(int(t) for t in rows["trial_id"]), xs,
                                      _common.floats(rows["objective"])))
    y_bad = _beyond_worst(trials.loc[good, "objective"].to_numpy(dtype=float), data.objective.mode)
    infeasible = [dataclasses.replace(s, y=(y_bad,) * len(s.trial_ids)) for s in infeasible]
    is_range = isinstance(domain, Range)
    return AxisInfo(
        param=param, metric=data.objective.metric, mode=data.objective.mode,
        log_x=is_range and domain.scale == "log",
        edges=(float(domain.low), float(domain.high)) if is_range else None,
        categories=tuple(format_value(v) for v in domain.values) if is_choice else None,
        series=tuple(series), infeasible=tuple(infeasible), infeasible_y=y_bad,
    )


def _beyond_worst(values: np.ndarray, mode: str) -> float:
    """Just past the worst finite objective (above it for min, below for max); 0 when there is none."""
    if not len(values):
        return 0.0
    low, high = float(values.min()), float(values.max())
    span = (high - low) or abs(high) or 1.0
    return high + BEYOND * span if mode == "min" else low - BEYOND * span


def render_axis(info: AxisInfo):
    """One marker trace per study, one red-X trace per study with infeasible trials, edges as vlines."""
    go = _common.go()
    fig = go.Figure()
    colors = {study: _common.color(i) for i, study in enumerate(_studies(info))}
    for s in info.series:
        fig.add_trace(go.Scatter(x=_xs(s.x), y=np.asarray(s.y), mode="markers", name=s.study,
                                 marker={"color": colors[s.study], "size": 7}, customdata=np.asarray(s.trial_ids),
                                 hovertemplate="trial %{customdata}<br>%{x}: %{y}<extra>" + s.study + "</extra>"))
    for s in info.infeasible:
        fig.add_trace(go.Scatter(x=_xs(s.x), y=np.asarray(s.y), mode="markers", name=f"{s.study} (infeasible)",
                                 marker={"symbol": "x", "color": _common.INFEASIBLE_COLOR, "size": 9},
                                 customdata=np.asarray(s.trial_ids), hovertemplate="trial %{customdata} infeasible"
                                 "<br>%{x}<extra>" + s.study + "</extra>"))
    for edge in info.edges or ():
        fig.add_vline(x=edge, line={"color": "black", "dash": "dash", "width": 1})
    xaxis: dict[str, Any] = {"title": info.param, "type": "log" if info.log_x else "linear"}
    if info.categories is not None:
        xaxis = {"title": info.param, "type": "category", "categoryorder": "array",
                 "categoryarray": list(info.categories)}
    fig.update_layout(title=f"{info.metric} ({info.mode}) vs {info.param}", xaxis=xaxis,
                      yaxis={"title": info.metric}, template="plotly_white")
    return fig


def _xs(values: tuple) -> Any:
    """Numbers as an array (plotly takes arrays fast and stores them compactly); categories as a list."""
    return np.asarray(values, dtype=float) if all(isinstance(v, float) for v in values) else list(values)


def _studies(info: AxisInfo) -> list[str]:
    return list(dict.fromkeys(s.study for s in info.series + info.infeasible))
