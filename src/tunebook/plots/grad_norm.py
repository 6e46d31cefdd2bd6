"""Gradient norms: their curves and histogram, with the playbook's p90 clipping threshold.

The playbook ("Gradient clipping"): log the unclipped gradient norm and
"choose a gradient clipping threshold based on the 90th percentile of
gradient norms". The threshold is ``clipping_threshold`` of the norms pooled
over the complete trials (``examined_trials``), as ``check_grad_norm``
computes it; the best trial of each scientific value is highlighted. None when no complete trial logged
a ``grad_norm`` (or ``train/grad_norm``) curve.

A few exploding norms (1e30 in a run that recovered) must not squash the
picture: the histogram's bins and the lines' y-axis span every pooled norm
except outliers, norms further beyond the ``TAIL`` or 1 - ``TAIL`` order
statistic (0.1 % each side) than the span between those two (in decades
when the norms are > 0). The range always takes in the threshold; bins are
log-spaced and the axis log when it covers two decades or more
(``scale.log_is_better``). Outliers are counted (``below``, ``above``) and
said in the title, not drawn as bars.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from tunebook.analysis.checks.curves import best_trials, examined_trials, pick_metric, trial_curves
from tunebook.analysis.checks.grad_norm import CLIP_QUANTILE, GRAD_NORM_METRICS, clipping_threshold
from tunebook.plots import _common, lines, scale
from tunebook.plots.curves import OTHERS

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

__all__ = ["GradNormInfo", "GradNormLine", "get_grad_norm_info", "render_grad_norm"]

HISTOGRAM_BINS = 60
TAIL = 0.001


@dataclasses.dataclass(frozen=True)
class GradNormLine:
    trial_id: int
    name: str  # STUDY/NUMBER
    study: str
    number: int
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
    log: bool = False  # log-spaced bins, log axes
    shown_range: tuple[float, float] = (0.0, 1.0)  # the norms binned and the lines' y-range (before padding)
    below: int = 0  # norms left out of the histogram under its range
    above: int = 0  # ... and over it


def get_grad_norm_info(data: "ExperimentData", others: int = OTHERS) -> GradNormInfo | None:
    metric = pick_metric(data.curves, GRAD_NORM_METRICS)
    if metric is None:
        return None
    curves = trial_curves(data.curves, metric, examined_trials(data))
    if not curves:
        return None
    norms = np.concatenate([c.values for c in curves.values()])
    threshold = clipping_threshold(norms)
    low, high = _shown_range(norms, threshold)
    log = scale.log_is_better(low, high)
    edges = np.geomspace(low, high, HISTOGRAM_BINS + 1) if log else np.linspace(low, high, HISTOGRAM_BINS + 1)
    counts, _ = np.histogram(norms, bins=edges)
    best = {tid: label for label, tid in best_trials(data).items() if tid in curves}
    background = [tid for tid in curves if tid not in best]
    shown = lines.spread(background, others) + sorted(best)
    trials = data.trials.set_index("trial_id")
    drawn = [GradNormLine(tid, data.trial_name(tid), str(trials.at[tid, "study"]), int(trials.at[tid, "number"]),
                          tuple(int(s) for s in steps), _common.floats(values), best.get(tid))
             for tid in shown for steps, values in [lines.decimate(curves[tid].steps, curves[tid].values)]]
    drawn.sort(key=lambda ln: (ln.best_of is not None, ln.trial_id))
    return GradNormInfo(metric, CLIP_QUANTILE, threshold, float(np.mean(norms > threshold)),
                        tuple(int(c) for c in counts), _common.floats(edges), tuple(drawn),
                        len(shown) - len(best), len(background), log, (low, high),
                        int(np.sum(norms < low)), int(np.sum(norms > high)))


def _shown_range(norms: np.ndarray, threshold: float) -> tuple[float, float]:
    """Smallest and largest norm that is no outlier (see above), widened to the threshold; never empty."""
    # order statistics, not interpolation: between a norm of 5 and one of 1e30 lies nothing worth showing
    low = float(np.quantile(norms, TAIL, method="higher"))
    high = float(np.quantile(norms, 1 - TAIL, method="lower"))
    if low > 0:
        ratio = high / low
        kept = norms[(norms >= low / ratio) & (norms <= high * ratio)]
    else:
        span = high - low
        kept = norms[(norms >= low - span) & (norms <= high + span)]
    low, high = min(float(kept.min()), threshold), max(float(kept.max()), threshold)
    if high <= low:
        return scale.padded(low, high)
    return low, high


def render_grad_norm(info: GradNormInfo):
    """Left: norm vs step (the faint lines as one trace); right: histogram of all norms; the threshold on both."""
    fig = _common.make_subplots(rows=1, cols=2, subplot_titles=[f"{info.metric} vs step", f"{info.metric} histogram"])
    go = _common.go()
    faint = [ln for ln in info.lines if ln.best_of is None]
    for study in dict.fromkeys(ln.study for ln in faint):  # one trace per study: hovers name trials by number
        x, y, numbers = lines.joined((ln.number, ln.steps, ln.values) for ln in faint if ln.study == study)
        fig.add_trace(go.Scatter(x=x, y=y, customdata=numbers, mode="lines", showlegend=False,
                                 name=lines.others_label(info.others_shown, info.others_total),
                                 line={"color": _common.FAINT_COLOR, "width": 1},
                                 hovertemplate=_common.numbered(study, "%{customdata}")
                                 + "<br>step %{x}: %{y}<extra></extra>"), row=1, col=1)
    best = list(dict.fromkeys(ln.best_of for ln in info.lines if ln.best_of is not None))
    for line in info.lines:
        if line.best_of is None:
            continue
        fig.add_trace(go.Scatter(x=np.asarray(line.steps), y=np.asarray(line.values), mode="lines", name=line.best_of,
                                 line={"color": _common.color(best.index(line.best_of)), "width": 2},
                                 hovertemplate=f"{line.name}<br>step %{{x}}: %{{y}}<extra></extra>"),
                      row=1, col=1)
    edges = np.asarray(info.edges)
    # a filled step line, not bars: it sits right on a log axis as on a linear one
    fig.add_trace(go.Scatter(x=edges, y=np.append(info.counts, info.counts[-1]), mode="lines", fill="tozeroy",
                             line={"color": "#7f7f7f", "shape": "hv", "width": 1}, name="all norms",
                             showlegend=False, hovertemplate="from %{x:.3g}: %{y} steps<extra></extra>"),
                  row=1, col=2)
    label = f"p{info.quantile * 100:.0f} = {info.threshold:.3g}"
    fig.add_hline(y=info.threshold, line={"color": "red", "dash": "dash"}, row=1, col=1)
    fig.add_vline(x=info.threshold, line={"color": "red", "dash": "dash"}, annotation_text=label, row=1, col=2)
    fig.update_xaxes(title_text="step", row=1, col=1)
    low, high = info.shown_range
    low, high = scale.padded(low, high, log=low > 0)
    y_range = [np.log10(low), np.log10(high)] if low > 0 else None
    fig.update_yaxes(title_text=info.metric, type="log", range=y_range, row=1, col=1)
    x_range = [np.log10(edges[0]), np.log10(edges[-1])] if info.log else [edges[0], edges[-1]]
    fig.update_xaxes(title_text=info.metric, type="log" if info.log else "linear", range=x_range, row=1, col=2)
    fig.update_yaxes(title_text="steps", row=1, col=2)
    outside = [f"{n} {'norm' if n == 1 else 'norms'} {where} the range shown, left out"
               for n, where in ((info.below, "below"), (info.above, "above")) if n]
    fig.update_layout(title=f"Gradient norms (clipping threshold {label})" + (f" — {', '.join(outside)}" if outside
                                                                              else ""),
                      bargap=0)
    return fig
