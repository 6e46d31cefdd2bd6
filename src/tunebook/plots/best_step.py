"""Histogram of the retrospective best steps: where in training each trial did best.

With ``reduce: best`` a trial's objective is taken at its best checkpoint
(``best_step``). Best steps piling up at the end of training say the runs
could use more steps; piling up early says they could stop sooner
("Deciding how long to train"). ``last_step`` is the last step logged for the
objective's metric, so the fraction of training is known per trial.
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

__all__ = ["BestStepInfo", "BestStepSeries", "get_best_step_info", "render_best_step"]


@dataclasses.dataclass(frozen=True)
class BestStepSeries:
    """The complete trials of one study with a best step: ids, best steps, last logged steps (NaN if none)."""

    study: str
    trial_ids: tuple[int, ...]
    best_steps: tuple[float, ...]
    last_steps: tuple[float, ...]

    @property
    def fractions(self) -> tuple[float, ...]:
        return tuple(b / last if last and np.isfinite(last) else float("nan") for b, last in zip(self.best_steps, self.last_steps))


@dataclasses.dataclass(frozen=True)
class BestStepInfo:
    """``max_step``: the largest step any trial logged for the metric (NaN with no curves)."""

    metric: str
    series: tuple[BestStepSeries, ...]
    max_step: float


def get_best_step_info(data: "ExperimentData") -> BestStepInfo:
    metric = data.objective.metric
    index = curve_index(data.curves)
    series = []
    for key in study_keys(data):
        trials = ranked(data, key)
        trials = trials[np.isfinite(trials["best_step"].to_numpy(dtype=float))].sort_values("number")
        if len(trials):
            ids = tuple(int(t) for t in trials["trial_id"])
            series.append(BestStepSeries(key, ids, _common.floats(trials["best_step"]),
                                         tuple(index.last_step(t, metric) for t in ids)))
    lasts = [index.last_step(int(t), metric) for t in data.trials["trial_id"]]
    max_step = float(np.nanmax(lasts)) if np.isfinite(lasts).any() else float("nan")
    return BestStepInfo(metric, tuple(series), max_step)


def render_best_step(info: BestStepInfo):
    """One overlaid histogram trace per study; the last step of training as a vertical line."""
    go = _common.go()
    fig = go.Figure()
    for i, s in enumerate(info.series):
        fig.add_trace(go.Histogram(x=list(s.best_steps), name=s.study, marker={"color": _common.color(i)},
                                   opacity=0.75))
    if np.isfinite(info.max_step):
        fig.add_vline(x=info.max_step, line={"color": "black", "dash": "dash", "width": 1})
    fig.update_layout(title=f"Retrospective best step of {info.metric}", barmode="overlay",
                      xaxis={"title": "best step"}, yaxis={"title": "trials"}, template="plotly_white")
    return fig
