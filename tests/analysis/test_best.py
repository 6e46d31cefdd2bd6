"""The best trials: ranking, top k, best per study and per scientific value (isolation-plot points)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tunebook.analysis.best import (
    best_per_scientific_value, best_per_study, ranked, scientific_groups, study_keys, top_trials,
)

from . import synthetic


def small(objective="loss:min"):
    """Two studies; trial 3 infeasible, trial 4 complete without a finite objective, a tie in width=1."""
    exp = synthetic.experiment(scientific={"width": [1, 2]}, objective=objective)
    rows = [
        ("width=1", {"width": 1, "lr": 0.1}, 0.5),
        ("width=1", {"width": 1, "lr": 0.2}, 0.3),
        ("width=1", {"width": 1, "lr": 0.9}, None),
        ("width=1", {"width": 1, "lr": 0.3}, {"other": [(1, 1.0)]}),
        ("width=1", {"width": 1, "lr": 0.4}, 0.3),
        ("width=2", {"width": 2, "lr": 0.1}, 0.2),
        ("width=2", {"width": 2, "lr": 0.2}, 0.8),
    ]
    return synthetic.frames(exp, rows)


def test_ranked_keeps_complete_trials_with_an_objective_best_first_ties_by_number():
    assert ranked(small())["trial_id"].tolist() == [6, 2, 5, 1, 7]
    assert ranked(small(), "width=1")["trial_id"].tolist() == [2, 5, 1]


def test_ranked_follows_the_mode():
    assert ranked(small("loss:max"))["trial_id"].tolist() == [7, 1, 2, 5, 6]


def test_top_trials_returns_k_rows_with_params_and_best_step():
    top = top_trials(small(), 2)
    assert top["trial_id"].tolist() == [6, 2]
    assert list(top.columns) == ["study", "trial_id", "number", "objective", "best_step", "width", "lr"]
    assert top["best_step"].tolist() == [synthetic.STEPS] * 2
    assert len(top_trials(small(), 50, study="width=2")) == 2
    assert top_trials(small(), 0).empty
    with pytest.raises(ValueError, match="k must be >= 0, got -1"):
        top_trials(small(), -1)


def test_best_per_study_has_one_row_per_study_with_its_best_trial():
    best = best_per_study(small())
    assert best["study"].tolist() == ["width=1", "width=2"]
    assert best["trial_id"].tolist() == [2, 6] and best["n_complete"].tolist() == [3, 2]
    assert best["lr"].tolist() == [0.2, 0.1]
    json.dumps(best.to_dict("records"))  # plain Python values


def test_for_per_value_studies_best_per_scientific_value_is_best_per_study():
    per_value = best_per_scientific_value(small())
    assert per_value["group"].tolist() == ["width=1", "width=2"]
    assert per_value["scientific"].tolist() == [{"width": 1}, {"width": 2}]
    assert per_value["trial_id"].tolist() == best_per_study(small())["trial_id"].tolist()


def test_study_keys_follow_the_experiment_and_skip_studies_without_trials():
    exp = synthetic.experiment(scientific={"width": [4, 1, 2]})
    data = synthetic.frames(exp, [("width=2", {"width": 2, "lr": 0.1}, 1.0), ("width=4", {"width": 4, "lr": 0.1}, 1.0)])
    assert study_keys(data) == ["width=4", "width=2"]


def test_a_joint_study_is_split_by_its_scientific_choice_in_the_spec_order():
    exp = synthetic.experiment(scientific={"act": ["relu", "gelu", "tanh"]}, studies="joint", trials=30)
    offset = {"relu": 0.0, "gelu": -0.5, "tanh": 1.0}
    data = synthetic.sweep(exp, lambda p: synthetic.log_position(p["lr"]) + offset[p["act"]])
    groups = scientific_groups(data)
    assert [g.label for g in groups] == ["act=relu", "act=gelu", "act=tanh"]
    assert sum(len(g.trials) for g in groups) == 30
    for group in groups:
        assert set(group.trials["act"]) == {group.scientific["act"]}
        assert group.trials["objective"].is_monotonic_increasing  # still ranked
    best = best_per_scientific_value(data)
    assert best["act"].tolist() == ["relu", "gelu", "tanh"]
    for _, row in best.iterrows():
        members = data.trials[data.trials["act"] == row["act"]]
        assert row["objective"] == members["objective"].min()


def test_a_continuous_scientific_range_is_bucketed_into_quantiles():
    exp = synthetic.experiment(scientific={"wd": {"low": 1e-5, "high": 1e-1, "scale": "log"}}, studies="joint",
                               trials=50)
    data = synthetic.sweep(exp, lambda p: (math.log10(p["wd"]) + 3) ** 2 + synthetic.log_position(p["lr"]))
    groups = scientific_groups(data, buckets=5)
    assert [len(g.trials) for g in groups] == [10] * 5  # equal counts
    bounds = [g.scientific["wd"] for g in groups]
    assert all(lo <= hi for lo, hi in bounds)
    assert all(a[1] < b[0] for a, b in zip(bounds, bounds[1:]))  # ordered, not overlapping
    # log range: quantile buckets of quasi-random points are about equally wide in log space
    widths = [math.log10(hi / lo) for lo, hi in bounds]
    assert max(widths) < 2 * min(widths)
    best = best_per_scientific_value(data, buckets=5)
    for (lo, hi), (_, row) in zip(bounds, best.iterrows()):
        inside = data.trials[(data.trials["wd"] >= lo) & (data.trials["wd"] <= hi)]
        assert row["trial_id"] == inside.loc[inside["objective"].idxmin(), "trial_id"]
        assert row["group"].startswith("wd=[")
    json.dumps(best.drop(columns=["scientific"]).to_dict("records"))
    json.dumps(best["scientific"].tolist())


def test_without_scientific_hyperparameters_each_study_is_one_group():
    data = synthetic.sweep(synthetic.experiment(), lambda p: p["lr"])
    [group] = scientific_groups(data)
    assert group.label == "default" and group.scientific == {}
    assert best_per_scientific_value(data)["lr"].iloc[0] == data.trials["lr"].min()


def test_empty_results_keep_their_columns():
    exp = synthetic.experiment(scientific={"width": [1, 2]})
    data = synthetic.frames(exp, [("width=1", {"width": 1, "lr": 0.1}, None)])
    assert best_per_study(data).empty and "lr" in best_per_study(data).columns
    assert best_per_scientific_value(data).empty and scientific_groups(data) == []
    assert np.isnan(data.trials["objective"]).all()
