"""``analysis.subsample``: a bounded sample that keeps every stratum, small ones whole, weighted back to its share."""

from __future__ import annotations

import numpy as np

from tunebook.analysis.subsample import stratified_subsample


def test_at_most_the_limit_keeps_everything_unweighted():
    rows, weight = stratified_subsample(np.array(["a", "b", "a"]), limit=3)
    assert rows.tolist() == [0, 1, 2] and weight.tolist() == [1.0, 1.0, 1.0]


def test_each_stratum_keeps_its_share_a_small_one_its_floor_and_the_weights_give_back_the_sizes():
    strata = np.array(["big"] * 9000 + ["mid"] * 950 + ["rare"] * 30 + ["short"] * 20)
    rows, weight = stratified_subsample(strata, limit=1000, seed=3, floor=50)
    kept = {s: int((strata[rows] == s).sum()) for s in ("big", "mid", "rare", "short")}
    assert kept == {"big": 900, "mid": 95, "rare": 30, "short": 20}  # 1000 x share, rounded down; floors: all of them
    assert (np.diff(rows) > 0).all() and len(set(rows.tolist())) == len(rows)
    assert abs(weight.mean() - 1.0) < 1e-12
    for name, size in (("big", 9000), ("mid", 950), ("rare", 30), ("short", 20)):
        share = weight[strata[rows] == name].sum() / weight.sum()
        assert abs(share - size / len(strata)) < 1e-9, name  # weighted, each stratum counts as in the full data


def test_a_stratum_of_fewer_than_its_floor_share_gets_the_floor_and_the_same_seed_the_same_rows():
    strata = np.repeat(np.arange(4), [4000, 3000, 2900, 100])
    first, _ = stratified_subsample(strata, limit=500, seed=0, floor=50)
    assert np.bincount(strata[first]).tolist() == [200, 150, 145, 50]  # 500 x 1 % = 5, raised to the floor
    assert first.tolist() == stratified_subsample(strata, limit=500, seed=0, floor=50)[0].tolist()
    assert first.tolist() != stratified_subsample(strata, limit=500, seed=1, floor=50)[0].tolist()
