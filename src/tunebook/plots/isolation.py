"""Isolation plots: the best objective for each value of a scientific hyperparameter.

The playbook ("Detecting whether a change is useful with isolation plots"):
each point is the *best* trial over the nuisance hyperparameters, so the
scientific values compare apples to apples. The groups are
``analysis.best.scientific_groups``: one per study for per-value studies,
quantile buckets of a continuous scientific value in a joint study ("bucketing
the x-axis values ... and taking the best trial in each vertical slice").

A best is partly luck. Each point carries its bootstrap spread, the one the
checklist's ``sampled_enough`` judges gaps by: the quartiles (and median)
of the best of n/2 trials drawn with replacement from the value's n
complete trials (``bootstrap_best_of_k``, its fixed seed). Values with fewer
than ``MIN_TRIALS`` complete trials get none: too few trials to tell.
When the best trial's configuration was trained more than once (its
repeats, ``analysis.repeats``: the same params with another seed, in any
study, retrain studies included), a second marker shows the repeats' *mean*
with an error bar of ± 1 standard deviation (ddof 1): trial variance, beside
the bootstrap spread (study variance). Repeats that diverged or failed have
no value; the hover names them with the repeats that count.

The y-axis does not exaggerate: it spans every best, spread and repeats'
mean ± std, and at least ``NOISE_SPANS`` (4) times the largest spread,
centred on what it shows, plus a 10 % margin. The checklist calls a gap of
up to one spread untrustworthy and up to two comparable, so such a gap
fills at most a quarter (a half) of the height and never looks large.
Without any spread (every value has fewer than ``MIN_TRIALS`` complete
trials) nothing bounds the noise: the axis spans the points and the title
says there are too few trials to tell. Categorical values are points, with no line between them; buckets of a
range are joined by a thin line, since their x is ordered.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from tunebook.analysis.best import BUCKETS, scientific_groups
from tunebook.analysis.checks.sampled_enough import MIN_TRIALS, bootstrap_best_of_k
from tunebook.analysis.checks.trial_variance import seed_runs
from tunebook.core.domains import Choice, Range
from tunebook.core.space import format_value
from tunebook.plots import _common

if TYPE_CHECKING:
    import pandas as pd

    from tunebook.analysis.data import ExperimentData

NOISE_SPANS = 4.0  # the y-axis is at least this many spreads tall
MARGIN = 0.1
SPREAD_SHIFT = 0.12  # a choice's spread bar sits this share of a slot right of its best

__all__ = ["IsolationInfo", "IsolationPoint", "get_isolation_info", "get_isolation_infos", "render_isolation"]


@dataclasses.dataclass(frozen=True)
class IsolationPoint:
    """The best trial of one scientific value.

    ``x`` is the value (formatted for a choice); a bucket of a range has
    ``x_range`` (low, high seen) and ``x`` its middle (geometric on a log
    scale). ``series`` names the other scientific values the group holds.
    ``repeats`` counts the best trial's repeats with a finite objective
    (itself included; 1 without any), named in ``repeat_names``;
    ``mean``/``std`` are theirs (std with ddof=1, None for a single run);
    ``repeats_lost`` names repeats without a value ("STUDY/NUMBER (state)").
    ``name`` is the best trial's (``STUDY/NUMBER``);
    ``spread`` the (q1, median, q3) of the bootstrapped best of ``spread_k``
    (n/2) trials, None with fewer than ``MIN_TRIALS`` complete trials.
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
    name: str = ""
    spread: tuple[float, float, float] | None = None
    spread_k: int = 0
    repeat_names: tuple[str, ...] = ()
    repeats_lost: tuple[str, ...] = ()

    @property
    def spread_size(self) -> float | None:
        """The interquartile range of the bootstrapped best of n/2: how far luck moves this best."""
        return None if self.spread is None else self.spread[2] - self.spread[0]


@dataclasses.dataclass(frozen=True)
class IsolationInfo:
    """``y_range``: the y-axis (low, high) by the rule above; None without points."""

    param: str
    metric: str
    mode: str
    log_x: bool
    categories: tuple[str, ...] | None
    points: tuple[IsolationPoint, ...]
    y_range: tuple[float, float] | None = None

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
        runs = seed_runs(data, group)
        values = group.trials["objective"].to_numpy(dtype=float)
        points.append(IsolationPoint(
            group=group.label, series=others, x=x, x_range=x_range, best=float(best["objective"]),
            trial_id=int(best["trial_id"]), n_complete=len(group.trials), repeats=runs.n,
            mean=float(np.mean(runs.values)), std=float(np.std(runs.values, ddof=1)) if runs.n > 1 else None,
            name=data.trial_name(int(best["trial_id"])), spread=_spread(values, data.objective.mode),
            spread_k=max(1, len(values) // 2), repeat_names=runs.names, repeats_lost=runs.lost,
        ))
    if not is_choice:
        points.sort(key=lambda p: (p.series, p.x))
    return IsolationInfo(param, data.objective.metric, data.objective.mode, log_x,
                         tuple(format_value(v) for v in domain.values) if is_choice else None, tuple(points),
                         _y_range(points))


def _spread(values: np.ndarray, mode: str) -> tuple[float, float, float] | None:
    """(q1, median, q3) of the bootstrapped best of n/2 of ``values``, as ``sampled_enough`` judges; None if too few."""
    if len(values) < MIN_TRIALS:
        return None
    boot = bootstrap_best_of_k(values, mode, budgets=(max(1, len(values) // 2),))
    q1, median, q3 = (float(boot.quantile(q)[0]) for q in (0.25, 0.5, 0.75))
    return q1, median, q3


def _y_range(points: list[IsolationPoint]) -> tuple[float, float] | None:
    """Every best, spread and mean ± std, at least ``NOISE_SPANS`` spreads tall, plus ``MARGIN`` each side."""
    shown = [p.best for p in points] + [v for p in points if p.spread for v in p.spread]
    shown += [p.mean + sign * p.std for p in points if p.std is not None for sign in (-1, 1)]
    shown = [v for v in shown if math.isfinite(v)]
    if not shown:
        return None
    low, high = min(shown), max(shown)
    noise = max((p.spread_size for p in points if p.spread_size is not None), default=0.0)
    if high - low < NOISE_SPANS * noise:
        middle, half = (low + high) / 2, NOISE_SPANS * noise / 2
        low, high = middle - half, middle + half
    pad = MARGIN * (high - low) or MARGIN * abs(high) or 0.05
    return low - pad, high + pad


def _label(value: Any) -> str:
    return f"[{value[0]:.3g}, {value[1]:.3g}]" if isinstance(value, list) else format_value(value)


def render_isolation(info: IsolationInfo):
    """Per series: the bests as points (a thin line only between buckets of a range), each with its spread bar.

    The spread (bootstrapped best of n/2: quartiles, a hollow marker at the
    median) sits just right of a choice's best; the repeats' mean ± std just left.
    """
    go = _common.go()
    fig = _common.figure()
    series = list(dict.fromkeys(p.series for p in info.points))
    for i, name in enumerate(series):
        pts = [p for p in info.points if p.series == name]
        color = _common.color(i)
        xs = [_position(info, p) for p in pts]
        fig.add_trace(go.Scatter(
            x=xs, y=[p.best for p in pts], mode="markers" if info.categories is not None else "lines+markers",
            name=f"{name} best" if name else "best", marker={"color": color, "size": 11}, line={"color": color,
                                                                                              "width": 1},
            error_x=_bucket_widths(pts), customdata=[[p.name, p.n_complete, p.group] for p in pts],
            hovertemplate="%{customdata[2]}<br>best %{y:.4g}: %{customdata[0]} (best of %{customdata[1]})"
                          "<extra></extra>"))
        _add_spreads(fig, info, pts, color, name)
        _add_repeats(fig, info, pts, color, name)
    title = f"Isolation plot: best {info.metric} ({info.mode}) per {info.param}"
    if info.points and all(p.spread is None for p in info.points):
        title += f" — too few trials to tell the spread (< {MIN_TRIALS} per value)"
    fig.update_layout(title=title,
                      xaxis=_xaxis(info), yaxis={"title": f"best {info.metric}", "range": info.y_range},
                      legend={"orientation": "h", "y": -0.25})
    return fig


def _add_spreads(fig, info: IsolationInfo, pts: list[IsolationPoint], color: str, name: str) -> None:
    """The bootstrap spread of each best that has one: a bar over its quartiles, a hollow marker at the median."""
    spread = [p for p in pts if p.spread is not None]
    if not spread:
        return
    go = _common.go()
    shift = SPREAD_SHIFT if info.categories is not None else 0.0
    fig.add_trace(go.Scatter(
        x=[_position(info, p) + shift for p in spread], y=[p.spread[1] for p in spread], mode="markers",
        name=f"{name + ': ' if name else ''}best of n/2 trials, bootstrapped (median, quartiles)",
        marker={"color": color, "symbol": "circle-open", "size": 8},
        error_y={"type": "data", "symmetric": False, "array": [p.spread[2] - p.spread[1] for p in spread],
                 "arrayminus": [p.spread[1] - p.spread[0] for p in spread], "thickness": 2, "width": 6},
        customdata=[[p.group, p.spread_k, p.n_complete, p.spread[0], p.spread[2]] for p in spread],
        hovertemplate="%{customdata[0]}: best of %{customdata[1]} of its %{customdata[2]} trials, bootstrapped"
                      "<br>median %{y:.4g}, quartiles %{customdata[3]:.4g} to %{customdata[4]:.4g}<extra></extra>"))


def _add_repeats(fig, info: IsolationInfo, pts: list[IsolationPoint], color: str, name: str) -> None:
    """Trial variance of each best with repeats: a diamond at their mean, a bar of ± 1 std; hover names them."""
    again = [p for p in pts if p.repeats > 1]
    if not again:
        return
    go = _common.go()
    shift = -SPREAD_SHIFT if info.categories is not None else 0.0
    seeds = sorted({p.repeats for p in again})
    counts = f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}–{seeds[-1]}"
    fig.add_trace(go.Scatter(
        x=[_position(info, p) + shift for p in again], y=[p.mean for p in again], mode="markers",
        name=f"{name + ': ' if name else ''}trial variance, {counts} seeds (mean ± 1 std)",
        marker={"color": color, "symbol": "diamond-open", "size": 10},
        error_y={"type": "data", "array": [p.std for p in again], "visible": True, "thickness": 2, "width": 6},
        customdata=[[p.group, p.repeats, p.std, _repeat_words(p)] for p in again],
        hovertemplate="%{customdata[0]}: the best trial's configuration over %{customdata[1]} seeds<br>"
                      "mean %{y:.4g} ± %{customdata[2]:.3g} (1 std)<br>%{customdata[3]}<extra></extra>"))


def _repeat_words(point: IsolationPoint, shown: int = 6) -> str:
    """The repeats by name (the first ``shown``), then those without a value."""
    names = ", ".join(point.repeat_names[:shown]) + (f" and {len(point.repeat_names) - shown} more"
                                                     if len(point.repeat_names) > shown else "")
    lost = f"<br>no value: {', '.join(point.repeats_lost)}" if point.repeats_lost else ""
    return f"trials {names}{lost}"


def _position(info: IsolationInfo, point: IsolationPoint) -> Any:
    """A choice's value at its slot 0, 1, 2 ... (so the spread can sit beside it); a number as is."""
    if info.categories is None:
        return point.x
    return float(info.categories.index(point.x)) if point.x in info.categories else float(len(info.categories))


def _bucket_widths(pts: list[IsolationPoint]) -> dict[str, Any] | None:
    if not any(p.x_range for p in pts):
        return None
    return {"type": "data", "symmetric": False, "array": [p.x_range[1] - p.x if p.x_range else 0 for p in pts],
            "arrayminus": [p.x - p.x_range[0] if p.x_range else 0 for p in pts], "thickness": 1}


def _xaxis(info: IsolationInfo) -> dict[str, Any]:
    if info.categories is not None:
        return {"title": info.param, "tickvals": list(range(len(info.categories))),
                "ticktext": list(info.categories), "range": [-0.5, len(info.categories) - 0.5],
                "showgrid": False, "zeroline": False}
    return {"title": info.param, "type": "log" if info.log_x else "linear"}
