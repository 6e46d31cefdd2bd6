"""make_sampler, sample and study_budget: studies, value mapping, and properties of any range."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from tunebook.core.experiment import Experiment
from tunebook.core.records import plain_name
from tunebook.search import (
    ListSampler, PlannedTrial, QuasiRandomSampler, RandomSampler, make_sampler, sample, study_budget,
)

from .specs import nuisance_spec, spec, trials

SAMPLERS = ["quasi_random", "random"]

DEPTH = {
    "name": "digits-depth",
    "objective": {"metric": "valid/error", "mode": "min", "reduce": "best"},
    "scientific": {"num_layers": [1, 2, 3]},
    "nuisance": {
        "learning_rate": {"low": 1e-4, "high": 1.0, "scale": "log"},
        "dropout": {"low": 0.0, "high": 0.5},
        "optimizer": ["adam", "sgd"],
        "optimizer=adam": {"beta1": {"low": 0.8, "high": 0.99}},
        "optimizer=sgd": {"momentum": {"low": 0.0, "high": 0.99}},
    },
    "fixed": {"batch_size": 128, "max_train_steps": 2000},
    "search": {"algorithm": "quasi_random", "trials": 20, "studies": "per_scientific_value", "seed": 0},
}


# ------------------------------------------------------------ studies, budget


@pytest.mark.parametrize(
    ("algorithm", "kind"),
    [("quasi_random", QuasiRandomSampler), ("random", RandomSampler)],
)
def test_make_sampler_follows_search_algorithm(algorithm, kind):
    experiment = Experiment.from_dict(spec(DEPTH, algorithm=algorithm))
    for plan in experiment.studies():
        assert isinstance(make_sampler(experiment, plan), kind)


def test_one_study_per_scientific_value_each_with_the_budget():
    experiment = Experiment.from_dict(spec(DEPTH))
    planned = sample(experiment)
    assert all(isinstance(t, PlannedTrial) for t in planned)
    by_study = collections.defaultdict(list)
    for t in planned:
        by_study[t.study].append(t)
    assert sorted(by_study) == ["num_layers=1", "num_layers=2", "num_layers=3"]
    for key, study in by_study.items():
        assert [t.number for t in study] == list(range(20))
        for t in study:
            assert t.params["num_layers"] == int(key.split("=")[1])
            assert t.params["batch_size"] == 128 and t.params["max_train_steps"] == 2000
            assert 1e-4 <= t.params["learning_rate"] <= 1.0
    for plan in experiment.studies():
        assert study_budget(experiment, make_sampler(experiment, plan)) == 20


def test_sample_n_overrides_the_budget():
    experiment = Experiment.from_dict(spec(DEPTH))
    assert len(sample(experiment, n=5)) == 15
    assert len(sample(experiment, n=0)) == 0


def test_sample_is_the_same_as_the_samplers():
    experiment = Experiment.from_dict(spec(DEPTH))
    planned = {(t.study, t.number): t.params for t in sample(experiment)}
    for plan in experiment.studies():
        sampler = make_sampler(experiment, plan)
        for i in range(20):
            assert planned[(plan.key, i)] == sampler.params(i)


def test_conditional_nuisance_under_a_scientific_parent():
    data = {
        "name": "optimizers",
        "objective": "loss",
        "scientific": {"optimizer": ["adam", "sgd"]},
        "nuisance": {
            "optimizer=adam": {"learning_rate": {"low": 1e-5, "high": 1e-2, "scale": "log"}},
            "optimizer=sgd": {"learning_rate": {"low": 1e-3, "high": 1.0, "scale": "log"}},
            "weight_decay": {"low": 0.0, "high": 0.1},
        },
        "fixed": {"batch_size": 64},
        "search": {"trials": 16},
    }
    planned = sample(Experiment.from_dict(data))
    assert {t.study for t in planned} == {"optimizer=adam", "optimizer=sgd"}
    for t in planned:
        optimizer = t.study.split("=")[1]
        assert set(t.params) == {
            "optimizer", "weight_decay", "batch_size", f"learning_rate[optimizer={optimizer}]",
        }
        assert t.params["optimizer"] == optimizer
        plain = {plain_name(k): v for k, v in t.params.items()}
        assert set(plain) == {"optimizer", "weight_decay", "batch_size", "learning_rate"}
        low, high = (1e-5, 1e-2) if optimizer == "adam" else (1e-3, 1.0)
        assert low <= plain["learning_rate"] <= high
    assert sum(t.study == "optimizer=adam" for t in planned) == 16


def test_no_scientific_values_make_one_default_study():
    planned = sample(Experiment.from_dict(spec(trials=7)))
    assert {t.study for t in planned} == {"default"}
    assert len(planned) == 7


@pytest.mark.parametrize("algorithm", SAMPLERS)
def test_joint_study_samples_scientific_values_uniformly(algorithm):
    n = 200
    data = spec(DEPTH, studies="joint", trials=3 * n, algorithm=algorithm)
    planned = sample(Experiment.from_dict(data))
    assert {t.study for t in planned} == {"joint"}
    counts = collections.Counter(t.params["num_layers"] for t in planned)
    tolerance = 6 if algorithm == "quasi_random" else 50  # random: ~4 sigma
    assert all(abs(counts[v] - n) <= tolerance for v in (1, 2, 3)), counts


@pytest.mark.parametrize("algorithm", SAMPLERS)
def test_joint_study_with_a_scientific_range(algorithm):
    data = spec(DEPTH, studies="joint", trials=500, algorithm=algorithm)
    data["scientific"] = {"label_smoothing": {"low": 0.0, "high": 0.2}}
    planned = sample(Experiment.from_dict(data))
    values = [t.params["label_smoothing"] / 0.2 for t in planned]
    assert stats.kstest(values, "uniform").pvalue > 0.01


# ------------------------------------------------------- value mapping, no bias


@pytest.mark.parametrize("algorithm", SAMPLERS)
@pytest.mark.parametrize("seed", [0, 1])
def test_log_range_is_uniform_in_log_space(algorithm, seed):
    params = trials(nuisance_spec({"lr": {"low": 1e-6, "high": 10.0, "scale": "log"}}, algorithm=algorithm, seed=seed), 1000)
    logs = np.log10([p["lr"] for p in params])
    assert stats.kstest(logs, "uniform", args=(-6, 7)).pvalue > 0.01
    # and not uniform on the linear scale: most values are tiny
    assert np.mean(np.array([p["lr"] for p in params]) < 1.0) > 0.8


def _chi_square_p(observed: collections.Counter, expected: dict[int, float]) -> float:
    keys = sorted(expected)
    return stats.chisquare([observed[k] for k in keys], [expected[k] for k in keys]).pvalue


@pytest.mark.parametrize("algorithm", SAMPLERS)
def test_linear_int_range_gives_each_integer_its_share(algorithm):
    n = 1200
    params = trials(nuisance_spec({"depth": {"low": -2, "high": 9, "type": "int"}}, algorithm=algorithm), n)
    values = [p["depth"] for p in params]
    assert all(type(v) is int and -2 <= v <= 9 for v in values)
    counts = collections.Counter(values)
    assert set(counts) == set(range(-2, 10))  # the ends too
    assert _chi_square_p(counts, {k: n / 12 for k in range(-2, 10)}) > 0.001


@pytest.mark.parametrize("algorithm", SAMPLERS)
def test_log_int_range_gives_each_integer_its_log_share(algorithm):
    n, low, high = 3000, 1, 20
    params = trials(nuisance_spec({"width": {"low": low, "high": high, "scale": "log", "type": "int"}}, algorithm=algorithm), n)
    values = [p["width"] for p in params]
    assert all(type(v) is int and low <= v <= high for v in values)
    counts = collections.Counter(values)
    assert set(counts) == set(range(low, high + 1))
    # integer v owns [v - 1/2, v + 1/2] in log space
    total = math.log((high + 0.5) / (low - 0.5))
    expected = {v: n * math.log((v + 0.5) / (v - 0.5)) / total for v in range(low, high + 1)}
    assert _chi_square_p(counts, expected) > 0.001
    assert counts[1] > 5 * counts[20]  # small widths are favoured, as log scale means


@pytest.mark.parametrize("algorithm", SAMPLERS)
def test_choice_categories_equally_often(algorithm):
    n = 300
    params = trials(nuisance_spec({
        "a": {"low": 0.0, "high": 1.0}, "act": ["relu", "gelu", "tanh"], "b": {"low": 0.0, "high": 1.0},
    }, algorithm=algorithm), 3 * n)
    counts = collections.Counter(p["act"] for p in params)
    tolerance = 6 if algorithm == "quasi_random" else 55  # random: ~4 sigma
    assert all(abs(counts[v] - n) <= tolerance for v in ("relu", "gelu", "tanh")), counts


def test_choice_values_keep_their_types():
    params = trials(nuisance_spec({"flag": [True, False], "width": [64, 128], "mode": ["a", None]}), 40)
    assert {type(p["flag"]) for p in params} == {bool}
    assert {p["width"] for p in params} == {64, 128} and {type(p["width"]) for p in params} == {int}
    assert {p["mode"] for p in params} == {"a", None}


# ------------------------------------------------------- properties (Hypothesis)


@st.composite
def ranges(draw):
    """Any valid range as a spec writes it: low < high, log needs low > 0, int needs whole bounds."""
    kind = draw(st.sampled_from(["float", "int"]))
    scale = draw(st.sampled_from(["linear", "log"]))
    if kind == "int":
        low = draw(st.integers(1 if scale == "log" else -10**6, 10**6))
        high = draw(st.integers(low + 1, low + draw(st.sampled_from([1, 10, 10**3, 10**6]))))
    elif scale == "log":
        low = draw(st.floats(1e-12, 1e9))
        high = low * draw(st.floats(1.0 + 1e-9, 1e6))
    else:
        low = draw(st.floats(-1e9, 1e9))
        high = low + draw(st.floats(1e-6, 1e9))
    if not high > low:  # the factor or width was lost to rounding
        high = math.nextafter(low, math.inf)
    return {"low": low, "high": high, "scale": scale, "type": kind}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    domain=ranges(),
    algorithm=st.sampled_from(SAMPLERS),
    seed=st.integers(0, 2**31),
    numbers=st.lists(st.integers(0, 10**9), min_size=1, max_size=5),
)
def test_every_sampled_value_lies_in_its_range(domain, algorithm, seed, numbers):
    data = nuisance_spec({"x": domain, "c": ["p", "q", "r"]}, algorithm=algorithm, seed=seed)
    experiment = Experiment.from_dict(data)
    (plan,) = experiment.studies()
    sampler = make_sampler(experiment, plan)
    low, high = experiment.space["x"].domain.low, experiment.space["x"].domain.high
    for number in numbers + list(range(20)):
        value = sampler.params(number)["x"]
        assert low <= value <= high, (value, domain)
        if domain["type"] == "int":
            assert type(value) is int
        else:
            assert isinstance(value, float) and math.isfinite(value)


@settings(max_examples=30, deadline=None)
@given(
    lows=st.lists(st.floats(1e-6, 1.0), min_size=1, max_size=3),
    seed=st.integers(0, 2**31),
    number=st.integers(0, 10**6),
    algorithm=st.sampled_from(SAMPLERS),
)
def test_branch_values_lie_in_the_branch_ranges(lows, seed, number, algorithm):
    branches = {f"b{i}": {"v": {"low": low, "high": low * 10, "scale": "log"}} for i, low in enumerate(lows)}
    nuisance = {"arm": [f"b{i}" for i in range(len(lows))]}
    nuisance.update({f"arm=b{i}": block for i, block in enumerate(branches.values())})
    if len(lows) == 1:
        nuisance["arm"].append("none")
    data = nuisance_spec(nuisance, algorithm=algorithm, seed=seed)
    experiment = Experiment.from_dict(data)
    (plan,) = experiment.studies()
    params = make_sampler(experiment, plan).params(number)
    arm = params["arm"]
    others = {k for k in params if k.startswith("v[")}
    if arm == "none":
        assert others == set()
    else:
        low = lows[int(arm[1:])]
        assert others == {f"v[arm={arm}]"}
        assert low <= params[f"v[arm={arm}]"] <= low * 10


def test_list_samplers_report_their_size_and_others_none():
    grid = Experiment.from_dict(nuisance_spec({"a": ["x", "y"]}, algorithm="grid"))
    (plan,) = grid.studies()
    sampler = make_sampler(grid, plan)
    assert isinstance(sampler, ListSampler) and sampler.size == 2
    assert study_budget(grid, sampler) == 2
    quasi = Experiment.from_dict(nuisance_spec({"a": ["x", "y"]}, trials=9))
    (plan,) = quasi.studies()
    assert make_sampler(quasi, plan).size is None
    assert study_budget(quasi, make_sampler(quasi, plan)) == 9
