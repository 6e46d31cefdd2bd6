"""Experiments: the example spec, studies per scientific value, joint and default, search checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunebook.core import Choice, Experiment, Fixed, Objective, Range, SearchConfig, StudyPlan

from tests.core.specs import BASE, edit, message_for, problems_of, spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "specs" / "digits-depth.yaml"


@pytest.fixture(scope="module")
def example() -> Experiment:
    return Experiment.from_yaml(str(EXAMPLE))


def test_example_spec_loads(example):
    assert example.name == "digits-depth"
    assert example.goal == "Does a deeper MLP lower validation error?"
    assert example.notes == "free text"
    assert example.objective == Objective("valid/error", "min", "best")
    assert example.search == SearchConfig("quasi_random", 20, "per_scientific_value", 0)
    assert [(hp.id, hp.role, hp.domain) for hp in example.space] == [
        ("num_layers", "scientific", Choice((1, 2, 3))),
        ("learning_rate", "nuisance", Range(1e-4, 1.0, "log", "float")),
        ("dropout", "nuisance", Range(0.0, 0.5, "linear", "float")),
        ("optimizer", "nuisance", Choice(("adam", "sgd"))),
        ("batch_size", "fixed", Fixed(128)),
        ("max_train_steps", "fixed", Fixed(2000)),
        ("beta1[optimizer=adam]", "nuisance", Range(0.8, 0.99)),
        ("momentum[optimizer=sgd]", "nuisance", Range(0.0, 0.99)),
    ]
    assert type(example.space["learning_rate"].domain.low) is float  # 1e-4 read as a number
    assert [hp.id for hp in example.caveats] == ["batch_size", "max_train_steps"]


def test_example_has_one_study_per_depth(example):
    plans = example.studies()
    assert [p.key for p in plans] == ["num_layers=1", "num_layers=2", "num_layers=3"]
    for depth, plan in zip((1, 2, 3), plans):
        assert isinstance(plan, StudyPlan)
        assert plan.scientific == {"num_layers": depth}
        assert plan.space["num_layers"].domain == Fixed(depth)
        assert plan.space["num_layers"].role == "scientific"
        assert [hp.id for hp in plan.space.varied] == [
            "learning_rate", "dropout", "optimizer", "beta1[optimizer=adam]", "momentum[optimizer=sgd]",
        ]


def test_scientific_branches_shape_the_studies():
    e = Experiment.from_dict(spec(
        scientific={"optimizer": ["adam", "sgd"], "optimizer=adam": {"amsgrad": [True, False]}},
        nuisance={"lr": [0.1, 0.01], "optimizer=sgd": {"momentum": {"low": 0.0, "high": 0.99}}},
    ))
    plans = e.studies()
    assert [p.key for p in plans] == [
        "optimizer=adam,amsgrad[optimizer=adam]=true",
        "optimizer=adam,amsgrad[optimizer=adam]=false",
        "optimizer=sgd",
    ]
    assert [p.scientific for p in plans] == [
        {"optimizer": "adam", "amsgrad[optimizer=adam]": True},
        {"optimizer": "adam", "amsgrad[optimizer=adam]": False},
        {"optimizer": "sgd"},
    ]
    adam_ids = {hp.id for hp in plans[0].space}
    sgd_ids = {hp.id for hp in plans[2].space}
    assert "momentum[optimizer=sgd]" not in adam_ids and "amsgrad[optimizer=adam]" in adam_ids
    assert "momentum[optimizer=sgd]" in sgd_ids and "amsgrad[optimizer=adam]" not in sgd_ids
    assert plans[0].space["amsgrad[optimizer=adam]"].domain == Fixed(True)


def test_scientific_branch_two_deep():
    e = Experiment.from_dict(spec(scientific={
        "arch": ["mlp", "cnn"],
        "arch=cnn": {"kernel": [3, 5], "kernel=5": {"dilated": [True, False]}},
    }))
    assert [p.key for p in e.studies()] == [
        "arch=mlp",
        "arch=cnn,kernel[arch=cnn]=3",
        "arch=cnn,kernel[arch=cnn]=5,dilated[arch=cnn,kernel=5]=true",
        "arch=cnn,kernel[arch=cnn]=5,dilated[arch=cnn,kernel=5]=false",
    ]


def test_two_scientific_hyperparameters_give_every_combination():
    e = Experiment.from_dict(spec(scientific={"depth": [1, 2, 3], "act": ["relu", "gelu"]}))
    keys = [p.key for p in e.studies()]
    assert keys == [f"depth={d},act={a}" for d in (1, 2, 3) for a in ("relu", "gelu")]


def test_joint_is_one_study_keeping_scientific_values_varied():
    e = Experiment.from_dict(spec(search={"trials": 30, "studies": "joint"}))
    (plan,) = e.studies()
    assert plan.key == "joint"
    assert plan.scientific == {}
    assert plan.space == e.space
    assert plan.space["num_layers"].is_varied


def test_joint_allows_a_scientific_range():
    e = Experiment.from_dict(spec(
        scientific={"width": {"low": 16, "high": 512, "scale": "log", "type": "int"}},
        search={"trials": 30, "studies": "joint"},
    ))
    assert [p.key for p in e.studies()] == ["joint"]


@pytest.mark.parametrize("studies", ["per_scientific_value", "joint"])
def test_no_scientific_is_one_default_study(studies):
    e = Experiment.from_dict(spec(scientific=None, search={"trials": 5, "studies": studies}))
    (plan,) = e.studies()
    assert plan.key == "default" and plan.scientific == {} and plan.space == e.space


def test_scientific_range_is_an_error_per_scientific_value():
    problems = problems_of(spec(scientific={"width": {"low": 16, "high": 512}, "depth": {"low": 1, "high": 4}}))
    assert [p for p, _ in problems] == ["scientific.width", "scientific.depth"]  # both at once
    assert "set search.studies: joint" in problems[0][1]


def test_scientific_range_inside_a_scientific_branch_is_an_error():
    problems = problems_of(spec(scientific={"arch": ["mlp", "cnn"], "arch=cnn": {"kernel": {"low": 1, "high": 7}}}))
    assert "a range cannot be split" in message_for(problems, "scientific.kernel[arch=cnn]")


def test_caveats_are_the_fixed_hyperparameters():
    e = Experiment.from_dict(spec(fixed={"batch_size": 128, "optimizer=adam": {"eps": 1e-8}}))
    assert [(hp.id, hp.domain) for hp in e.caveats] == [
        ("batch_size", Fixed(128)), ("eps[optimizer=adam]", Fixed(1e-8)),
    ]
    assert Experiment.from_dict(spec(fixed=None)).caveats == ()


# --- grid and explicit -----------------------------------------------------------


def _grid(**sections):
    return spec(search={"algorithm": "grid"}, **sections)


def test_grid_with_three_varied_is_an_error():
    problems = problems_of(_grid(scientific=None, nuisance={"a": [1, 2], "b": [1, 2], "c": {"low": 0, "high": 1}}))
    message = message_for(problems, "search.algorithm")
    assert "at most 2" in message and "varies 3 of a, b, c" in message and "quasi_random" in message


def test_grid_with_two_varied_is_fine_and_single_values_do_not_count():
    e = Experiment.from_dict(_grid(
        scientific=None, nuisance={"a": [1, 2], "b": {"low": 0, "high": 1}, "c": ["only"]}, fixed={"d": 1},
    ))
    assert e.search.algorithm == "grid"


def test_grid_counts_per_study():
    # Per scientific value, num_layers is fixed in each study: two varied.
    sections = {"scientific": {"num_layers": [1, 2]}, "nuisance": {"a": [1, 2], "b": [1, 2]}}
    assert Experiment.from_dict(_grid(**sections)).search.algorithm == "grid"
    # Jointly, num_layers varies too: three.
    joint = spec(search={"algorithm": "grid", "studies": "joint"}, **sections)
    assert "varies 3 of num_layers, a, b" in message_for(problems_of(joint), "search.algorithm")


def test_explicit_points_are_checked_in_every_study():
    data = spec(
        search={"algorithm": "explicit", "points": [{"lr": 0.1}, {"lr": 5.0, "wd": 1}]},
        scientific={"optimizer": ["adam", "sgd"]},
        nuisance={"lr": {"low": 0.01, "high": 1.0}, "optimizer=adam": {"beta1": [0.9, 0.95]}},
    )
    problems = problems_of(data)
    # a mistake every study shares is reported once; one only some studies see names them
    assert ("search.points[1].lr", "5.0 is outside lr's domain [0.01, 1]") in problems
    assert ("search.points[1].wd", "is not a searched hyperparameter for these values") in problems
    message = message_for(problems, "search.points[0].beta1")
    assert "is missing" in message and message.endswith("(study optimizer=adam)")
    assert len(problems) == 4


def test_explicit_point_missing_a_branch_hyperparameter():
    data = spec(
        scientific=None,
        search={"algorithm": "explicit", "points": [{"optimizer": "adam"}, {"optimizer": "sgd"}]},
        nuisance={"optimizer": ["adam", "sgd"], "optimizer=adam": {"beta1": [0.9, 0.95]}},
    )
    problems = problems_of(data)
    assert [p for p, _ in problems] == ["search.points[0].beta1"]
    assert "beta1[optimizer=adam] takes values in {0.9, 0.95}" in problems[0][1]


def test_base_spec_is_valid():
    # The tables in the other files edit BASE; it must be valid as written.
    e = Experiment.from_dict(BASE)
    assert [p.key for p in e.studies()] == ["num_layers=1", "num_layers=2"]
    assert e == Experiment.from_dict(edit(BASE, "goal", BASE["goal"]))
