"""``tunebook.analysis.load``: a real store's experiment as frames."""

from __future__ import annotations

import math

import pytest

from tunebook.analysis import load
from tunebook.core import Experiment, NotFoundError, TrialState
from tunebook.search import make_sampler
from tunebook.storage import SQLStore

SPEC = {
    "name": "frames", "objective": {"metric": "valid/loss", "mode": "min"},
    "scientific": {"depth": [1, 2]},
    "nuisance": {"lr": {"low": 1e-3, "high": 1.0, "scale": "log"}, "opt": ["adam", "sgd"],
                 "opt=sgd": {"momentum": {"low": 0.0, "high": 0.9}}},
    "fixed": {"steps": 10},
    "search": {"trials": 3},
}


@pytest.fixture
def store_url(tmp_path):
    experiment = Experiment.from_dict(SPEC)
    url = f"sqlite:///{tmp_path / 'frames.db'}"
    with SQLStore(url) as store:
        record = store.ensure_experiment(experiment.name, experiment.to_dict())
        for plan in experiment.studies():
            sampler = make_sampler(experiment, plan)
            study = store.ensure_study(record.id, plan.key, plan.scientific, 3)
            for number in range(3):
                trial = store.claim_trial(study.id, "w", sampler.params)
                # step 2 is logged twice, as a resumed trial would: the later value stands
                store.log_curves(trial.id, {"valid/loss": ([1, 2], [1.0, 0.5])})
                store.log_curves(trial.id, {"valid/loss": ([2, 3], [0.4, math.nan])})
                state = TrialState.INFEASIBLE if number == 2 else TrialState.COMPLETE
                store.finish_trial(trial.id, state, objective=0.4 if number < 2 else None, best_step=2)
    return url


def test_load_gives_one_row_per_trial_with_param_columns(store_url):
    data = load("frames", store_url)
    trials = data.trials
    assert len(trials) == 6
    assert sorted(set(trials["study"])) == ["depth=1", "depth=2"]
    assert {"depth", "lr", "opt", "steps", "momentum[opt=sgd]"} <= set(trials.columns)
    assert data.param_ids()[:3] == ["depth", "lr", "opt"]
    assert (trials["state"] == "infeasible").sum() == 2
    sgd = trials[trials["opt"] == "sgd"]
    adam = trials[trials["opt"] == "adam"]
    assert sgd["momentum[opt=sgd]"].notna().all() and adam["momentum[opt=sgd]"].isna().all()
    assert data.objective.metric == "valid/loss"


def test_curves_keep_the_last_value_logged_per_step(store_url):
    curves = load("frames", store_url).curves
    one = curves[curves["trial_id"] == curves["trial_id"].min()]
    assert one["step"].tolist() == [1, 2, 3]
    assert one["value"].tolist()[:2] == [1.0, 0.4] and math.isnan(one["value"].tolist()[2])


def test_unknown_experiment_is_not_found(store_url):
    with pytest.raises(NotFoundError, match="nope"):
        load("nope", store_url)


def test_trials_are_named_by_study_and_number_as_tunebook_trials_prints_them(store_url):
    data = load("frames", store_url)
    for row in data.trials.itertuples():
        assert data.trial_name(row.trial_id) == f"{row.study}/{row.number}"
    assert len({data.trial_name(t) for t in data.trials["trial_id"]}) == len(data.trials)


def _long(rows):
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["trial_id", "metric", "step", "value"])
    frame["metric"] = frame["metric"].astype("category")
    return frame


def test_latest_points_drops_only_the_earlier_value_of_a_step_logged_twice_in_one_curve():
    from tunebook.analysis import latest_points

    # trial 1's "a" ends at step 5 where its "b" starts, trial 2 starts at step 5 too: different curves, all kept
    frame = _long([(1, "a", 4, 0.1), (1, "a", 5, 0.2), (1, "a", 5, 0.3), (1, "b", 5, 9.0), (1, "b", 6, 8.0),
                   (2, "a", 5, 7.0), (2, "a", 5, 6.0), (2, "a", 5, 5.0)])
    kept = latest_points(frame)
    assert list(zip(kept["trial_id"], kept["metric"].astype(str), kept["step"], kept["value"])) == [
        (1, "a", 4, 0.1), (1, "a", 5, 0.3), (1, "b", 5, 9.0), (1, "b", 6, 8.0), (2, "a", 5, 5.0)]
    assert kept.index.tolist() == list(range(5))


def test_latest_points_gives_back_a_frame_without_repeated_steps_as_it_is():
    from tunebook.analysis import latest_points

    frame = _long([(1, "a", 1, 0.1), (1, "a", 2, 0.2), (1, "b", 2, 0.5), (2, "a", 2, 0.3)])
    assert latest_points(frame) is frame
    shifted = frame.set_axis(range(10, 14))
    assert latest_points(shifted).index.tolist() == [0, 1, 2, 3]
