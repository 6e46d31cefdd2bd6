"""A study's (branched) space as numbers a Gaussian process can compare.

Two views of one space, both over every varied hyperparameter of every branch
(the tree of ``search.tree``, walked depth first):

- a **unit vector** ``u`` in [0, 1)^D, one coordinate per hyperparameter, as
  the quasi-random sampler uses: ``params(u)`` walks the tree, so any ``u``
  gives valid params (ints rounded, a choice picks its branch);
- **features**, what the model sees: a range is its position on its own
  scale (log ranges in log space; an integer at the centre of its slice), a
  choice is one column per value (one-hot). A hyperparameter whose branch is
  not active in a trial gets a constant (0.5 for a range, all zeros for a
  choice), the same for every trial outside the branch: two trials that both
  lack a branch are equally near in its columns, so a branch's
  hyperparameters separate only trials that have them, while those shared by
  every branch (on the root) compare across branches.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from tunebook.core.domains import Choice, Range, same_value
from tunebook.core.space import Hyperparameter, SearchSpace
from tunebook.search.tree import Node, build_tree, constant_value, to_value

INACTIVE_RANGE = 0.5


def unit_of(domain: Range, value: float) -> float:
    """The inverse of ``Range.from_unit``: where ``value`` lies on the range's scale (ints: their slice's centre)."""
    low, high = float(domain.low), float(domain.high)
    if domain.type == "int":
        low, high = low - 0.5, high + 0.5
    if domain.scale == "log":
        low, high, value = math.log(low), math.log(high), math.log(value)
    if high == low:
        return 0.5
    return min(max((float(value) - low) / (high - low), 0.0), 1.0)


class SpaceEncoding:
    """Unit vectors, params and features of one study's space (see the module's docstring)."""

    def __init__(self, space: SearchSpace):
        self.space = space
        self.root = build_tree(space)
        self.dims: list[Hyperparameter] = []  # one per unit coordinate, depth first
        self._offsets: dict[int, int] = {}  # id(node) -> its first unit coordinate
        self._collect(self.root)
        self.columns: list[tuple[int, Any]] = []  # per feature: (unit coordinate, choice value or None)
        for d, hp in enumerate(self.dims):
            if isinstance(hp.domain, Choice):
                self.columns.extend((d, value) for value in hp.domain.values)
            else:
                self.columns.append((d, None))

    def _collect(self, node: Node) -> None:
        self._offsets[id(node)] = len(self.dims)
        self.dims.extend(node.dims)
        for child in node.children.values():
            self._collect(child)

    @property
    def n_units(self) -> int:
        return len(self.dims)

    @property
    def n_features(self) -> int:
        return len(self.columns)

    def params(self, u: np.ndarray) -> dict[str, Any]:
        """The params at unit vector ``u`` (every branch reached is walked)."""
        params: dict[str, Any] = {}
        self._walk(self.root, u, params)
        return params

    def _walk(self, node: Node, u: np.ndarray, params: dict[str, Any]) -> None:
        start = self._offsets[id(node)]
        for hp in node.constants:
            params[hp.id] = constant_value(hp)
        for i, hp in enumerate(node.dims):
            params[hp.id] = to_value(hp, float(min(u[start + i], 1.0 - 1e-12)))
        for child in node.children.values():
            parent_id, value = child.branch
            if parent_id in params and same_value(params[parent_id], value):
                self._walk(child, u, params)

    def unit(self, params: Mapping[str, Any]) -> np.ndarray:
        """A unit vector whose ``params`` are these: the centre of each value's slice; 0.5 where inactive."""
        u = np.full(self.n_units, 0.5)
        for d, hp in enumerate(self.dims):
            if hp.id not in params:
                continue
            value, domain = params[hp.id], hp.domain
            if isinstance(domain, Choice):
                index = next(i for i, v in enumerate(domain.values) if same_value(v, value))
                u[d] = (index + 0.5) / len(domain.values)
            else:
                u[d] = unit_of(domain, value)
        return u

    def features(self, params: Mapping[str, Any]) -> np.ndarray:
        """The model's view of one trial's params."""
        row = np.zeros(self.n_features)
        for j, (d, choice_value) in enumerate(self.columns):
            hp = self.dims[d]
            if hp.id not in params:
                row[j] = 0.0 if isinstance(hp.domain, Choice) else INACTIVE_RANGE
            elif isinstance(hp.domain, Choice):
                row[j] = float(same_value(params[hp.id], choice_value))
            else:
                row[j] = unit_of(hp.domain, params[hp.id])
        return row

    def features_of_units(self, units: np.ndarray) -> np.ndarray:
        """``features(params(u))`` for each row of ``units`` (n, D), computed column by column."""
        n = len(units)
        values: dict[int, np.ndarray] = {}  # unit coordinate -> choice index or feature, where active
        active = np.zeros((n, self.n_units), bool)
        self._mark(self.root, units, np.ones(n, bool), values, active)
        out = np.zeros((n, self.n_features))
        for j, (d, choice_value) in enumerate(self.columns):
            domain = self.dims[d].domain
            if isinstance(domain, Choice):
                index = next(i for i, v in enumerate(domain.values) if same_value(v, choice_value))
                out[:, j] = active[:, d] & (values[d] == index)
            else:
                out[:, j] = np.where(active[:, d], values[d], INACTIVE_RANGE)
        return out

    def _mark(self, node: Node, units: np.ndarray, reached: np.ndarray, values: dict, active: np.ndarray) -> None:
        start = self._offsets[id(node)]
        for i, hp in enumerate(node.dims):
            d = start + i
            active[:, d] = reached
            values[d] = _column(hp.domain, units[:, d])
        for child in node.children.values():
            parent_id, value = child.branch
            here = [i for i, hp in enumerate(node.dims) if hp.id == parent_id]
            if here:
                d, domain = start + here[0], node.dims[here[0]].domain
                hits = np.array([same_value(domain.values[k], value) for k in values[d].astype(int)], bool)
                self._mark(child, units, reached & hits, values, active)
            else:  # the parent is higher up the tree; walk it one trial at a time
                hits = np.array([self._reaches(child, u) for u in units], bool)
                self._mark(child, units, reached & hits, values, active)

    def _reaches(self, child: Node, u: np.ndarray) -> bool:
        params = self.params(u)
        return all(p in params and same_value(params[p], v) for p, v in child.path)

    def contains(self, params: Mapping[str, Any]) -> bool:
        """Whether a trial's params are a point of this space: the same active ids, each value in its domain."""
        active = self.space.active(params)
        if {hp.id for hp in active} != set(params):
            return False
        return all(hp.domain.contains(params[hp.id]) for hp in active)


def _column(domain: Range | Choice, u: np.ndarray) -> np.ndarray:
    """Per row: a choice's index, or a range's feature (``unit_of(from_unit(u))``), vectorized."""
    u = np.minimum(u, 1.0 - 1e-12)
    if isinstance(domain, Choice):
        return np.minimum((u * len(domain.values)).astype(int), len(domain.values) - 1).astype(float)
    if domain.type != "int":
        return u
    low, high = int(domain.low), int(domain.high)
    if domain.scale == "log":
        lo, hi = math.log(low - 0.5), math.log(high + 0.5)
        value = np.clip(np.round(np.exp(lo + u * (hi - lo))), low, high)
        return np.clip((np.log(value) - lo) / (hi - lo), 0.0, 1.0)
    value = np.clip(low + np.floor(u * (high - low + 1)), low, high)
    return (value - low + 0.5) / (high - low + 1)
