"""An experiment's trials and curves as pandas frames: what every analysis takes.

``load`` is the one place that reads a store; everything else in
``tunebook.analysis`` is a pure function of an ``ExperimentData``.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING

from tunebook.core.experiment import Experiment, Objective
from tunebook.core.provenance import versions_by_id
from tunebook.core.records import trial_name

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import datetime

    import pandas as pd

    from tunebook.core.records import CodeVersion
    from tunebook.storage.base import Store

TRIAL_COLUMNS = (
    "trial_id", "study", "number", "state", "objective", "best_step", "attempt",
    "reason", "started_at", "finished_at", "duration", "suggested_by",
)


@dataclasses.dataclass(frozen=True)
class ExperimentData:
    """One experiment, ready for analysis.

    ``trials``: one row per trial, columns ``TRIAL_COLUMNS`` plus one column
    per hyperparameter id (NaN/None where a trial's branch lacks it); the
    scientific values of per-value studies are columns too. ``objective`` is
    as stored. ``suggested_by``: how the sampler chose the trial
    (``Trial.suggestion["by"]``: initial, model, fallback), None when it does
    not say (quasi-random and the other history-free samplers). ``curves``: long form ``trial_id, metric, step, value``, one
    value per (trial, metric, step) — the last one logged — sorted.
    ``notes``: ``(when, text)``, the spec's notes first (``when`` None),
    then each ``tunebook note`` (a UTC datetime), oldest first.
    ``code_versions``: trial id -> the code version that produced it (trials
    with none recorded are absent; trials of one version share one record).
    ``retrain_sources``: study key -> store id of the trial a retrain study
    reruns (``StudyRecord.source_trial_id``). A retrain study's trials are
    repeats of their source, not samples of the search space and not a
    scientific value: ``search_trials`` leaves them out, ``trials`` keeps them.
    ``trial_notes``: trial id -> the texts of its notes (``tunebook note --trial``), oldest first; trials
    without notes are absent.
    """

    experiment: Experiment
    trials: "pd.DataFrame"
    curves: "pd.DataFrame"
    notes: "tuple[tuple[datetime | None, str], ...]" = ()
    code_versions: "Mapping[int, CodeVersion]" = dataclasses.field(default_factory=dict)
    retrain_sources: "Mapping[str, int]" = dataclasses.field(default_factory=dict)
    trial_notes: "Mapping[int, tuple[str, ...]]" = dataclasses.field(default_factory=dict)

    @property
    def objective(self) -> Objective:
        return self.experiment.objective

    @functools.cached_property
    def _names(self) -> dict[int, str]:
        return {int(t): trial_name(s, n) for t, s, n in zip(self.trials["trial_id"], self.trials["study"],
                                                              self.trials["number"])}

    def trial_name(self, trial_id: int) -> str:
        """The name users read for a trial (``num_layers=2/5``, ``core.records.trial_name``), from its store id.

        Every finding, plot hover, table and message names trials this way;
        store ids stay internal.
        """
        return self._names[int(trial_id)]

    def model_chosen(self) -> "pd.Series":
        """Per trial: True when a model chose it (``suggested_by == "model"``, Bayesian optimization).

        Such trials are not a uniform sample of the space: they crowd where
        the model expects the best, each depending on the results before it.
        Checks whose tests assume uniform, independent draws leave them out.
        """
        if "suggested_by" not in self.trials.columns:
            return self.trials["trial_id"] != self.trials["trial_id"]  # all False, same index
        return self.trials["suggested_by"] == "model"

    def is_retrain(self, study: str) -> bool:
        """Whether study ``study`` reruns one trial's configuration (a ``tunebook retrain`` study)."""
        return study in self.retrain_sources

    @functools.cached_property
    def search_trials(self) -> "pd.DataFrame":
        """The rows of ``trials`` that sampled the search space: all but retrain studies' (the same frame
        when there are none). Groupings by study or scientific value, axis plots and search checks read these."""
        if not self.retrain_sources:
            return self.trials
        return self.trials[~self.trials["study"].isin(list(self.retrain_sources))]

    def param_ids(self) -> list[str]:
        """The hyperparameter columns of ``trials``, in the space's order."""
        return [hp.id for hp in self.experiment.space if hp.id in self.trials.columns]


def load(name: str, store: "Store | str | None" = None, metrics: "Sequence[str] | None" = None,
         chooser: "Callable[[ExperimentData], Iterable[int]] | None" = None) -> ExperimentData:
    """The trials and curves of experiment ``name`` from a store (URL, Store or the default).

    ``metrics``: load only these curves (``checklist.metrics_read`` names
    what the checklist and the report read); all of them by default.
    ``chooser`` (with ``metrics``): load whole only the curves of the
    trials ``chooser(data)`` names (data whose curves frame holds the last
    point of every curve), and of every other curve its last point, as
    ``analysis.curves_read`` describes; ``report.reads.report_reads`` names
    what the report reads.
    """
    from tunebook.storage import with_store

    return with_store(store, lambda opened: _load(name, opened, metrics, chooser))


def _load(name: str, store: "Store", metrics: "Sequence[str] | None",
          chooser: "Callable[[ExperimentData], Iterable[int]] | None" = None) -> ExperimentData:
    import pandas as pd

    record = store.get_experiment(name)
    spec = {k: v for k, v in record.spec.items()}
    experiment = Experiment.from_dict(spec)
    studies = {s.id: s for s in store.list_studies(record.id)}
    columns = store.trial_columns(record.id)  # no Trial record per row (storage.trial_columns)
    versions = versions_by_id(store.get_code_version, columns["code_version_id"])
    rows = _trial_rows(columns, {s.id: s.key for s in studies.values()})
    trials = pd.DataFrame(rows, columns=list(TRIAL_COLUMNS) + _param_columns(experiment, rows))
    for column in _TEXT_COLUMNS:  # Python strings: the checks and plots compare and list these over and over,
        trials[column] = trials[column].astype(object)  # which pandas' arrow strings do slower (~0.15 s at 10,000)
    notes = ((None, experiment.notes),) if experiment.notes else ()
    notes += tuple((n.created_at, n.text) for n in store.list_notes(record.id))
    code_versions = {trial_id: versions[version_id] for trial_id, version_id
                     in zip(columns["id"], columns["code_version_id"]) if version_id is not None}
    retrains = {s.key: s.source_trial_id for s in studies.values() if s.source_trial_id is not None}
    trial_notes: dict[int, tuple[str, ...]] = {}
    for note in store.list_trial_notes(record.id):
        trial_notes[note.trial_id] = (*trial_notes.get(note.trial_id, ()), note.text)

    def with_curves(curves: "pd.DataFrame") -> ExperimentData:
        return ExperimentData(experiment, trials, latest_points(curves), notes, code_versions=code_versions,
                              retrain_sources=retrains, trial_notes=trial_notes)

    if chooser is None or metrics is None:
        return with_curves(store.load_curves(experiment_id=record.id, metrics=metrics))
    from tunebook.analysis.curves_read import read_curves

    return with_curves(read_curves(store, record.id, metrics, lambda ends: chooser(with_curves(ends))))


_TEXT_COLUMNS = ("study", "state", "reason")


def _trial_rows(columns: "Mapping[str, list]", study_keys: "Mapping[int, str]") -> list[dict]:
    """One dict per trial (``TRIAL_COLUMNS``, then its params) from ``Store.trial_columns``' columns."""
    rows = []
    for trial_id, study_id, number, state, objective, best_step, attempt, reason, started, finished, suggested_by, \
            params in zip(*(columns[name] for name in _ROW_FIELDS)):
        duration = (finished - started).total_seconds() if finished and started else None
        rows.append({
            "trial_id": trial_id, "study": study_keys[study_id], "number": number, "state": state,
            "objective": objective, "best_step": best_step, "attempt": attempt, "reason": reason,
            "started_at": started, "finished_at": finished, "duration": duration, "suggested_by": suggested_by,
            **params,
        })
    return rows


_ROW_FIELDS = ("id", "study_id", "number", "state", "objective", "best_step", "attempt", "reason", "started_at",
               "finished_at", "suggested_by", "params")


def _param_columns(experiment: Experiment, rows: list[dict]) -> list[str]:
    seen = dict.fromkeys(k for row in rows for k in row if k not in TRIAL_COLUMNS)
    ordered = [hp.id for hp in experiment.space if hp.id in seen]
    return ordered + [k for k in seen if k not in ordered]


def latest_points(curves: "pd.DataFrame") -> "pd.DataFrame":
    """One value per (trial, metric, step): the one logged last (a resumed trial's re-logged steps win).

    ``curves`` comes sorted by trial, metric, step with logging order kept
    within a step, as ``Store.load_curves`` returns it. A frame without
    repeated steps comes back as it is (the same object, no copy): one pass
    over the steps finds the rows equal to their successor, and only those
    few are compared by trial and metric.
    """
    import numpy as np
    import pandas as pd

    from tunebook.analysis.curve_index import row_keys

    if len(curves) >= 2:
        step = curves["step"].to_numpy()
        repeated = np.flatnonzero(step[1:] == step[:-1])  # row i has the step of row i + 1
        if len(repeated):
            trial, code, _ = row_keys(curves)
            superseded = repeated[(trial[repeated] == trial[repeated + 1]) & (code[repeated] == code[repeated + 1])]
            if len(superseded):
                keep = np.ones(len(curves), dtype=bool)
                keep[superseded] = False
                return curves[keep].reset_index(drop=True)
    if isinstance(curves.index, pd.RangeIndex) and curves.index.start == 0 and curves.index.step == 1:
        return curves
    return curves.reset_index(drop=True)
