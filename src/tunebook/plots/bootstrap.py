"""Figure 3 of the playbook: box plots of the best objective among k trials, for each budget k.

"Via bootstrapping, different amounts of tuning budget were simulated. Box
plots of the best performances for each trial budget": with few trials the
best is largely luck. One box series per scientific value (one per study for
per-value studies), from ``bootstrap_best_of_k`` with its fixed seed. Boxes
are quartiles; whiskers reach the furthest bootstrapped best within 1.5 IQR.

Every group shares one k axis (``budgets``): every integer 1..K where K,
the largest group's trial count, is at most ``EVERY_K`` (16); beyond, 16
values evenly spaced on a log scale from 1 to K (rounded, 1 and K kept),
since the best moves most at small k. A group has a box at each k up to its
own n: beyond, best-of-k would resample its n trials more often than it
has them.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from tunebook.analysis.best import scientific_groups
from tunebook.analysis.checks.sampled_enough import MIN_TRIALS, bootstrap_best_of_k
from tunebook.plots import _common

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

EVERY_K = 16

__all__ = [
    "BootstrapBox", "BootstrapInfo", "BootstrapSeries", "common_budgets", "get_bootstrap_info", "render_bootstrap",
]


@dataclasses.dataclass(frozen=True)
class BootstrapBox:
    k: int
    q1: float
    median: float
    q3: float
    lower: float  # whisker ends
    upper: float


@dataclasses.dataclass(frozen=True)
class BootstrapSeries:
    group: str
    study: str
    n: int  # complete trials
    best: float  # the observed best of all n
    boxes: tuple[BootstrapBox, ...]


@dataclasses.dataclass(frozen=True)
class BootstrapInfo:
    """``skipped``: groups with fewer than ``MIN_TRIALS`` complete trials (no boxes); ``budgets``: the common k axis."""

    metric: str
    mode: str
    series: tuple[BootstrapSeries, ...]
    skipped: tuple[str, ...]
    budgets: tuple[int, ...] = ()


def get_bootstrap_info(data: "ExperimentData", min_trials: int = MIN_TRIALS) -> BootstrapInfo:
    mode = data.objective.mode
    groups = scientific_groups(data)
    kept = [g for g in groups if len(g.trials) >= min_trials]
    budgets = common_budgets(max((len(g.trials) for g in kept), default=0))
    series = []
    for group in kept:
        values = group.trials["objective"].to_numpy(dtype=float)
        boot = bootstrap_best_of_k(values, mode, budgets=[k for k in budgets if k <= len(values)])
        boxes = tuple(_box(k, row) for k, row in zip(boot.budgets, boot.samples))
        series.append(BootstrapSeries(group.label, group.study, len(values), float(group.trials["objective"].iloc[0]),
                                      boxes))
    skipped = tuple(g.label for g in groups if len(g.trials) < min_trials)
    return BootstrapInfo(data.objective.metric, mode, tuple(series), skipped, budgets)


def common_budgets(largest: int, every: int = EVERY_K) -> tuple[int, ...]:
    """1..``largest`` when that is at most ``every`` values, else ``every`` log-spaced values from 1 to it."""
    if largest <= every:
        return tuple(range(1, largest + 1))
    return tuple(int(k) for k in np.unique(np.geomspace(1, largest, every).round().astype(int)))


def _box(k: int, samples: np.ndarray) -> BootstrapBox:
    q1, median, q3 = (float(v) for v in np.quantile(samples, [0.25, 0.5, 0.75]))
    reach = 1.5 * (q3 - q1)
    inside = samples[(samples >= q1 - reach) & (samples <= q3 + reach)]
    return BootstrapBox(int(k), q1, median, q3, float(inside.min()), float(inside.max()))


def render_bootstrap(info: BootstrapInfo):
    """One box trace per series (precomputed quartiles), x = the budget k as a category."""
    go = _common.go()
    fig = _common.figure()
    for i, s in enumerate(info.series):
        fig.add_trace(go.Box(
            x=[str(b.k) for b in s.boxes], q1=[b.q1 for b in s.boxes], median=[b.median for b in s.boxes],
            q3=[b.q3 for b in s.boxes], lowerfence=[b.lower for b in s.boxes], upperfence=[b.upper for b in s.boxes],
            name=f"{s.group} (n={s.n})", marker={"color": _common.color(i)}, boxpoints=False))
    ks = info.budgets or sorted({b.k for s in info.series for b in s.boxes})
    fig.update_layout(title=f"Best {info.metric} ({info.mode}) among k trials, bootstrapped",
                      xaxis={"title": "trial budget k", "type": "category", "categoryorder": "array",
                             "categoryarray": [str(k) for k in ks]},
                      yaxis={"title": f"best {info.metric}"}, boxmode="group")
    return fig
