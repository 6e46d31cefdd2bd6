"""Gradient norms: their curves and histogram, with the playbook's p90 clipping threshold.

The playbook ("Gradient clipping"): log the unclipped gradient norm and
"choose a gradient clipping threshold based on the 90th percentile of
gradient norms". The threshold is ``clipping_threshold`` of the norms pooled
over the complete trials (``examined_trials``), as ``check_grad_norm``
computes it; the best trial of each scientific value is highlighted. None when no complete trial logged
a ``grad_norm`` (or ``train/grad_norm``) curve.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from tunebook.analysis.checks.curves import best_trials, examined_trials, pick_metric, trial_curves
from tunebook.analysis.checks.grad_norm import CLIP_QUANTILE, GRAD_NORM_METRICS, clipping_threshold
from tunebook.plots import _common, lines
from tunebook.plots.curves import OTHERS

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

__all__ = ["GradNormInfo", "GradNormLine", "get_grad_norm_info", "render_grad_norm"]

HISTOGRAM_BINS = 60


@dataclasses.dataclass(frozen=True)
class GradNormLine:
    trial_id: int
    steps: tuple[int, ...]
    values: tuple[float, ...]
    best_of: str | None  # the scientific value this trial is the best of, if any


@dataclasses.dataclass(frozen=True)
class GradNormInfo:
    """The histogram of every finite norm pooled (``counts`` per bin between ``edges``) and the lines.

    ``share_above``: the share of the pooled norms above ``threshold``;
    ``lines``: faint first (a spread of ``OTHERS`` at most), best trials last,
    each thinned to ``lines.MAX_POINTS`` points.
    """

    metric: str
    quantile: float
    threshold: float
    share_above: float
    counts: tuple[int, ...]
    edges: tuple[float, ...]
    lines: tuple[GradNormLine, ...]
    others_shown: int = 0
    others_total: int = 0


def get_grad_norm_info(data: "ExperimentData", others: int = OTHERS) -> GradNormInfo | None:
    metric = pick_metric(data.curves, GRAD_NORM_METRICS)
    if metric is None:
        return None
    curves = trial_curves(data.curves, metric, examined_trials(data))
    if not curves:
        return None
    norms = np.concatenate([c.values for c in curves.values()])
    threshold = clipping_threshold(norms)
    counts, edges = np.histogram(norms, bins=HISTOGRAM_BINS)
    best = {tid: label for label, tid in best_trials(data).items() if tid in curves}
    background = [tid for tid in curves if tid not in best]
    shown = lines.spread(background, others) + sorted(best)
    drawn = [GradNormLine(tid, tuple(int(s) for s in steps), _common.floats(values), best.get(tid))
             for tid in shown for steps, values in [lines.decimate(curves[tid].steps, curves[tid].values)]]
    drawn.sort(key=lambda ln: (ln.best_of is not None, ln.trial_id))
    return GradNormInfo(metric, CLIP_QUANTILE, threshold, float(np.mean(norms > threshold)),
                        tuple(int(c) for c in counts), _common.floats(edges), tuple(drawn),
                        len(shown) - len(best), len(background))


def render_grad_norm(info: GradNormInfo):
    """Left: norm vs step (the faint lines as one trace); right: histogram of all norms; the threshold on both."""
    fig = _common.make_subplots(rows=1, cols=2, subplot_titles=[f"{info.metric} vs step", f"{info.metric} histogram"])
    go = _common.go()
    x, y, ids = lines.joined((ln.trial_id, ln.steps, ln.values) for ln in info.lines if ln.best_of is None)
    if len(x):
        fig.add_trace(go.Scatter(x=x, y=y, customdata=ids, mode="lines", showlegend=False,
                                 name=lines.others_label(info.others_shown, info.others_total),
                                 line={"color": _common.FAINT_COLOR, "width": 1},
                                 hovertemplate="trial %{customdata}<br>step %{x}: %{y}<extra></extra>"), row=1, col=1)
    best = list(dict.fromkeys(ln.best_of for ln in info.lines if ln.best_of is not None))
    for line in info.lines:
        if line.best_of is None:
            continue
        fig.add_trace(go.Scatter(x=np.asarray(line.steps), y=np.asarray(line.values), mode="lines", name=line.best_of,
                                 line={"color": _common.color(best.index(line.best_of)), "width": 2},
                                 hovertemplate=f"trial {line.trial_id}<br>step %{{x}}: %{{y}}<extra></extra>"),
                      row=1, col=1)
    edges = np.asarray(info.edges)
    fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=np.asarray(info.counts), width=np.diff(edges),
                         name="all norms", marker={"color": "#7f7f7f"}, showlegend=False), row=1, col=2)
    label = f"p{info.quantile * 100:.0f} = {info.threshold:.3g}"
    fig.add_hline(y=info.threshold, line={"color": "red", "dash": "dash"}, row=1, col=1)
    fig.add_vline(x=info.threshold, line={"color": "red", "dash": "dash"}, annotation_text=label, row=1, col=2)
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_yaxes(title_text=info.metric, type="log", row=1, col=1)
    fig.update_xaxes(title_text=info.metric, row=1, col=2)
    fig.update_yaxes(title_text="steps", row=1, col=2)
    fig.update_layout(title=f"Gradient norms (clipping threshold {label})", template="plotly_white", bargap=0)
    return fig
