"""The quasi-random sampler: branch-local sequences, purity, thread safety, far jumps."""

from __future__ import annotations

import concurrent.futures
import random
import time

import numpy as np
import pytest
from scipy.stats import qmc

from tunebook.search import QuasiRandomSampler

from .specs import adam_unit_points, nuisance_spec, only_sampler, spec, to_unit, trial_slice, trials

SEEDS = range(30)


# ---------------------------------------------------------------- branch-local


def test_each_branch_gets_its_own_params_only():
    for params in trials(spec(), 64):
        assert params["batch_size"] == 128
        if params["optimizer"] == "adam":
            assert "beta1[optimizer=adam]" in params and "eps[optimizer=adam]" in params
            assert "momentum[optimizer=sgd]" not in params
        else:
            assert params["optimizer"] == "sgd"
            assert "momentum[optimizer=sgd]" in params
            assert "beta1[optimizer=adam]" not in params and "eps[optimizer=adam]" not in params


def test_adam_branch_is_low_discrepancy_among_its_own_trials():
    """The adam trials' (beta1, eps) cover their square far more evenly than random points.

    This is what branch-local sequences are for: the k-th trial to enter a
    branch takes point k of the branch's own sequence. Reading the branch's
    params from a global index instead leaves an irregular subsequence.
    """
    rng = np.random.default_rng(2024)
    sampled, random_, per_seed = [], [], []
    for seed in SEEDS:
        points = adam_unit_points(trials(spec(seed=seed), 64))
        assert 20 <= len(points) <= 44  # about half of 64 trials are adam
        assert ((points >= 0) & (points <= 1)).all()
        ours = qmc.discrepancy(points)
        theirs = qmc.discrepancy(rng.random(points.shape))
        sampled.append(ours)
        random_.append(theirs)
        per_seed.append(ours / theirs)
    ratio = np.mean(sampled) / np.mean(random_)
    # Measured: mean 0.10x random, worst seed 0.16x the random mean and 0.27x
    # its own random draw. Reading the branch at the global trial index
    # measured 0.26x here (worst seed 1.9x its random draw); the issue that
    # asked for branch-local sequences measured up to 1.6x for that design.
    assert ratio < 0.25, f"adam branch discrepancy is {ratio:.2f}x random"
    assert max(sampled) < 0.5 * np.mean(random_)
    assert max(per_seed) < 1.0


def test_first_trials_of_a_branch_fill_its_range_evenly():
    # momentum is the only dim of the sgd branch, so it runs a base-2 sequence:
    # the first 16 sgd trials put one momentum in each sixteenth of [0, 0.99],
    # however the sgd trials are scattered among the adam ones.
    for seed in range(5):
        sgd = [p for p in trials(spec(seed=seed), 80) if p["optimizer"] == "sgd"][:16]
        assert len(sgd) == 16
        slices = [int(to_unit(p["momentum[optimizer=sgd]"], 0.0, 0.99) * 16) for p in sgd]
        assert sorted(slices) == list(range(16)), f"seed {seed}"


def test_nested_branch_fills_its_range_evenly():
    nested = nuisance_spec({
        "optimizer": ["adam", "sgd"],
        "optimizer=adam": {
            "schedule": ["cosine", "linear"],
            "beta1": {"low": 0.8, "high": 0.99},
            "schedule=cosine": {"warmup": {"low": 0.0, "high": 0.2}},
        },
    })
    params = trials(nested, 200)
    key = "warmup[optimizer=adam,schedule=cosine]"
    for p in params:
        inside = p["optimizer"] == "adam" and p["schedule[optimizer=adam]"] == "cosine"
        assert (key in p) == inside
    cosine = [p[key] for p in params if key in p][:16]
    assert len(cosine) == 16
    assert sorted(int(w / 0.2 * 16) for w in cosine) == list(range(16))


@pytest.mark.parametrize("position", range(4))
def test_choice_categories_come_up_equally_often(position):
    # The choice sits at dimension `position`, so it runs in base 2, 3, 5 or 7.
    names = ["a", "b", "c", "d"]
    nuisance = {name: {"low": 0.0, "high": 1.0} for name in names}
    nuisance[names[position]] = ["x", "y", "z"]
    n = 300
    for seed in range(3):
        column = [p[names[position]] for p in trials(nuisance_spec(nuisance, seed=seed), 3 * n)]
        counts = [column.count(v) for v in ("x", "y", "z")]
        assert all(abs(c - n) <= 6 for c in counts), counts  # 2%; random gives ~±16 (1 sigma)


# ------------------------------------------------------- reproducibility, purity

N_TRIALS = 120


@pytest.fixture(scope="module")
def in_order() -> list[dict]:
    return trials(spec(seed=3), N_TRIALS)


def test_same_trials_in_reverse_and_shuffled_order(in_order):
    sampler = only_sampler(spec(seed=3))
    reverse = {i: sampler.params(i) for i in reversed(range(N_TRIALS))}
    assert [reverse[i] for i in range(N_TRIALS)] == in_order
    numbers = list(range(N_TRIALS))
    random.Random(0).shuffle(numbers)
    sampler = only_sampler(spec(seed=3))
    shuffled = {i: sampler.params(i) for i in numbers}
    assert [shuffled[i] for i in range(N_TRIALS)] == in_order


def test_each_trial_alone_on_a_fresh_sampler(in_order):
    for i in (0, 1, 17, 63, 64, 119):
        assert only_sampler(spec(seed=3)).params(i) == in_order[i]


def test_resumed_study_continues_the_sequence(in_order):
    first = only_sampler(spec(seed=3))
    head = [first.params(i) for i in range(50)]
    resumed = only_sampler(spec(seed=3))  # a new process picking the study up again
    tail = [resumed.params(i) for i in range(50, N_TRIALS)]
    assert head + tail == in_order


@pytest.mark.parametrize("workers", [2, 4])
def test_same_trials_whatever_the_number_of_worker_processes(in_order, workers):
    size = -(-N_TRIALS // workers)
    bounds = [(start, min(start + size, N_TRIALS)) for start in range(0, N_TRIALS, size)]
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        parts = pool.map(trial_slice, [spec(seed=3)] * len(bounds), *zip(*bounds))
        assert [p for part in parts for p in part] == in_order


def test_same_trials_from_many_threads_on_one_sampler(in_order):
    sampler = only_sampler(spec(seed=3))
    numbers = list(range(N_TRIALS))
    random.Random(1).shuffle(numbers)
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        got = dict(zip(numbers, pool.map(sampler.params, numbers)))
    assert [got[i] for i in range(N_TRIALS)] == in_order


def test_different_seeds_give_different_trials(in_order):
    other = trials(spec(seed=4), N_TRIALS)
    for key in ("learning_rate", "weight_decay"):
        assert [p[key] for p in other] != [p[key] for p in in_order]


def test_negative_trial_number_is_refused():
    with pytest.raises(IndexError):
        only_sampler(spec()).params(-1)


def test_sampler_reports_no_size():
    sampler = only_sampler(spec())
    assert isinstance(sampler, QuasiRandomSampler)
    assert sampler.size is None


# ----------------------------------------------------------------- performance


def _best_time(spec_data: dict, number: int, repeats: int = 7) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        only_sampler(spec_data).params(number)
        best = min(best, time.perf_counter() - start)
    return best


def test_far_trial_costs_about_as_much_as_a_near_one():
    # Without branches a trial's point is computed from its own digits:
    # O(log k). Measured ratio ~1 for k = 10**9.
    flat = nuisance_spec({
        "a": {"low": 0.0, "high": 1.0},
        "b": {"low": 1e-3, "high": 1.0, "scale": "log"},
        "c": ["x", "y", "z"],
    })
    only_sampler(flat).params(0)  # warm imports and caches
    assert _best_time(flat, 10**9) < 50 * _best_time(flat, 10)


def test_far_trial_in_a_branched_space_needs_no_walk_through_earlier_trials():
    # A branch's index needs the count of earlier trials that entered it: one
    # vectorized pass, not a trial-by-trial walk. Measured ratio ~25 for
    # k = 100000; walking the trials one by one measures in the thousands.
    only_sampler(spec()).params(0)
    assert _best_time(spec(), 100_000) < 100 * _best_time(spec(), 10)
