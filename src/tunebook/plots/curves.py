"""Training curves: training loss and the validation objective against the step, for every trial.

The playbook ("Examining the training curves", "Automate generically useful
plots"): look at the curves of "at least the best few trials" of every study
and make them easy to find. The best ``top`` complete trials of each
scientific value (``analysis.best.scientific_groups``) are highlighted in
its colour; every other trial with a curve is drawn faint.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from tunebook.analysis.best import scientific_groups
from tunebook.analysis.checks.curves import train_loss_metric
from tunebook.plots import _common

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

TOP = 3

__all__ = ["CurveLine", "CurvesInfo", "get_curves_info", "render_curves"]


@dataclasses.dataclass(frozen=True)
class CurveLine:
    """One trial's curve of one metric. ``group`` and ``rank`` (0 = best) are set when highlighted."""

    trial_id: int
    study: str
    state: str
    metric: str
    steps: tuple[int, ...]
    values: tuple[float, ...]
    highlighted: bool
    group: str | None = None
    rank: int | None = None


@dataclasses.dataclass(frozen=True)
class CurvesInfo:
    """``metrics``: the panels, training loss first (when logged) then the objective's metric.

    ``groups`` are the scientific values in order (their colours); ``lines``
    the faint curves first, then the highlighted ones.
    """

    metrics: tuple[str, ...]
    objective: str
    groups: tuple[str, ...]
    lines: tuple[CurveLine, ...]

    def highlighted(self, metric: str | None = None) -> list[CurveLine]:
        return [ln for ln in self.lines if ln.highlighted and (metric is None or ln.metric == metric)]


def get_curves_info(data: "ExperimentData", top: int = TOP) -> CurvesInfo:
    curves = data.curves
    metrics = [m for m in (train_loss_metric(curves), data.objective.metric) if m is not None]
    metrics = [m for m in dict.fromkeys(metrics) if (curves["metric"] == m).any()]
    picks: dict[int, tuple[str, int]] = {}
    groups = scientific_groups(data)
    for group in groups:
        for rank, trial_id in enumerate(group.trials["trial_id"].head(top)):
            picks[int(trial_id)] = (group.label, rank)
    trials = data.trials.set_index("trial_id")
    faint, bright = [], []
    wanted = curves[curves["metric"].isin(metrics)]
    for (trial_id, metric), points in wanted.groupby(["trial_id", "metric"], sort=True):
        trial_id = int(trial_id)
        if trial_id not in trials.index:
            continue
        points = points.sort_values("step")
        group, rank = picks.get(trial_id, (None, None))
        line = CurveLine(trial_id, str(trials.at[trial_id, "study"]), str(trials.at[trial_id, "state"]), metric,
                         tuple(int(s) for s in points["step"]), _common.floats(points["value"]),
                         group is not None, group, rank)
        (bright if line.highlighted else faint).append(line)
    bright.sort(key=lambda ln: (-ln.rank, ln.trial_id))  # the best drawn last, on top
    return CurvesInfo(tuple(metrics), data.objective.metric, tuple(g.label for g in groups), tuple(faint + bright))


def render_curves(info: CurvesInfo):
    """One panel per metric, one trace per line: faint grey, or the group's colour (the best thickest)."""
    fig = _common.make_subplots(rows=1, cols=max(1, len(info.metrics)), subplot_titles=list(info.metrics))
    go = _common.go()
    colors = {g: _common.color(i) for i, g in enumerate(info.groups)}
    legend_done: set[str] = set()
    for line in info.lines:
        col = info.metrics.index(line.metric) + 1
        if line.highlighted:
            style = {"color": colors[line.group], "width": 3 if line.rank == 0 else 1.5}
            show = line.group not in legend_done
            legend_done.add(line.group)
            name, group = line.group, line.group
        else:
            style, show, name, group = {"color": _common.FAINT_COLOR, "width": 1}, False, "other trials", "other"
        fig.add_trace(go.Scatter(x=list(line.steps), y=list(line.values), mode="lines", line=style, name=name,
                                 legendgroup=group, showlegend=show,
                                 hovertemplate=f"trial {line.trial_id} ({line.state})<br>step %{{x}}: %{{y}}"
                                 "<extra></extra>"), row=1, col=col)
    for col, metric in enumerate(info.metrics, start=1):
        fig.update_xaxes(title_text="step", row=1, col=col)
        fig.update_yaxes(title_text=metric, row=1, col=col)
    fig.update_layout(title="Training curves (best trials of each scientific value highlighted)",
                      template="plotly_white")
    return fig
