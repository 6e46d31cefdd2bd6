"""Training curves: training loss and the validation objective against the step, for every trial.

The playbook ("Examining the training curves", "Automate generically useful
plots"): look at the curves of "at least the best few trials" of every study
and make them easy to find. The best ``top`` complete trials of each
scientific value (``analysis.best.scientific_groups``) are highlighted in
its colour; the other trials with a curve are drawn faint (a spread of
``OTHERS`` of them in large sweeps), each line thinned to what a screen shows.

Diverged trials do not set the scale. Each panel's y-range spans the finite
values the highlighted curves logged before they diverged (``scale``:
smallest to largest, 5 % margin), on a log axis when those span two decades
or more; anything beyond it (a diverged loss at 1e30, a faint curve far
worse than the best ones) runs off the edge of the panel. Where a curve
diverged (``scale.diverged_at``: its first NaN/inf, or for the training
loss and a ``min`` objective its first value above ``run.divergence.factor``
x its first value) it gets a marker, "diverged at step N".
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from tunebook.analysis.best import ranked, scientific_groups
from tunebook.analysis.checks.curves import train_loss_metric
from tunebook.analysis.curve_index import curve_index
from tunebook.plots import _common, lines, scale

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

TOP = 3
OTHERS = 200  # faint lines at most: beyond, a spread over the ranking
CLUSTER = 0.05  # divergence markers closer than this share of the step span share one label

__all__ = ["CurveLine", "CurvesInfo", "Panel", "drawn_trials", "get_curves_info", "render_curves"]


@dataclasses.dataclass(frozen=True)
class CurveLine:
    """One trial's curve of one metric. ``group`` and ``rank`` (0 = best) are set when highlighted.

    ``name`` is the trial as users know it (``STUDY/NUMBER``); ``diverged_at``
    the step the curve diverged (``scale.diverged_at``), None if it did not.
    """

    trial_id: int
    name: str
    number: int
    study: str
    state: str
    metric: str
    steps: tuple[int, ...]
    values: tuple[float, ...]
    highlighted: bool
    group: str | None = None
    rank: int | None = None
    diverged_at: int | None = None


@dataclasses.dataclass(frozen=True)
class Panel:
    """One metric's axis: ``y_range`` (low, high) in the metric's units, None to let plotly choose."""

    metric: str
    y_range: tuple[float, float] | None
    log_y: bool
    lower_is_better: bool


@dataclasses.dataclass(frozen=True)
class CurvesInfo:
    """``metrics``: the panels, training loss first (when logged) then the objective's metric.

    ``groups`` are the scientific values in order (their colours); ``lines``
    the faint curves first, then the highlighted ones; ``others_shown`` of the
    ``others_total`` trials that are not highlighted have faint lines;
    ``panels`` the axis of each metric, in ``metrics`` order.
    """

    metrics: tuple[str, ...]
    objective: str
    groups: tuple[str, ...]
    lines: tuple[CurveLine, ...]
    others_shown: int = 0
    others_total: int = 0
    panels: tuple[Panel, ...] = ()

    def others_label(self) -> str:
        """The legend entry of the faint lines: how many of the other trials they are."""
        return lines.others_label(self.others_shown, self.others_total)

    def highlighted(self, metric: str | None = None) -> list[CurveLine]:
        return [ln for ln in self.lines if ln.highlighted and (metric is None or ln.metric == metric)]

    def diverged(self, metric: str) -> list[CurveLine]:
        return [ln for ln in self.lines if ln.metric == metric and ln.diverged_at is not None]


def get_curves_info(data: "ExperimentData", top: int = TOP, others: int = OTHERS) -> CurvesInfo:
    """The panels' lines: the best ``top`` of each scientific value, and at most ``others`` faint ones.

    The faint lines are all the other trials with a curve, or, beyond
    ``others`` of them, a spread over their ranking (``lines.spread``);
    every line holds at most ``lines.MAX_POINTS`` points (``lines.decimate``).
    """
    index = curve_index(data.curves)
    metrics = [m for m in (train_loss_metric(data.curves), data.objective.metric) if m is not None]
    metrics = [m for m in dict.fromkeys(metrics) if m in index.metrics]
    factors = _explosion_factors(data, metrics)
    groups = scientific_groups(data)
    picks, shown, background = _chosen(data, metrics, top, others)
    about = {int(t): (int(n), str(s), str(st)) for t, n, s, st in  # one lookup per trial, not three .at calls
             zip(data.trials["trial_id"], data.trials["number"], data.trials["study"], data.trials["state"])}
    faint, bright = [], []
    for trial_id in sorted(shown) + sorted(picks):
        group, rank = picks.get(trial_id, (None, None))
        for metric in metrics:
            found = index.points(trial_id, metric)
            if found is None:
                continue
            steps, values = lines.decimate(*found)
            number, study, state = about[trial_id]
            line = CurveLine(trial_id, data.trial_name(trial_id), number, study, state, metric,
                             tuple(np.asarray(steps).astype(np.int64).tolist()),
                             _common.floats(values), group is not None, group, rank,
                             scale.diverged_at(*found, factors[metric]))
            (bright if line.highlighted else faint).append(line)
    bright.sort(key=lambda ln: (-ln.rank, ln.trial_id))  # the best drawn last, on top
    drawn = faint + bright
    panels = tuple(_panel(m, drawn, m != data.objective.metric or data.objective.mode == "min") for m in metrics)
    return CurvesInfo(tuple(metrics), data.objective.metric, tuple(g.label for g in groups), tuple(drawn),
                      len(shown), len(background), panels)


def drawn_trials(data: "ExperimentData", top: int = TOP, others: int = OTHERS) -> set[int]:
    """The trials whose curves ``get_curves_info`` draws (highlighted and faint), from the trials frame and which
    trials have a curve of the objective or the training loss."""
    index = curve_index(data.curves)
    metrics = [m for m in (train_loss_metric(data.curves), data.objective.metric) if m is not None]
    picks, shown, _ = _chosen(data, [m for m in dict.fromkeys(metrics) if m in index.metrics], top, others)
    return set(picks) | set(shown)


def _chosen(data: "ExperimentData", metrics: list[str], top: int,
            others: int) -> tuple[dict[int, tuple[str, int]], list[int], list[int]]:
    """(highlighted trial -> (its scientific value, its rank there), the faint trials shown, all faint candidates)."""
    index = curve_index(data.curves)
    picks: dict[int, tuple[str, int]] = {}
    for group in scientific_groups(data):
        for rank, trial_id in enumerate(group.trials["trial_id"].head(top)):
            picks[int(trial_id)] = (group.label, rank)
    with_curves = [t for t in _ordered(data) if any(index.points(t, m) is not None for m in metrics)]
    background = [t for t in with_curves if t not in picks]
    return picks, lines.spread(background, others), background


def _explosion_factors(data: "ExperimentData", metrics: list[str]) -> dict[str, float | None]:
    """Per panel, the factor above which a curve counts as exploded: the training loss and a ``min`` objective."""
    factor = scale.divergence_factor(data.experiment)
    objective_explodes = data.objective.mode == "min"
    return {m: factor if m != data.objective.metric or objective_explodes else None for m in metrics}


def _panel(metric: str, drawn: list[CurveLine], lower_is_better: bool) -> Panel:
    """The y-range of the highlighted curves before they diverged (of the faint ones when none is highlighted)."""
    mine = [ln for ln in drawn if ln.metric == metric]
    chosen = [ln for ln in mine if ln.highlighted] or mine
    found = scale.value_range(_before_divergence(ln) for ln in chosen)
    if found is None:
        return Panel(metric, None, False, lower_is_better)
    log = scale.log_is_better(*found)
    return Panel(metric, scale.padded(*found, log=log), log, lower_is_better)


def _before_divergence(line: CurveLine) -> np.ndarray:
    values = np.asarray(line.values, dtype=float)
    if line.diverged_at is None:
        return values
    return values[np.asarray(line.steps) < line.diverged_at]


def _ordered(data: "ExperimentData") -> list[int]:
    """Every search trial's id (retrains are repeats, not search points): the ranked complete ones best first,
    then the others (infeasible, failed …) by id."""
    first = [int(t) for t in ranked(data)["trial_id"]]
    seen = set(first)
    return first + sorted(int(t) for t in data.search_trials["trial_id"] if int(t) not in seen)


def render_curves(info: CurvesInfo):
    """One panel per metric: the faint lines as one grey trace, each highlighted line in its group's colour.

    Each panel's axis is ``info.panels``'s; divergence markers sit where a
    curve diverged, on the panel's edge when the value there is off the axis.
    """
    fig = _common.make_subplots(rows=1, cols=max(1, len(info.metrics)), horizontal_spacing=0.1)
    _add_faint(fig, info)
    _add_highlighted(fig, info)
    for col, panel in enumerate(info.panels, start=1):
        last = max((ln.steps[-1] for ln in info.lines if ln.metric == panel.metric and ln.steps), default=1)
        first = not any(info.diverged(p.metric) for p in info.panels[:col - 1])
        _add_divergence_markers(fig, info.diverged(panel.metric), panel, last, col, first)
        yaxis = {"title_text": panel.metric, "type": "log" if panel.log_y else "linear"}
        if panel.y_range is not None:
            yaxis["range"] = _axis_range(panel.y_range, panel.log_y)
        fig.update_xaxes(title_text="step", row=1, col=col)
        fig.update_yaxes(**yaxis, row=1, col=col)
    fig.update_layout(title="Training curves (best trials of each scientific value highlighted)")
    return fig


def _add_faint(fig, info: CurvesInfo) -> None:
    """The lines that are not highlighted: one grey trace per panel and study, one legend entry."""
    go = _common.go()
    legend = True
    for col, metric in enumerate(info.metrics, start=1):
        faint = [ln for ln in info.lines if ln.metric == metric and not ln.highlighted]
        for study in dict.fromkeys(ln.study for ln in faint):
            x, y, numbers = lines.joined((ln.number, ln.steps, ln.values) for ln in faint if ln.study == study)
            fig.add_trace(go.Scatter(x=x, y=y, customdata=numbers, mode="lines", name=info.others_label(),
                                     line={"color": _common.FAINT_COLOR, "width": 1}, legendgroup="other",
                                     legendrank=100, showlegend=legend, connectgaps=False,
                                     hovertemplate=_common.numbered(study, "%{customdata}")
                                     + "<br>step %{x}: %{y}<extra></extra>"), row=1, col=col)
            legend = False


def _add_highlighted(fig, info: CurvesInfo) -> None:
    """Each highlighted line in its group's colour, the best of each group thicker; one legend entry per group."""
    go = _common.go()
    colors = {g: _common.color(i) for i, g in enumerate(info.groups)}
    legend_done: set[str] = set()
    for line in info.highlighted():
        col = info.metrics.index(line.metric) + 1
        style = {"color": colors[line.group], "width": 3 if line.rank == 0 else 1.5}
        fig.add_trace(go.Scatter(x=np.asarray(line.steps), y=np.asarray(line.values), mode="lines", line=style,
                                 name=line.group, legendgroup=line.group, showlegend=line.group not in legend_done,
                                 legendrank=10 + info.groups.index(line.group),
                                 hovertemplate=f"{line.name} ({line.state})<br>step %{{x}}: %{{y}}"
                                 "<extra></extra>"), row=1, col=col)
        legend_done.add(line.group)


def _add_divergence_markers(fig, diverged: list[CurveLine], panel: Panel, last: int, col: int,
                            first: bool) -> None:
    """A red x where each curve diverged (at its value there when on the axis, else on the worse edge), labelled.

    Markers closer than ``CLUSTER`` of the panel's last step share one label
    ("3 diverged at steps 2-6"), so labels never pile up; each marker's
    hover names its trial.
    """
    if not diverged:
        return
    go = _common.go()
    diverged = sorted(diverged, key=lambda ln: ln.diverged_at)
    steps = [ln.diverged_at for ln in diverged]
    fig.add_trace(go.Scatter(
        x=steps, y=[_marker_y(ln, panel) for ln in diverged], mode="markers", cliponaxis=False,
        marker={"symbol": "x", "color": _common.INFEASIBLE_COLOR, "size": 10}, name="diverged",
        legendgroup="diverged", legendrank=1000, showlegend=first, customdata=[ln.name for ln in diverged],
        hovertemplate="%{customdata} diverged at step %{x}<extra></extra>"), row=1, col=col)
    for cluster in _clusters(steps, CLUSTER * max(last, 1)):
        low, high = cluster[0], cluster[-1]
        right = high < last / 2  # the label on the side with room
        y = _marker_y(diverged[steps.index(low)], panel)
        y = float(np.log10(y)) if panel.log_y and y > 0 else y  # plotly places annotations in log10 units there
        fig.add_annotation(x=high if right else low, y=y, text=_label(cluster), showarrow=False,
                           xanchor="left" if right else "right", xshift=8 if right else -8,
                           yshift=-12 if panel.lower_is_better else 12,
                           font={"color": _common.INFEASIBLE_COLOR, "size": 11}, row=1, col=col)


def _label(cluster: list[int]) -> str:
    """``diverged at step N``, or for several ``3 diverged at step N`` / ``3 diverged at steps N-M``."""
    low, high = cluster[0], cluster[-1]
    if len(cluster) == 1:
        return f"diverged at step {low}"
    return f"{len(cluster)} diverged at step {low}" if low == high else f"{len(cluster)} diverged at steps {low}-{high}"


def _clusters(steps: list[int], gap: float) -> list[list[int]]:
    """Sorted ``steps`` split where two neighbours are more than ``gap`` apart."""
    out: list[list[int]] = []
    for step in steps:
        if out and step - out[-1][-1] <= gap:
            out[-1].append(step)
        else:
            out.append([step])
    return out


def _marker_y(line: CurveLine, panel: Panel) -> float:
    at = line.steps.index(line.diverged_at) if line.diverged_at in line.steps else None
    value = line.values[at] if at is not None else float("nan")
    if panel.y_range is None:
        return value if np.isfinite(value) else 0.0
    low, high = panel.y_range
    if np.isfinite(value) and low <= value <= high:
        return value
    return high if panel.lower_is_better else low


def _axis_range(y_range: tuple[float, float], log: bool) -> list[float]:
    """plotly's range: data units on a linear axis, log10 of them on a log one."""
    return [float(np.log10(v)) for v in y_range] if log else list(y_range)
