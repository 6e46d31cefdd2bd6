"""Histogram of the retrospective best steps: where in training each trial did best.

With ``reduce: best`` a trial's objective is taken at its best checkpoint
(``best_step``). Best steps piling up at the end of training say the runs
could use more steps; piling up early says they could stop sooner
("Deciding how long to train"). ``last_step`` is the last step logged for the
objective's metric, so the fraction of training is known per trial.

Every study is counted in the same bins: 20 equal bins over
[0, max_train_steps] with 40 trials or more, 10 with 10 or more, else 5
(about two trials per bin or more, so a bar is not one trial's luck), drawn
as grouped bars so that no study's bars cover another's.
max_train_steps is the largest ``max_train_steps`` hyperparameter of the
trials (fixed, or varied), else the last step any trial logged the metric
at; a best step beyond it (a trial that logged past it) counts in the last bin.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from tunebook.analysis.best import ranked, study_keys
from tunebook.analysis.curve_index import curve_index
from tunebook.plots import _common

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

BINS = ((40, 20), (10, 10), (0, 5))  # (at least this many trials, bins)
STEPS_PARAM = "max_train_steps"

__all__ = ["BestStepInfo", "BestStepSeries", "get_best_step_info", "render_best_step"]


@dataclasses.dataclass(frozen=True)
class BestStepSeries:
    """The complete trials of one study with a best step: ids, names, best steps, last logged steps (NaN if none).

    ``counts[i]`` is how many best steps fall in the info's bin i.
    """

    study: str
    trial_ids: tuple[int, ...]
    best_steps: tuple[float, ...]
    last_steps: tuple[float, ...]
    names: tuple[str, ...] = ()
    counts: tuple[int, ...] = ()

    @property
    def fractions(self) -> tuple[float, ...]:
        return tuple(b / last if last and np.isfinite(last) else float("nan") for b, last in zip(self.best_steps, self.last_steps))


@dataclasses.dataclass(frozen=True)
class BestStepInfo:
    """``max_step``: the largest step any trial logged for the metric (NaN with no curves).

    ``max_train_steps``: the end of training (see above; NaN when neither is
    known); ``edges``: the bins every series is counted in, from 0 to it.
    """

    metric: str
    series: tuple[BestStepSeries, ...]
    max_step: float
    max_train_steps: float = float("nan")
    edges: tuple[float, ...] = ()


def get_best_step_info(data: "ExperimentData") -> BestStepInfo:
    metric = data.objective.metric
    index = curve_index(data.curves)
    found = []
    for key in study_keys(data):
        trials = ranked(data, key)
        trials = trials[np.isfinite(trials["best_step"].to_numpy(dtype=float))].sort_values("number")
        if len(trials):
            ids = tuple(int(t) for t in trials["trial_id"])
            found.append(BestStepSeries(key, ids, _common.floats(trials["best_step"]),
                                        tuple(index.last_step(t, metric) for t in ids),
                                        tuple(data.trial_name(t) for t in ids)))
    lasts = [index.last_step(int(t), metric) for t in data.trials["trial_id"]]
    max_step = float(np.nanmax(lasts)) if np.isfinite(lasts).any() else float("nan")
    end = _max_train_steps(data, max_step, found)
    if not np.isfinite(end):
        return BestStepInfo(metric, tuple(found), max_step)
    total = sum(len(s.best_steps) for s in found)
    bins = next(count for least, count in BINS if total >= least)
    edges = np.linspace(0.0, end, bins + 1)
    series = tuple(dataclasses.replace(s, counts=_counts(s.best_steps, edges)) for s in found)
    return BestStepInfo(metric, series, max_step, end, _common.floats(edges))


def _max_train_steps(data: "ExperimentData", max_step: float, series: list[BestStepSeries]) -> float:
    """The trials' largest ``max_train_steps``, else the last logged step, else the largest best step; NaN if none."""
    if STEPS_PARAM in data.trials.columns:
        values = np.asarray(data.trials[STEPS_PARAM].map(_number), dtype=float)
        if np.isfinite(values).any() and np.nanmax(values) > 0:
            return float(np.nanmax(values))
    if np.isfinite(max_step) and max_step > 0:
        return max_step
    best = [b for s in series for b in s.best_steps]
    return float(max(best)) if best and max(best) > 0 else float("nan")


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _counts(best_steps: tuple[float, ...], edges: np.ndarray) -> tuple[int, ...]:
    """Best steps per bin; those beyond the last edge in the last bin, below 0 in the first."""
    clipped = np.clip(np.asarray(best_steps, dtype=float), edges[0], edges[-1])
    counts, _ = np.histogram(clipped, bins=edges)
    return tuple(int(c) for c in counts)


def render_best_step(info: BestStepInfo):
    """Grouped bars: one per study in each common bin, the x axis from 0 to max_train_steps."""
    go = _common.go()
    fig = _common.figure()
    edges = np.asarray(info.edges)
    middles, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    for i, s in enumerate(info.series):
        if not s.counts:
            continue
        fig.add_trace(go.Bar(x=middles, y=np.asarray(s.counts), name=s.study, marker={"color": _common.color(i)},
                             customdata=np.stack([edges[:-1], edges[1:]], axis=1),
                             hovertemplate=f"{s.study}<br>%{{y}} trials with best step in "
                                           "%{customdata[0]:.0f}-%{customdata[1]:.0f}<extra></extra>"))
    xaxis = {"title": "best step"}
    if len(edges):
        xaxis.update(range=[0, float(edges[-1])], tick0=0, dtick=_tick(float(edges[-1])))
    fig.update_layout(title=f"Retrospective best step of {info.metric} (training ends at "
                            f"{info.max_train_steps:.0f} steps)" if len(edges) else
                            f"Retrospective best step of {info.metric}", barmode="group", bargap=0.15,
                      xaxis=xaxis, yaxis={"title": "trials", "dtick": 1 if _most(info) <= 10 else None})
    return fig


def _most(info: BestStepInfo) -> int:
    return max((c for s in info.series for c in s.counts), default=0)


def _tick(end: float) -> float:
    """A round tick spacing giving 4 to 10 ticks from 0 to ``end``."""
    step = 10 ** np.floor(np.log10(end / 4))
    for factor in (1, 2, 5, 10):
        if end / (step * factor) <= 10:
            return float(step * factor)
    return float(step * 10)
