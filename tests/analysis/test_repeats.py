"""Repeats: trials that ran one configuration apart from the seed, in any study."""

from __future__ import annotations

from tests.analysis import synthetic as syn
from tunebook.analysis.repeats import configuration, repeat_groups, repeats_of


def _data():
    exp = syn.experiment(nuisance={"lr": syn.LR}, scientific={"depth": [1, 2]})
    rows = [
        ("depth=1", {"depth": 1, "lr": 0.01, "seed": 0}, 1.0),
        ("depth=1", {"depth": 1, "lr": 0.02, "seed": 0}, 0.9),
        ("depth=2", {"depth": 2, "lr": 0.01, "seed": 0}, 0.8),
        ("retrain", {"depth": 1, "lr": 0.02, "seed": 1}, 0.95),  # repeats trial 2 in another study
        ("retrain", {"depth": 1, "lr": 0.02, "seed": 2}, None),  # a diverged repeat still counts
        ("depth=2", {"depth": 2, "lr": 0.01}, 0.7),  # no seed at all: a repeat of trial 3
    ]
    return syn.frames(exp, rows)


def test_trials_equal_apart_from_the_seed_are_repeats_across_studies() -> None:
    groups = repeat_groups(_data())
    assert [g.trial_ids for g in groups] == [(2, 4, 5), (3, 6)]
    assert groups[0].params == {"depth": 1, "lr": 0.02}


def test_a_lone_trial_is_its_own_configuration() -> None:
    data = _data()
    assert repeats_of(data, 1).trial_ids == (1,)
    assert repeats_of(data, 5).trial_ids == (2, 4, 5)
    assert repeat_groups(data, min_size=3)[0].trial_ids == (2, 4, 5)


def test_another_seed_parameter_name_and_unset_branch_values() -> None:
    assert configuration({"lr": 0.1, "rng": 3, "momentum[optimizer=sgd]": float("nan")}, seed_param="rng") == (
        ("lr", 0.1),
    )
    assert configuration({"lr": 0.1, "seed": 3}) != configuration({"lr": 0.2, "seed": 3})


def test_an_exact_rerun_is_no_repeat_it_reproduces_its_source() -> None:
    exp = syn.experiment(nuisance={"lr": syn.LR})
    rows = [
        ("default", {"lr": 0.01, "seed": 0}, 1.0),
        ("retrain:default:0", {"lr": 0.01, "seed": 1}, 0.9),
        ("rerun:default:0", {"lr": 0.01, "seed": 0}, 1.0),  # same seed, same code: the same sample again
    ]
    data = syn.frames(exp, rows)
    assert repeats_of(data, 1).trial_ids == (1, 2)
    assert repeats_of(data, 3).trial_ids == (3,)
