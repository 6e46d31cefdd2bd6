"""The random sampler: seeded, uniform, independent, a pure function of the trial number."""

from __future__ import annotations

import concurrent.futures
import random

import numpy as np
import pytest
from scipy import stats

from tunebook.search import RandomSampler

from .specs import nuisance_spec, only_sampler, spec, trial_slice, trials

UNIT = {"low": 0.0, "high": 1.0}
SIX_DIMS = {name: dict(UNIT) for name in "abcdef"}  # more dims than one Philox block (4)


def test_uses_the_random_sampler():
    sampler = only_sampler(spec(algorithm="random"))
    assert isinstance(sampler, RandomSampler)
    assert sampler.size is None


def test_same_seed_same_trials():
    assert trials(spec(algorithm="random", seed=5), 50) == trials(spec(algorithm="random", seed=5), 50)


def test_different_seeds_differ():
    a, b = trials(spec(algorithm="random", seed=5), 50), trials(spec(algorithm="random", seed=6), 50)
    for key in ("learning_rate", "weight_decay"):
        assert len({p[key] for p in a} & {p[key] for p in b}) == 0


def test_not_the_quasi_random_sequence():
    assert trials(spec(algorithm="random"), 20) != trials(spec(algorithm="quasi_random"), 20)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_dimension_is_uniform(seed):
    params = trials(nuisance_spec(SIX_DIMS, algorithm="random", seed=seed), 1000)
    for name in SIX_DIMS:
        values = [p[name] for p in params]
        assert stats.kstest(values, "uniform").pvalue > 0.01, name
        assert min(values) < 0.01 and max(values) > 0.99, name


def test_consecutive_trials_are_independent():
    # Trial k must not reuse the draws of trial k+1 (as a stream keyed only by
    # a counter of k would do once a branch has more than four dims).
    params = trials(nuisance_spec(SIX_DIMS, algorithm="random"), 500)
    rows = np.array([[p[name] for name in SIX_DIMS] for p in params])
    for i in range(len(rows) - 1):
        assert not set(rows[i]) & set(rows[i + 1]), f"trials {i} and {i + 1} share values"
    for lag in (1, 2):
        for a in range(6):
            for b in range(6):
                r = np.corrcoef(rows[:-lag, a], rows[lag:, b])[0, 1]
                assert abs(r) < 0.2, (lag, a, b, r)


def test_values_within_a_trial_are_independent():
    params = trials(nuisance_spec(SIX_DIMS, algorithm="random"), 500)
    rows = np.array([[p[name] for name in SIX_DIMS] for p in params])
    corr = np.corrcoef(rows.T)
    assert (np.abs(corr - np.eye(6)) < 0.2).all()


def test_branches_honoured_and_both_taken():
    params = trials(spec(algorithm="random"), 200)
    adam = [p for p in params if p["optimizer"] == "adam"]
    assert 60 < len(adam) < 140
    for p in params:
        assert ("beta1[optimizer=adam]" in p) == (p["optimizer"] == "adam")
        assert ("momentum[optimizer=sgd]" in p) == (p["optimizer"] == "sgd")


def test_pure_function_of_the_trial_number():
    data = spec(algorithm="random", seed=9)
    in_order = trials(data, 80)
    numbers = list(range(80))
    random.Random(0).shuffle(numbers)
    sampler = only_sampler(data)
    shuffled = {i: sampler.params(i) for i in numbers}
    assert [shuffled[i] for i in range(80)] == in_order
    assert only_sampler(data).params(79) == in_order[79]
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(trial_slice, [data, data], [0, 40], [40, 80]))
    assert parts[0] + parts[1] == in_order
