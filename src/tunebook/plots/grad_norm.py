"""Gradient norms: their curves and histogram, with the playbook's p90 clipping threshold.

The playbook ("Gradient clipping"): log the unclipped gradient norm and
"choose a gradient clipping threshold based on the 90th percentile of
gradient norms". The threshold is ``clipping_threshold`` of the norms pooled
over the complete trials, as ``check_grad_norm`` computes it; the best trial
of each scientific value is highlighted. None when no complete trial logged
a ``grad_norm`` (or ``train/grad_norm``) curve.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from tunebook.analysis.checks.curves import best_trials, complete_trials, pick_metric, trial_curves
from tunebook.analysis.checks.grad_norm import CLIP_QUANTILE, GRAD_NORM_METRICS, clipping_threshold
from tunebook.plots import _common

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

__all__ = ["GradNormInfo", "GradNormLine", "get_grad_norm_info", "render_grad_norm"]


@dataclasses.dataclass(frozen=True)
class GradNormLine:
    trial_id: int
    steps: tuple[int, ...]
    values: tuple[float, ...]
    best_of: str | None  # the scientific value this trial is the best of, if any


@dataclasses.dataclass(frozen=True)
class GradNormInfo:
    """``norms``: every finite norm pooled (the histogram); ``lines`` faint first, best trials last."""

    metric: str
    quantile: float
    threshold: float
    norms: tuple[float, ...]
    lines: tuple[GradNormLine, ...]

    @property
    def share_above(self) -> float:
        return float(np.mean(np.asarray(self.norms) > self.threshold))


def get_grad_norm_info(data: "ExperimentData") -> GradNormInfo | None:
    metric = pick_metric(data.curves, GRAD_NORM_METRICS)
    if metric is None:
        return None
    curves = trial_curves(data.curves, metric, complete_trials(data)["trial_id"])
    if not curves:
        return None
    norms = np.concatenate([c.values for c in curves.values()])
    best = {tid: label for label, tid in best_trials(data).items()}
    lines = [GradNormLine(tid, tuple(int(s) for s in c.steps), _common.floats(c.values), best.get(tid))
             for tid, c in curves.items()]
    lines.sort(key=lambda ln: (ln.best_of is not None, ln.trial_id))
    return GradNormInfo(metric, CLIP_QUANTILE, clipping_threshold(norms), _common.floats(norms), tuple(lines))


def render_grad_norm(info: GradNormInfo):
    """Left: norm vs step (one trace per trial); right: histogram of all norms; the threshold on both."""
    fig = _common.make_subplots(rows=1, cols=2, subplot_titles=[f"{info.metric} vs step", f"{info.metric} histogram"])
    go = _common.go()
    best = list(dict.fromkeys(ln.best_of for ln in info.lines if ln.best_of is not None))
    for line in info.lines:
        if line.best_of is None:
            style, name, show = {"color": _common.FAINT_COLOR, "width": 1}, "other trials", False
        else:
            style, name, show = {"color": _common.color(best.index(line.best_of)), "width": 2}, line.best_of, True
        fig.add_trace(go.Scatter(x=list(line.steps), y=list(line.values), mode="lines", line=style, name=name,
                                 showlegend=show, hovertemplate=f"trial {line.trial_id}<br>step %{{x}}: %{{y}}"
                                 "<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Histogram(x=list(info.norms), name="all norms", marker={"color": "#7f7f7f"}, showlegend=False),
                  row=1, col=2)
    label = f"p{info.quantile * 100:.0f} = {info.threshold:.3g}"
    fig.add_hline(y=info.threshold, line={"color": "red", "dash": "dash"}, row=1, col=1)
    fig.add_vline(x=info.threshold, line={"color": "red", "dash": "dash"}, annotation_text=label, row=1, col=2)
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_yaxes(title_text=info.metric, type="log", row=1, col=1)
    fig.update_xaxes(title_text=info.metric, row=1, col=2)
    fig.update_yaxes(title_text="steps", row=1, col=2)
    fig.update_layout(title=f"Gradient norms (clipping threshold {label})", template="plotly_white")
    return fig
