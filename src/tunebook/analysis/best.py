"""The best trials: the top k of a study, the best of each study, the best per scientific value.

Only COMPLETE search trials with a finite objective take part (a retrain
study's trials are repeats of their source, not search points or a study of
their own: ``ExperimentData.search_trials``); "best" follows the
objective's mode (min or max), ties going to the lower trial number. The
best per scientific value is what an isolation plot shows: the nuisance
hyperparameters "optimized away" for each value being compared. For
``per_scientific_value`` experiments each study is one scientific value, so
the two coincide; a joint study is split by its scientific columns, a
continuous (range) one into quantile buckets, as the playbook approximates an
isolation plot from quasi-random data "by bucketing the x-axis values ... and
taking the best trial in each vertical slice".

Almost every check asks for the same rankings, so ``ranked`` and
``scientific_groups`` are computed once per ``ExperimentData`` object
(``memo.cached``); each call returns its own shallow copies (pandas'
copy-on-write keeps a caller's changes out of the cache).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tunebook.analysis.memo import cached
from tunebook.core.domains import Choice, Range, same_value
from tunebook.core.space import format_value

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

SUMMARY = ("study", "trial_id", "number", "objective", "best_step")
BUCKETS = 5

__all__ = [
    "Group", "best_per_scientific_value", "best_per_study", "ranked", "scientific_groups", "study_keys",
    "top_trials",
]


@dataclasses.dataclass(frozen=True)
class Group:
    """The trials of one scientific value: its label, study, values and ranked trials.

    ``scientific`` maps each scientific id to its value, or to ``[low, high]``
    (the values seen) for a bucket of a range. ``trials`` is ``ranked``.
    """

    label: str
    study: str
    scientific: dict[str, Any]
    trials: pd.DataFrame


def study_keys(data: "ExperimentData") -> list[str]:
    """The studies that sampled the search space, in the experiment's order (then any others, as stored).

    Retrain studies are not among them (``ExperimentData.search_trials``).
    """
    present = list(pd.unique(data.search_trials["study"].to_numpy()))  # in order of appearance; fast at 10,000 trials
    planned = [plan.key for plan in data.experiment.studies() if plan.key in present]
    return planned + [key for key in present if key not in planned]


def ranked(data: "ExperimentData", study: str | None = None) -> pd.DataFrame:
    """Complete search trials with a finite objective (of ``study``, or all), best first, index 0..n-1.

    Retrain studies' trials are repeats, not search points: never ranked among the search's, but a
    retrain study named as ``study`` ranks its own repeats (``EXPERIMENT/retrain:...`` names its best seed).
    """
    return cached(data, ("ranked", study), lambda: _ranked(data, study)).copy(deep=False)


def _ranked(data: "ExperimentData", study: str | None) -> pd.DataFrame:
    trials = data.trials if study is not None and data.is_retrain(study) else data.search_trials
    if study is not None:
        trials = trials[trials["study"] == study]
    trials = trials[trials["state"] == "complete"].copy()
    trials["objective"] = pd.to_numeric(trials["objective"], errors="coerce").astype(float)
    trials = trials[np.isfinite(trials["objective"].to_numpy(dtype=float))]
    ascending = data.objective.mode == "min"
    trials = trials.sort_values(["objective", "number", "trial_id"], ascending=[ascending, True, True], kind="stable")
    return trials.reset_index(drop=True)


def top_trials(data: "ExperimentData", k: int, study: str | None = None) -> pd.DataFrame:
    """The ``k`` best trials (of ``study``, or of the whole experiment): SUMMARY columns and params."""
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k!r}")
    return ranked(data, study).head(k)[list(SUMMARY) + data.param_ids()].reset_index(drop=True)


def best_per_study(data: "ExperimentData") -> pd.DataFrame:
    """One row per study with a complete trial: ``n_complete``, SUMMARY columns of its best, its params."""
    rows = []
    for key in study_keys(data):
        trials = ranked(data, key)
        if len(trials):
            rows.append({"n_complete": len(trials), **_summary(trials.iloc[0], data)})
    return pd.DataFrame(rows, columns=["n_complete", *SUMMARY, *data.param_ids()])


def best_per_scientific_value(data: "ExperimentData", buckets: int = BUCKETS) -> pd.DataFrame:
    """One row per scientific value (see ``scientific_groups``): its label and values, then its best trial.

    Columns: ``group``, ``scientific`` (a dict), ``n_complete``, SUMMARY
    columns and the best trial's params.
    """
    rows = [
        {"group": g.label, "scientific": g.scientific, "n_complete": len(g.trials), **_summary(g.trials.iloc[0], data)}
        for g in scientific_groups(data, buckets)
    ]
    return pd.DataFrame(rows, columns=["group", "scientific", "n_complete", *SUMMARY, *data.param_ids()])


def scientific_groups(data: "ExperimentData", buckets: int = BUCKETS) -> list[Group]:
    """The complete trials split by scientific value; groups without a complete trial are left out.

    Per-value studies: one group per study. A joint study: one group per
    combination of its scientific columns, a range with more than
    ``buckets`` distinct values cut into ``buckets`` quantile buckets (equal
    counts; quantiles do not depend on the scale, so a log range is cut as
    finely at its low end as at its high end). No scientific
    hyperparameters: one group per study.
    """
    groups = cached(data, ("groups", buckets), lambda: _scientific_groups(data, buckets))
    return [dataclasses.replace(g, trials=g.trials.copy(deep=False), scientific=dict(g.scientific)) for g in groups]


def _scientific_groups(data: "ExperimentData", buckets: int) -> list[Group]:
    scientific = [hp for hp in data.experiment.space.with_role("scientific") if hp.id in data.trials.columns]
    groups = []
    for key in study_keys(data):
        trials = ranked(data, key)
        if not len(trials):
            continue
        if data.experiment.search.studies != "joint" or not scientific:
            values = {hp.id: _plain(trials[hp.id].iloc[0]) for hp in scientific if pd.notna(trials[hp.id].iloc[0])}
            groups.append(Group(key, key, values, trials))
        else:
            groups.extend(_split(trials, key, scientific, buckets))
    return groups


def _split(trials: pd.DataFrame, study: str, scientific: list, buckets: int) -> list[Group]:
    keys, bucketed = pd.DataFrame(index=trials.index), set()
    for hp in scientific:
        column = trials[hp.id]
        if isinstance(hp.domain, Range) and column.nunique() > buckets:
            keys[hp.id] = pd.qcut(column.astype(float), buckets, labels=False, duplicates="drop")
            bucketed.add(hp.id)
        elif isinstance(hp.domain, Choice):  # the spec's order of values
            keys[hp.id] = column.map(lambda v: _index(hp.domain.values, _plain(v)), na_action="ignore")
        else:
            keys[hp.id] = column
    groups = []
    for _, members in trials.groupby([keys[hp.id] for hp in scientific], dropna=False, sort=True):
        members = members.reset_index(drop=True)  # still best first: groupby keeps the row order
        values = {}
        for hp in scientific:
            present = members[hp.id].dropna()
            if len(present):
                bounds = [_plain(present.min()), _plain(present.max())]
                values[hp.id] = bounds if hp.id in bucketed else _plain(present.iloc[0])
        label = ",".join(f"{k}={_label(v)}" for k, v in values.items()) or study
        groups.append(Group(label, study, values, members))
    return groups


def _index(values: tuple, value: Any) -> int:
    return next((i for i, v in enumerate(values) if same_value(v, value)), len(values))


def _label(value: Any) -> str:
    if isinstance(value, list):
        return f"[{value[0]:.3g}, {value[1]:.3g}]"
    return format_value(value)


def _summary(row: pd.Series, data: "ExperimentData") -> dict[str, Any]:
    out = {c: _plain(row[c]) for c in SUMMARY}
    out.update({p: _plain(row[p]) for p in data.param_ids()})
    return out


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones, so records stay JSON-able."""
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value
