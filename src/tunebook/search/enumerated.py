"""Samplers over a finite list of trials: a grid, or points the user wrote."""

from __future__ import annotations

import itertools
from typing import Any, Mapping, Sequence

from tunebook.core.domains import Choice, Range, same_value
from tunebook.core.search_checks import assign_point
from tunebook.core.space import SearchSpace
from tunebook.search.base import HistoryFreeSampler
from tunebook.search.tree import Node, build_tree, constant_value


class ListSampler(HistoryFreeSampler):
    """Trial ``i`` is the ``i``-th entry of a fixed list of params."""

    def __init__(self, trials: Sequence[dict[str, Any]]):
        self._trials = list(trials)

    @property
    def size(self) -> int:
        return len(self._trials)

    def params(self, number: int) -> dict[str, Any]:
        self._check_number(number)
        return dict(self._trials[number])


def grid_sampler(space: SearchSpace, resolution: int) -> ListSampler:
    """Every combination of values; ranges take ``resolution`` values on their scale.

    The last varied hyperparameter changes fastest. Branches are honoured: a
    branch's hyperparameters are crossed only with the trials that enter it.
    """
    return ListSampler(_grid(build_tree(space), resolution))


def _grid(node: Node, resolution: int) -> list[dict[str, Any]]:
    base = {hp.id: constant_value(hp) for hp in node.constants}
    axes = [_axis(hp.domain, resolution) for hp in node.dims]
    trials: list[dict[str, Any]] = []
    for values in itertools.product(*axes):
        partial = {**base, **dict(zip((hp.id for hp in node.dims), values))}
        expansions = [[partial]]
        for child in node.children.values():
            parent_id, value = child.branch
            if parent_id in partial and same_value(partial[parent_id], value):
                expansions.append(_grid(child, resolution))
        for combo in itertools.product(*expansions):
            merged: dict[str, Any] = {}
            for part in combo:
                merged.update(part)
            trials.append(merged)
    return trials


def _axis(domain: Range | Choice, resolution: int) -> list[Any]:
    return domain.grid(resolution)


def explicit_sampler(space: SearchSpace, points: Sequence[Mapping[str, Any]]) -> ListSampler:
    """The user's own trials, given by plain name; validated when the spec loads."""
    return ListSampler([assign_point(space, point)[0] for point in points])
