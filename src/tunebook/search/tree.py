"""A study's space as a tree of branches, each with its own sequence of points.

The root holds the hyperparameters that every trial has; a child holds those
that exist only when a choice of its parent node takes one value. Walking the
tree for trial ``i`` takes point ``i`` of the root; a child reached by that
trial takes point ``k`` of its own sequence, where ``k`` is how many earlier
trials reached it (branch-local indices), so the trials of each branch are
themselves a low-discrepancy sequence.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from tunebook.core.domains import Choice, Fixed, Range
from tunebook.core.space import Hyperparameter, SearchSpace

BranchKey = tuple[str, Any]  # (parent id, parent value)


@dataclasses.dataclass
class Node:
    """One branch level: its varied dims, its constants, and its child branches."""

    path: tuple[BranchKey, ...]
    dims: list[Hyperparameter] = dataclasses.field(default_factory=list)
    constants: list[Hyperparameter] = dataclasses.field(default_factory=list)
    children: dict[tuple[str, str, Any], "Node"] = dataclasses.field(default_factory=dict)

    @property
    def branch(self) -> BranchKey:
        """The (parent id, value) that leads into this node from its parent."""
        return self.path[-1]

    @property
    def label(self) -> str:
        """A stable text naming the node and its dims (used to derive its seed)."""
        path = ",".join(f"{p}={v!r}" for p, v in self.path)
        return f"[{path}]" + ";".join(hp.id for hp in self.dims)

    def dim_index(self, param_id: str) -> int:
        return next(i for i, hp in enumerate(self.dims) if hp.id == param_id)


def build_tree(space: SearchSpace) -> Node:
    """The branch tree of a study's space (parents always before their children)."""
    root = Node(())
    constant_values = {hp.id: _constant(hp) for hp in space if not hp.is_varied}
    for hp in space:
        node = root
        for parent_id, value in hp.condition:
            if parent_id in constant_values:
                continue  # a branch of a constant parent is simply there (or was dropped)
            # type in the key: 1 and True are different branches of one choice
            key = (parent_id, type(value).__name__, value)
            node = node.children.setdefault(key, Node(node.path + ((parent_id, value),)))
        (node.dims if hp.is_varied else node.constants).append(hp)
    return root


def _constant(hp: Hyperparameter) -> Any:
    domain = hp.domain
    return domain.value if isinstance(domain, Fixed) else domain.values[0]  # type: ignore[union-attr]


def constant_value(hp: Hyperparameter) -> Any:
    """The one value of a hyperparameter that does not vary."""
    return _constant(hp)


def to_value(hp: Hyperparameter, u: float) -> Any:
    """The value of a varied hyperparameter at unit coordinate ``u``."""
    domain = hp.domain
    assert isinstance(domain, (Range, Choice))
    return domain.from_unit(u)


def stable_int(text: str) -> int:
    """A 64-bit integer from text, equal in every process and Python version."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
