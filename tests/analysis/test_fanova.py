"""``analysis.fanova``: the exact decomposition of fitted trees matches functions whose ANOVA is known by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.tree import DecisionTreeRegressor

from tunebook.analysis.fanova import forest_shares, leaves

PAIRS = [(0, 1), (0, 2), (1, 2)]


def _trees(f, n: int = 3000, trees: int = 4) -> list:
    rng = np.random.default_rng(0)
    fitted = []
    for k in range(trees):
        x = rng.random((n, 3))
        fitted.append(DecisionTreeRegressor(max_leaf_nodes=256, random_state=k).fit(x, f(x)))
    return fitted


def test_an_additive_function_splits_its_variance_by_the_squares_of_its_weights():
    shares = forest_shares(_trees(lambda x: x[:, 0] + 2 * x[:, 1]), 3, PAIRS)
    # Var(x0) = 1/12, Var(2 x1) = 4/12: shares 1/5 and 4/5, nothing for x2 and no interaction
    np.testing.assert_allclose(shares.main.mean(axis=0), [0.2, 0.8, 0.0], atol=0.01)
    np.testing.assert_allclose(shares.pairs.mean(axis=0), [0, 0, 0], atol=0.01)


def test_a_product_has_the_interaction_its_anova_says():
    shares = forest_shares(_trees(lambda x: x[:, 0] * x[:, 1]), 3, PAIRS)
    # f = x0 x1: Var f = 1/9 - 1/16 = 7/144; each main effect Var(x/2) = 3/144; the interaction 1/144
    np.testing.assert_allclose(shares.main.mean(axis=0), [3 / 7, 3 / 7, 0.0], atol=0.015)
    np.testing.assert_allclose(shares.pairs.mean(axis=0), [1 / 7, 0, 0], atol=0.015)


def test_leaf_boxes_tile_the_unit_cube():
    [tree] = _trees(lambda x: np.sin(6 * x[:, 0]) + x[:, 2], trees=1)
    box = leaves(tree.tree_, 3)
    volume = np.prod(box.upper - box.lower, axis=1)
    assert volume.sum() == pytest.approx(1.0)
    assert (box.lower >= 0).all() and (box.upper <= 1).all()
