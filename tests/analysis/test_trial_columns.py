"""``analysis.load`` reads the trials as columns (``Store.trial_columns``) into the frame that ``Trial`` records give.

A real store (SQLite, and PostgreSQL whose timestamps come typed) holds trials
in every state, with a conditional hyperparameter (missing in some rows),
string, boolean, None and NaN values, a suggestion saying how the trial was
chosen and one that does not, code versions, and a trial still running. The
frame, its dtypes and the code versions from the columnar read equal those
built from ``list_trials``' records (``Store.trial_columns``' default, what
``load`` did before).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tunebook.analysis import load
from tunebook.core import Experiment, TrialState
from tunebook.core.records import Suggestion
from tunebook.storage import SQLStore
from tunebook.storage.base import Store

SPEC = {
    "name": "columns", "objective": {"metric": "valid/loss", "mode": "min"},
    "scientific": {"layers": [1, 2]},
    "nuisance": {"lr": {"low": 1e-3, "high": 1.0, "scale": "log"}, "act": ["relu", "gelu"]},
    "fixed": {"max_train_steps": 10}, "search": {"trials": 6, "seed": 0},
}


class RecordsStore(SQLStore):
    """The same store, its trials read through ``list_trials``' records (the interface's default)."""

    def trial_columns(self, experiment_id: int):
        return Store.trial_columns(self, experiment_id)


def _params(i: int, layers: int):
    params = {"layers": layers, "lr": 10 ** (-3 + i / 3), "act": ["relu", "gelu"][i % 2], "max_train_steps": 10}
    if i % 3 == 0:
        params["momentum"] = math.nan if i == 3 else 0.9  # a branch's hyperparameter: absent from other rows
    if i % 4 == 1:
        params["nesterov"] = i > 2
    if i == 2:
        params["note"] = None
    by = {0: {"by": "initial"}, 1: {"by": "model", "pending": [0]}, 2: {"reason": "no by"}}.get(i)
    return Suggestion(params, by) if i < 3 else params


def _write(url: str) -> None:
    exp = Experiment.from_dict(SPEC)
    finish = [
        (TrialState.COMPLETE, {"objective": 0.5, "best_step": 9}),
        (TrialState.INFEASIBLE, {"reason": "diverged"}),
        (TrialState.COMPLETE, {"objective": math.nan}),
        (TrialState.FAILED, {"reason": "exit code 1"}),
        (TrialState.COMPLETE, {"objective": 0.25, "best_step": 3}),
        None,  # still running
    ]
    with SQLStore(url) as store:
        record = store.ensure_experiment(exp.name, exp.to_dict())
        version = store.add_code_version({"commit": "abc1234", "dirty": False}, None)
        for plan in exp.studies():
            layers = plan.scientific["layers"]
            study = store.ensure_study(record.id, plan.key, plan.scientific, 6)
            for i, ending in enumerate(finish):
                trial = store.claim_trial(study.id, "w", lambda number, i=i: _params(i, layers),
                                          code_version_id=version if i % 2 else None)
                if ending is not None:
                    store.finish_trial(trial.id, ending[0], **ending[1])


def _same_frames(url: str) -> None:
    _write(url)
    with SQLStore(url) as store:
        columnar = load("columns", store)
    with RecordsStore(url) as store:
        from_records = load("columns", store)
    assert len(columnar.trials) == 12 and columnar.trials["finished_at"].isna().sum() == 2
    pd.testing.assert_frame_equal(columnar.trials, from_records.trials, check_exact=True)
    assert list(columnar.trials.dtypes) == list(from_records.trials.dtypes)
    assert columnar.code_versions == from_records.code_versions and len(columnar.code_versions) == 6
    by = columnar.trials["suggested_by"]
    assert by.tolist()[:2] == ["initial", "model"] and by[2:6].isna().all()


def test_columns_read_the_frame_records_give_sqlite(tmp_path):
    _same_frames(f"sqlite:///{tmp_path / 's.db'}")


@pytest.mark.postgres
def test_columns_read_the_frame_records_give_postgres(postgres_url):
    _same_frames(postgres_url)
