"""Explicit search: the user's own trials, validated when the spec loads."""

from __future__ import annotations

import pytest

from tunebook.core.errors import SpecError
from tunebook.core.experiment import Experiment
from tunebook.search import ListSampler, sample, study_budget

from .specs import only_sampler

NUISANCE = {
    "learning_rate": {"low": 1e-4, "high": 1.0, "scale": "log"},
    "layers": {"low": 1, "high": 8, "type": "int"},
    "optimizer": ["adam", "sgd"],
    "optimizer=adam": {"beta1": {"low": 0.8, "high": 0.99}},
}


def explicit_spec(points, **search):
    return {
        "name": "explicit",
        "objective": "loss",
        "nuisance": NUISANCE,
        "fixed": {"batch_size": 256, "schedule": "cosine"},
        "search": {"algorithm": "explicit", "points": points, **search},
    }


GOOD = [
    {"learning_rate": 0.01, "layers": 2, "optimizer": "adam", "beta1": 0.9},
    {"learning_rate": 0.3, "layers": 8.0, "optimizer": "sgd"},
    {"learning_rate": 1e-4, "layers": 1, "optimizer": "adam", "beta1": 0.99},
]


def test_trials_are_the_points_with_fixed_values_filled_in():
    sampler = only_sampler(explicit_spec(GOOD))
    assert isinstance(sampler, ListSampler)
    assert sampler.size == 3
    got = [sampler.params(i) for i in range(3)]
    fixed = {"batch_size": 256, "schedule": "cosine"}
    assert got == [
        {**fixed, "learning_rate": 0.01, "layers": 2, "optimizer": "adam", "beta1[optimizer=adam]": 0.9},
        {**fixed, "learning_rate": 0.3, "layers": 8, "optimizer": "sgd"},
        {**fixed, "learning_rate": 1e-4, "layers": 1, "optimizer": "adam", "beta1[optimizer=adam]": 0.99},
    ]
    assert type(got[1]["layers"]) is int  # 8.0 written in the spec arrives as an int
    with pytest.raises(IndexError):
        sampler.params(3)


def test_budget_is_the_points_unless_trials_is_smaller():
    experiment = Experiment.from_dict(explicit_spec(GOOD))
    assert study_budget(experiment, only_sampler(explicit_spec(GOOD))) == 3
    assert [t.number for t in sample(experiment)] == [0, 1, 2]
    capped = Experiment.from_dict(explicit_spec(GOOD, trials=2))
    assert len(sample(capped)) == 2


def test_points_run_in_every_study_with_its_scientific_value():
    data = explicit_spec(GOOD)
    data["scientific"] = {"width": [64, 128]}
    planned = sample(Experiment.from_dict(data))
    assert {t.study for t in planned} == {"width=64", "width=128"}
    assert len(planned) == 6
    for t in planned:
        assert t.params["width"] == int(t.study.split("=")[1])


def _problems(points):
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(explicit_spec(points))
    return info.value


@pytest.mark.parametrize(
    ("bad", "path", "words"),
    [
        ({"learning_rate": 2.0}, "search.points[1].learning_rate", "outside"),
        ({"learning_rate": 0.0}, "search.points[1].learning_rate", "outside"),
        ({"layers": 2.5}, "search.points[1].layers", "outside"),
        ({"layers": 9}, "search.points[1].layers", "outside"),
        ({"optimizer": "rmsprop"}, "search.points[1].optimizer", "outside"),
        ({"beta1": 0.5}, "search.points[1].beta1", "outside"),
        ({"learning_rate": None}, "search.points[1].learning_rate", "outside"),
        ({"layers": True}, "search.points[1].layers", "outside"),
        ({"momentum": 0.9}, "search.points[1].momentum", "not a searched"),
    ],
)
def test_bad_value_or_unknown_name_names_the_field(bad, path, words):
    points = [dict(GOOD[0]), {**GOOD[2], **bad}]
    error = _problems(points)
    assert error.problems[0][0] == path
    # an unknown optimizer also leaves beta1 without its branch: reported too
    assert all(p.startswith("search.points[1].") for p, _ in error.problems)
    assert path in str(error) and words in str(error)


def test_missing_active_hyperparameter_names_the_field():
    missing_beta1 = {"learning_rate": 0.01, "layers": 2, "optimizer": "adam"}
    error = _problems([GOOD[0], GOOD[1], missing_beta1])
    assert [p for p, _ in error.problems] == ["search.points[2].beta1"]
    assert "missing" in str(error)


def test_branch_hyperparameter_given_outside_its_branch_is_refused():
    sgd_with_beta1 = {**GOOD[1], "beta1": 0.9}
    error = _problems([sgd_with_beta1])
    assert [p for p, _ in error.problems] == ["search.points[0].beta1"]


def test_every_bad_point_is_reported_at_once():
    error = _problems([{**GOOD[0], "layers": 0}, GOOD[1], {"learning_rate": 0.1, "optimizer": "sgd"}])
    assert sorted(p for p, _ in error.problems) == ["search.points[0].layers", "search.points[2].layers"]


def test_explicit_without_points_is_refused():
    data = explicit_spec([])
    with pytest.raises(SpecError, match=r"search\.points"):
        Experiment.from_dict(data)
