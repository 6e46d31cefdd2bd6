"""Isolation plots: the best objective for each value of a scientific hyperparameter.

The playbook ("Detecting whether a change is useful with isolation plots"):
each point is the *best* trial over the nuisance hyperparameters, so the
scientific values compare apples to apples. The groups are
``analysis.best.scientific_groups``: one per study for per-value studies,
quantile buckets of a continuous scientific value in a joint study ("bucketing
the x-axis values ... and taking the best trial in each vertical slice").
When the best trial's exact parameters were trained more than once (retrains),
the mean ± std of those runs gives an error bar.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from tunebook.analysis.best import BUCKETS, scientific_groups
from tunebook.core.domains import Choice, Range, same_value
from tunebook.core.space import format_value
from tunebook.plots import _common

if TYPE_CHECKING:
    import pandas as pd

    from tunebook.analysis.data import ExperimentData

__all__ = ["IsolationInfo", "IsolationPoint", "get_isolation_info", "get_isolation_infos", "render_isolation"]


@dataclasses.dataclass(frozen=True)
class IsolationPoint:
    """The best trial of one scientific value.

    ``x`` is the value (formatted for a choice); a bucket of a range has
    ``x_range`` (low, high seen) and ``x`` its middle (geometric on a log
    scale). ``series`` names the other scientific values the group holds.
    ``repeats`` counts complete trials with exactly the best trial's params
    (1 without retrains); ``mean``/``std`` are theirs (std with ddof=1, None
    for a single run).
    """

    group: str
    series: str
    x: Any
    x_range: tuple[float, float] | None
    best: float
    trial_id: int
    n_complete: int
    repeats: int
    mean: float
    std: float | None


@dataclasses.dataclass(frozen=True)
class IsolationInfo:
    param: str
    metric: str
    mode: str
    log_x: bool
    categories: tuple[str, ...] | None
    points: tuple[IsolationPoint, ...]

    @property
    def has_error_bars(self) -> bool:
        return any(p.repeats > 1 for p in self.points)


def get_isolation_infos(data: "ExperimentData", buckets: int = BUCKETS) -> list[IsolationInfo]:
    """One isolation plot per scientific hyperparameter that the trials hold (none without any)."""
    return [get_isolation_info(data, hp.id, buckets) for hp in data.experiment.space.with_role("scientific")
            if hp.id in data.trials.columns]


def get_isolation_info(data: "ExperimentData", param: str, buckets: int = BUCKETS) -> IsolationInfo:
    domain = data.experiment.space[param].domain
    is_choice, log_x = isinstance(domain, Choice), isinstance(domain, Range) and domain.scale == "log"
    params = data.param_ids()
    points = []
    for group in scientific_groups(data, buckets):
        if param not in group.scientific:
            continue
        value = group.scientific[param]
        others = ",".join(f"{k}={_label(v)}" for k, v in group.scientific.items() if k != param)
        x_range = None
        if isinstance(value, list):
            x_range = (float(value[0]), float(value[1]))
            x = math.sqrt(x_range[0] * x_range[1]) if log_x and x_range[0] > 0 else sum(x_range) / 2
        else:
            x = format_value(value) if is_choice else float(value)
        best = group.trials.iloc[0]
        same = _same_params(group.trials, best, params)
        runs = same["objective"].to_numpy(dtype=float)
        points.append(IsolationPoint(
            group=group.label, series=others, x=x, x_range=x_range, best=float(best["objective"]),
            trial_id=int(best["trial_id"]), n_complete=len(group.trials), repeats=len(runs),
            mean=float(np.mean(runs)), std=float(np.std(runs, ddof=1)) if len(runs) > 1 else None,
        ))
    if not is_choice:
        points.sort(key=lambda p: (p.series, p.x))
    return IsolationInfo(param, data.objective.metric, data.objective.mode, log_x,
                         tuple(format_value(v) for v in domain.values) if is_choice else None, tuple(points))


def _same_params(trials: "pd.DataFrame", best: "pd.Series", params: list[str]) -> "pd.DataFrame":
    """The rows of ``trials`` whose every param equals the best trial's (both missing counts as equal)."""
    keep = np.ones(len(trials), dtype=bool)
    for p in params:
        want = best[p]
        column = trials[p]
        if _missing(want):
            keep &= column.isna().to_numpy()
        else:
            keep &= np.array([not _missing(v) and same_value(_common.plain(v), _common.plain(want)) for v in column])
    return trials[keep]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _label(value: Any) -> str:
    return f"[{value[0]:.3g}, {value[1]:.3g}]" if isinstance(value, list) else format_value(value)


def render_isolation(info: IsolationInfo):
    """Per series: the bests (markers + line, bucket widths as x error bars); retrains' mean ± std apart."""
    go = _common.go()
    fig = go.Figure()
    series = list(dict.fromkeys(p.series for p in info.points))
    for i, name in enumerate(series):
        pts = [p for p in info.points if p.series == name]
        color = _common.color(i)
        error_x = None
        if any(p.x_range for p in pts):
            error_x = {"type": "data", "symmetric": False,
                       "array": [p.x_range[1] - p.x if p.x_range else 0 for p in pts],
                       "arrayminus": [p.x - p.x_range[0] if p.x_range else 0 for p in pts], "thickness": 1}
        fig.add_trace(go.Scatter(
            x=[p.x for p in pts], y=[p.best for p in pts], mode="lines+markers", name=name or "best",
            marker={"color": color, "size": 9}, line={"color": color}, error_x=error_x,
            customdata=[[p.trial_id, p.n_complete, p.group] for p in pts],
            hovertemplate="%{customdata[2]}<br>best %{y} (trial %{customdata[0]} of %{customdata[1]})<extra></extra>"))
        again = [p for p in pts if p.repeats > 1]
        if again:
            fig.add_trace(go.Scatter(
                x=[p.x for p in again], y=[p.mean for p in again], mode="markers",
                name=f"{name + ' ' if name else ''}retrains mean ± std",
                marker={"color": color, "symbol": "diamond-open", "size": 9},
                error_y={"type": "data", "array": [p.std for p in again], "visible": True}))
    xaxis: dict[str, Any] = {"title": info.param, "type": "log" if info.log_x else "linear"}
    if info.categories is not None:
        xaxis = {"title": info.param, "type": "category", "categoryorder": "array",
                 "categoryarray": list(info.categories)}
    fig.update_layout(title=f"Isolation plot: best {info.metric} ({info.mode}) per {info.param}",
                      xaxis=xaxis, yaxis={"title": f"best {info.metric}"}, template="plotly_white")
    return fig
