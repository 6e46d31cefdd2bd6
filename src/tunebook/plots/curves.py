"""Training curves: training loss and the validation objective against the step, for every trial.

The playbook ("Examining the training curves", "Automate generically useful
plots"): look at the curves of "at least the best few trials" of every study
and make them easy to find. The best ``top`` complete trials of each
scientific value (``analysis.best.scientific_groups``) are highlighted in
its colour; the other trials with a curve are drawn faint (a spread of
``OTHERS`` of them in large sweeps), each line thinned to what a screen shows.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from tunebook.analysis.best import ranked, scientific_groups
from tunebook.analysis.checks.curves import train_loss_metric
from tunebook.analysis.curve_index import curve_index
from tunebook.plots import _common, lines

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

TOP = 3
OTHERS = 200  # faint lines at most: beyond, a spread over the ranking

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
    the faint curves first, then the highlighted ones; ``others_shown`` of the
    ``others_total`` trials that are not highlighted have faint lines.
    """

    metrics: tuple[str, ...]
    objective: str
    groups: tuple[str, ...]
    lines: tuple[CurveLine, ...]
    others_shown: int = 0
    others_total: int = 0

    def others_label(self) -> str:
        """The legend entry of the faint lines: how many of the other trials they are."""
        return lines.others_label(self.others_shown, self.others_total)

    def highlighted(self, metric: str | None = None) -> list[CurveLine]:
        return [ln for ln in self.lines if ln.highlighted and (metric is None or ln.metric == metric)]


def get_curves_info(data: "ExperimentData", top: int = TOP, others: int = OTHERS) -> CurvesInfo:
    """The panels' lines: the best ``top`` of each scientific value, and at most ``others`` faint ones.

    The faint lines are all the other trials with a curve, or, beyond
    ``others`` of them, a spread over their ranking (``lines.spread``);
    every line holds at most ``lines.MAX_POINTS`` points (``lines.decimate``).
    """
    curves = data.curves
    index = curve_index(curves)
    metrics = [m for m in (train_loss_metric(curves), data.objective.metric) if m is not None]
    metrics = [m for m in dict.fromkeys(metrics) if m in index.metrics]
    picks: dict[int, tuple[str, int]] = {}
    groups = scientific_groups(data)
    for group in groups:
        for rank, trial_id in enumerate(group.trials["trial_id"].head(top)):
            picks[int(trial_id)] = (group.label, rank)
    trials = data.trials.set_index("trial_id")
    with_curves = [t for t in _ordered(data) if any(index.points(t, m) is not None for m in metrics)]
    background = [t for t in with_curves if t not in picks]
    shown = lines.spread(background, others)
    faint, bright = [], []
    for trial_id in sorted(shown) + sorted(picks):
        group, rank = picks.get(trial_id, (None, None))
        for metric in metrics:
            found = index.points(trial_id, metric)
            if found is None:
                continue
            steps, values = lines.decimate(*found)
            line = CurveLine(trial_id, str(trials.at[trial_id, "study"]), str(trials.at[trial_id, "state"]), metric,
                             tuple(int(s) for s in steps), _common.floats(values), group is not None, group, rank)
            (bright if line.highlighted else faint).append(line)
    bright.sort(key=lambda ln: (-ln.rank, ln.trial_id))  # the best drawn last, on top
    return CurvesInfo(tuple(metrics), data.objective.metric, tuple(g.label for g in groups), tuple(faint + bright),
                      len(shown), len(background))


def _ordered(data: "ExperimentData") -> list[int]:
    """Every trial id: the ranked complete ones best first, then the others (infeasible, failed …) by id."""
    first = [int(t) for t in ranked(data)["trial_id"]]
    seen = set(first)
    return first + sorted(int(t) for t in data.trials["trial_id"] if int(t) not in seen)


def render_curves(info: CurvesInfo):
    """One panel per metric: the faint lines as one grey trace, each highlighted line in its group's colour."""
    fig = _common.make_subplots(rows=1, cols=max(1, len(info.metrics)), subplot_titles=list(info.metrics))
    go = _common.go()
    colors = {g: _common.color(i) for i, g in enumerate(info.groups)}
    for col, metric in enumerate(info.metrics, start=1):
        x, y, ids = lines.joined((ln.trial_id, ln.steps, ln.values) for ln in info.lines
                                 if ln.metric == metric and not ln.highlighted)
        if len(x):
            fig.add_trace(go.Scatter(x=x, y=y, customdata=ids, mode="lines", name=info.others_label(),
                                     line={"color": _common.FAINT_COLOR, "width": 1}, legendgroup="other",
                                     showlegend=col == 1, connectgaps=False,
                                     hovertemplate="trial %{customdata}<br>step %{x}: %{y}<extra></extra>"),
                          row=1, col=col)
    legend_done: set[str] = set()
    for line in info.highlighted():
        col = info.metrics.index(line.metric) + 1
        style = {"color": colors[line.group], "width": 3 if line.rank == 0 else 1.5}
        fig.add_trace(go.Scatter(x=np.asarray(line.steps), y=np.asarray(line.values), mode="lines", line=style,
                                 name=line.group, legendgroup=line.group, showlegend=line.group not in legend_done,
                                 hovertemplate=f"trial {line.trial_id} ({line.state})<br>step %{{x}}: %{{y}}"
                                 "<extra></extra>"), row=1, col=col)
        legend_done.add(line.group)
    for col, metric in enumerate(info.metrics, start=1):
        fig.update_xaxes(title_text="step", row=1, col=col)
        fig.update_yaxes(title_text=metric, row=1, col=col)
    fig.update_layout(title="Training curves (best trials of each scientific value highlighted)",
                      template="plotly_white")
    return fig
