"""Grid search: every combination, ranges on their own scale, branches honoured."""

from __future__ import annotations

import itertools
import math

import pytest

from tunebook.core.errors import SpecError
from tunebook.core.experiment import Experiment
from tunebook.search import ListSampler, make_sampler, sample, study_budget

from .specs import nuisance_spec, only_sampler


def grid_spec(nuisance, resolution=5, **search):
    return nuisance_spec(nuisance, algorithm="grid", resolution=resolution, trials=None, **search)


def all_trials(sampler):
    return [sampler.params(i) for i in range(sampler.size)]


def test_product_of_values_last_one_fastest():
    data = grid_spec({
        "learning_rate": {"low": 1e-4, "high": 1e-1, "scale": "log"},
        "activation": ["relu", "gelu", "tanh"],
    }, resolution=4)
    data["fixed"] = {"batch_size": 32}
    sampler = only_sampler(data)
    assert isinstance(sampler, ListSampler)
    assert sampler.size == 12
    got = all_trials(sampler)
    lrs = [1e-4, 1e-3, 1e-2, 1e-1]
    expected = [(lr, act) for lr, act in itertools.product(lrs, ["relu", "gelu", "tanh"])]
    assert [(p["learning_rate"], p["activation"]) for p in got] == [
        (pytest.approx(lr, rel=1e-12), act) for lr, act in expected
    ]
    assert all(p["batch_size"] == 32 for p in got)
    assert len({(p["learning_rate"], p["activation"]) for p in got}) == 12


def test_log_range_is_log_spaced_with_exact_ends():
    sampler = only_sampler(grid_spec({"eps": {"low": 1e-9, "high": 1e-3, "scale": "log"}}, resolution=7))
    values = [p["eps"] for p in all_trials(sampler)]
    assert values[0] == 1e-9 and values[-1] == 1e-3  # the ends exactly, not exp(log(x))
    ratios = [b / a for a, b in zip(values, values[1:])]
    assert ratios == pytest.approx([10.0] * 6, rel=1e-9)


def test_linear_range_is_evenly_spaced_with_ends():
    sampler = only_sampler(grid_spec({"dropout": {"low": 0.0, "high": 0.5}}, resolution=6))
    assert [p["dropout"] for p in all_trials(sampler)] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])


def test_int_ranges_give_distinct_ints_in_bounds():
    sampler = only_sampler(grid_spec({
        "width": {"low": 16, "high": 1024, "scale": "log", "type": "int"},
        "depth": {"low": 1, "high": 3, "type": "int"},
    }, resolution=7))
    got = all_trials(sampler)
    widths = sorted({p["width"] for p in got})
    assert widths == [16, 32, 64, 128, 256, 512, 1024]
    assert sorted({p["depth"] for p in got}) == [1, 2, 3]  # 7 points on [1, 3] collapse to 3 ints
    assert sampler.size == 21
    assert all(isinstance(p["width"], int) and isinstance(p["depth"], int) for p in got)


def test_resolution_one_takes_the_middle():
    sampler = only_sampler(grid_spec({
        "lr": {"low": 1e-4, "high": 1e-2, "scale": "log"}, "dropout": {"low": 0.0, "high": 0.4},
    }, resolution=1))
    (only,) = all_trials(sampler)
    assert only["lr"] == pytest.approx(1e-3) and only["dropout"] == pytest.approx(0.2)


def test_branches_are_crossed_only_with_their_own_trials():
    sampler = only_sampler(grid_spec({
        "optimizer": ["adam", "sgd"],
        "optimizer=adam": {"beta1": {"low": 0.8, "high": 0.99}},
    }, resolution=3))
    assert all_trials(sampler) == [
        {"optimizer": "adam", "beta1[optimizer=adam]": 0.8},
        {"optimizer": "adam", "beta1[optimizer=adam]": pytest.approx(0.895)},
        {"optimizer": "adam", "beta1[optimizer=adam]": 0.99},
        {"optimizer": "sgd"},
    ]
    assert sampler.size == 4


def test_one_grid_per_scientific_value_and_budget_is_the_grid():
    data = {
        "name": "grid-per-value",
        "objective": "loss",
        "scientific": {"optimizer": ["adam", "sgd"]},
        "nuisance": {
            "optimizer=adam": {"learning_rate": {"low": 1e-4, "high": 1e-2, "scale": "log"}},
            "optimizer=sgd": {
                "learning_rate": {"low": 1e-3, "high": 1.0, "scale": "log"},
                "momentum": {"low": 0.0, "high": 0.9},
            },
        },
        "search": {"algorithm": "grid", "resolution": 3},
    }
    experiment = Experiment.from_dict(data)
    sizes = {}
    for plan in experiment.studies():
        sampler = make_sampler(experiment, plan)
        sizes[plan.key] = sampler.size
        assert study_budget(experiment, sampler) == sampler.size
    assert sizes == {"optimizer=adam": 3, "optimizer=sgd": 9}
    planned = sample(experiment)
    assert len(planned) == 12
    sgd = [t.params for t in planned if t.study == "optimizer=sgd"]
    assert sorted({p["momentum[optimizer=sgd]"] for p in sgd}) == pytest.approx([0.0, 0.45, 0.9])
    assert all(p["optimizer"] == "sgd" and "learning_rate[optimizer=adam]" not in p for p in sgd)


def test_trials_caps_the_grid_and_indices_past_it_fail():
    data = grid_spec({"a": {"low": 0.0, "high": 1.0}, "b": ["x", "y"]}, resolution=5)
    data["search"]["trials"] = 4
    experiment = Experiment.from_dict(data)
    sampler = only_sampler(data)
    assert sampler.size == 10
    assert study_budget(experiment, sampler) == 4
    assert len(sample(experiment)) == 4
    assert len(sample(experiment, n=100)) == 10  # never past the grid
    with pytest.raises(IndexError):
        sampler.params(10)


def test_grid_over_three_hyperparameters_is_refused_at_load():
    data = grid_spec({
        "learning_rate": {"low": 1e-4, "high": 1.0, "scale": "log"},
        "dropout": {"low": 0.0, "high": 0.5},
        "warmup": {"low": 0.0, "high": 0.1},
    })
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(data)
    message = str(info.value)
    assert "grid" in message
    for name in ("learning_rate", "dropout", "warmup"):
        assert name in message
    assert [path for path, _ in info.value.problems] == ["search.algorithm"]


def test_grid_limit_counts_what_one_trial_varies_not_every_branch():
    # Each trial varies optimizer and one of beta1/momentum: two dimensions.
    branches = {
        "optimizer": ["adam", "sgd"],
        "optimizer=adam": {"beta1": {"low": 0.8, "high": 0.99}},
        "optimizer=sgd": {"momentum": {"low": 0.0, "high": 0.99}},
    }
    trials = all_trials(only_sampler(grid_spec(branches, resolution=3)))
    assert len(trials) == 6
    assert {t["optimizer"] for t in trials if "beta1[optimizer=adam]" in t} == {"adam"}
    # A range that every trial varies makes three: rejected, naming them.
    data = grid_spec({**branches, "lr": {"low": 0.01, "high": 1.0}})
    with pytest.raises(SpecError, match=r"varies 3 of .*beta1\[optimizer=adam\].*momentum\[optimizer=sgd\]"):
        Experiment.from_dict(data)


def test_log_grid_points_are_uniform_in_log_space():
    sampler = only_sampler(grid_spec({"lr": {"low": 2e-5, "high": 3.0, "scale": "log"}}, resolution=9))
    logs = [math.log(p["lr"]) for p in all_trials(sampler)]
    steps = [b - a for a, b in zip(logs, logs[1:])]
    assert steps == pytest.approx([steps[0]] * 8, rel=1e-9)
