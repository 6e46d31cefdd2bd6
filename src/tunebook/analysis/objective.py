"""Change the objective after the fact, without rerunning anything.

The playbook judges a trial by "the best value it achieved over the course of
training" (retrospective checkpoint selection), but a user may want the final
value, the other direction, or another metric altogether. Every curve is
stored, so ``with_objective`` recomputes each trial's objective and best step
from its curve with ``core.objective.reduce_curve``.
"""

from __future__ import annotations

import dataclasses
import math

from tunebook.analysis.curve_index import curve_index
from tunebook.analysis.data import ExperimentData
from tunebook.core.errors import SpecError
from tunebook.core.experiment import Objective
from tunebook.core.objective import reduce_curve

MODES = ("min", "max")
REDUCTIONS = ("best", "final")

__all__ = ["parse_objective", "with_objective"]


def parse_objective(text: str) -> Objective:
    """An Objective from ``METRIC[:MODE][:REDUCE]``: ``valid/loss:min``, ``accuracy:max:final``.

    MODE is min (the default) or max; REDUCE is best (the default: best value
    over training) or final (the last logged value). Either may come first.
    A metric name may itself hold ``:``; only trailing known words are read as
    MODE or REDUCE. SpecError (a ValueError) names the text when it is not
    of this form.
    """
    if not isinstance(text, str) or not text.strip():
        raise SpecError([("objective", f"must be METRIC[:min|max][:best|final], got {text!r}")])
    parts = [part.strip() for part in text.split(":")]
    mode = reduce = None
    while len(parts) > 1 and parts[-1] in MODES + REDUCTIONS:
        word = parts.pop()
        if word in MODES and mode is None:
            mode = word
        elif word in REDUCTIONS and reduce is None:
            reduce = word
        else:
            raise SpecError([("objective", f"gives {word!r} twice or both of min/max or best/final, in {text!r}")])
    metric = ":".join(parts).strip()
    if not metric:
        raise SpecError([("objective", f"needs a metric name before ':', got {text!r}")])
    return Objective(metric, mode or "min", reduce or "best")


def with_objective(
    data: ExperimentData, metric: str | None = None, mode: str | None = None, reduce: str | None = None
) -> ExperimentData:
    """``data`` judged by another objective; arguments left None keep the experiment's.

    Each COMPLETE trial's ``objective`` and ``best_step`` are recomputed from
    its stored curve of ``metric`` (best or final value, in the objective's
    direction; ties go to the earliest step). A complete trial that logged no
    finite value of that metric gets NaN for both; so does every trial that
    is not complete (infeasible, failed, running and waiting trials have no
    objective). The returned data's experiment carries the new Objective;
    ``curves`` is shared, not copied.

    SpecError when ``mode`` or ``reduce`` is not a known word, or when a
    ``metric`` is named that no trial logged while others were (a typo,
    most likely).
    """
    objective = _new_objective(data, metric, mode, reduce)
    index = curve_index(data.curves)
    reduced: dict[int, tuple[float, int]] = {}
    for trial_id in data.trials.loc[data.trials["state"] == "complete", "trial_id"]:
        points = index.points(int(trial_id), objective.metric)
        if points is not None:
            found = reduce_curve(points[0].tolist(), points[1].tolist(), objective.mode, objective.reduce)
            if found is not None:
                reduced[int(trial_id)] = found
    trials = data.trials.copy()
    trials["objective"] = [reduced.get(int(t), (math.nan, math.nan))[0] for t in trials["trial_id"]]
    trials["best_step"] = [float(reduced.get(int(t), (math.nan, math.nan))[1]) for t in trials["trial_id"]]
    experiment = dataclasses.replace(data.experiment, objective=objective)
    return dataclasses.replace(data, experiment=experiment, trials=trials)


def _new_objective(data: ExperimentData, metric: str | None, mode: str | None, reduce: str | None) -> Objective:
    if mode is not None and mode not in MODES:
        raise SpecError([("objective.mode", f"must be one of {', '.join(MODES)}, got {mode!r}")])
    if reduce is not None and reduce not in REDUCTIONS:
        raise SpecError([("objective.reduce", f"must be one of {', '.join(REDUCTIONS)}, got {reduce!r}")])
    logged = sorted(curve_index(data.curves).metrics)
    if metric is not None and logged and metric not in logged:
        raise SpecError([("objective.metric", f"no trial logged {metric!r}; logged metrics: {', '.join(logged)}")])
    current = data.objective
    return Objective(metric or current.metric, mode or current.mode, reduce or current.reduce)
