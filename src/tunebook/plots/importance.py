"""The importance bar chart: each hyperparameter's share of variance with its 90 % interval, per region.

Data first: ``get_importance_info`` lists the bars (region, hyperparameter,
share, interval) from an ``analysis.importance.Importance``; regions with too
few trials to tell have no bars. ``render_importance`` draws grouped
horizontal bars with error bars, the largest share at the top.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from tunebook.plots import _common

if TYPE_CHECKING:
    from tunebook.analysis.importance import Importance

REGION_LABELS = {"all": "all trials", "top": "good region (top {share:.0%})", "feasibility": "divergence"}

__all__ = ["ImportanceBar", "ImportanceInfo", "get_importance_info", "render_importance"]


@dataclasses.dataclass(frozen=True)
class ImportanceBar:
    region: str  # its label: all trials, good region (top 20%), divergence
    param: str
    share: float
    low: float
    high: float
    verdict: str


@dataclasses.dataclass(frozen=True)
class ImportanceInfo:
    """``bars`` in drawing order; ``order``: the hyperparameters top to bottom (by share over all trials)."""

    experiment: str
    bars: tuple[ImportanceBar, ...]
    order: tuple[str, ...]


def get_importance_info(imp: "Importance") -> ImportanceInfo:
    bars = []
    for region in imp.regions:
        label = REGION_LABELS[region.region].format(share=imp.top_share)
        bars += [ImportanceBar(label, s.name, s.estimate, s.low, s.high, s.verdict) for s in region.params]
    order = [s.name for s in imp.all.params] or list(dict.fromkeys(b.param for b in bars))
    return ImportanceInfo(imp.experiment, tuple(bars), tuple(order))


def render_importance(info: ImportanceInfo):
    go = _common.go()
    fig = _common.figure()
    regions = list(dict.fromkeys(b.region for b in info.bars))
    for i, region in enumerate(regions):
        bars = [b for b in info.bars if b.region == region]
        fig.add_trace(go.Bar(
            y=[b.param for b in bars], x=[b.share for b in bars], orientation="h", name=region,
            marker={"color": _common.color(i)},
            error_x={"type": "data", "symmetric": False, "array": [b.high - b.share for b in bars],
                     "arrayminus": [b.share - b.low for b in bars]},
            customdata=[[b.low, b.high, b.verdict] for b in bars],
            hovertemplate="%{y}: %{x:.1%} [%{customdata[0]:.1%}, %{customdata[1]:.1%}], %{customdata[2]}"
                          f"<extra>{region}</extra>"))
    fig.update_layout(title=f"{info.experiment}: share of variance by hyperparameter (90 % intervals)",
                      barmode="group", height=max(320, 60 * len(info.order) + 140),
                      xaxis={"title": "share of variance", "tickformat": ".0%", "range": [0, 1.02]},
                      yaxis={"categoryorder": "array", "categoryarray": list(reversed(info.order))})
    return fig
