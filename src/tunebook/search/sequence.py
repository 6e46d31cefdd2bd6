"""Samplers that walk the branch tree: quasi-random (branch-local) and random."""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np

from tunebook.core.domains import same_value
from tunebook.core.space import SearchSpace
from tunebook.search.base import HistoryFreeSampler
from tunebook.search.halton import ScrambledHalton
from tunebook.search.tree import Node, build_tree, constant_value, stable_int, to_value

# For a node: unit point k (a list of floats, one per dim)
UnitSource = Callable[[Node, int], list[float]]


class TreeSampler(HistoryFreeSampler):
    """Walks the branch tree; subclasses say where each node's unit points come from."""

    def __init__(self, space: SearchSpace, seed: int):
        self.space = space
        self.seed = seed
        self.root = build_tree(space)

    def node_seed(self, node: Node) -> np.random.SeedSequence:
        return np.random.SeedSequence(entropy=self.seed, spawn_key=(stable_int(node.label),))

    def params(self, number: int) -> dict[str, Any]:
        self._check_number(number)
        params: dict[str, Any] = {}
        self._walk(self.root, number, params)
        return params

    def _walk(self, node: Node, k: int, params: dict[str, Any]) -> None:
        for hp in node.constants:
            params[hp.id] = constant_value(hp)
        for hp, u in zip(node.dims, self.unit_point(node, k)):
            params[hp.id] = to_value(hp, u)
        for child in node.children.values():
            parent_id, value = child.branch
            if parent_id in params and same_value(params[parent_id], value):
                self._walk(child, self.child_index(node, child, k), params)

    def unit_point(self, node: Node, k: int) -> list[float]:
        raise NotImplementedError

    def child_index(self, node: Node, child: Node, k: int) -> int:
        """Which point of ``child``'s sequence a trial at point ``k`` of ``node`` takes."""
        raise NotImplementedError


class QuasiRandomSampler(TreeSampler):
    """Scrambled Halton points; each branch runs its own sequence (branch-local).

    The k-th trial to enter a branch takes point k of that branch's sequence,
    so the trials of a branch are low-discrepancy among themselves, not an
    irregular subsequence of a global dimension.
    """

    def __init__(self, space: SearchSpace, seed: int):
        super().__init__(space, seed)
        self._halton: dict[int, ScrambledHalton] = {}
        self._counts: dict[int, "_PrefixCounts"] = {}
        self._lock = threading.Lock()

    def _sequence(self, node: Node) -> ScrambledHalton:
        key = id(node)
        if key not in self._halton:
            self._halton[key] = ScrambledHalton(len(node.dims), self.node_seed(node))
        return self._halton[key]

    def unit_point(self, node: Node, k: int) -> list[float]:
        with self._lock:
            return self._sequence(node).point(k)

    def child_index(self, node: Node, child: Node, k: int) -> int:
        with self._lock:
            if id(child) not in self._counts:
                self._counts[id(child)] = self._prefix_counts(node, child)
            return self._counts[id(child)].before(k)

    def _prefix_counts(self, node: Node, child: Node) -> "_PrefixCounts":
        parent_id, value = child.branch
        dim = node.dim_index(parent_id)
        choice = node.dims[dim].domain
        sequence = self._sequence(node)
        target = next(i for i, v in enumerate(choice.values) if same_value(v, value))
        return _PrefixCounts(lambda a, b: sequence.column(dim, a, b), len(choice.values), target)


class _PrefixCounts:
    """How many of points 0..k-1 fall in one category, computed in growing blocks.

    Amortized O(1) per trial as a study advances; a jump to a far index costs
    one vectorized pass over the points before it.
    """

    def __init__(self, column: Callable[[int, int], np.ndarray], n_categories: int, target: int):
        self._column = column
        self._n_categories = n_categories
        self._target = target
        self._cumulative = np.zeros(1, dtype=np.int64)

    def before(self, k: int) -> int:
        known = len(self._cumulative) - 1
        if k > known:
            stop = max(k, 2 * known, 64)
            us = self._column(known, stop)
            # the same mapping as Choice.index_from_unit, vectorized
            index = np.minimum((us * self._n_categories).astype(np.int64), self._n_categories - 1)
            hits = (index == self._target).astype(np.int64)
            self._cumulative = np.concatenate([self._cumulative, self._cumulative[-1] + np.cumsum(hits)])
        return int(self._cumulative[k])


class RandomSampler(TreeSampler):
    """Independent uniform points; trial ``i`` draws from its own counter-based stream."""

    def unit_point(self, node: Node, k: int) -> list[float]:
        if not node.dims:
            return []
        key = self.node_seed(node).generate_state(2, dtype=np.uint64)
        # Trial k owns the counter's second word; the first counts its own
        # blocks. (counter=k would hand trial k+1 the 5th.. draws of trial k.)
        bitgen = np.random.Philox(key=key, counter=k << 64)
        return np.random.Generator(bitgen).random(len(node.dims)).tolist()

    def child_index(self, node: Node, child: Node, k: int) -> int:
        return k  # independent draws need no branch-local order
