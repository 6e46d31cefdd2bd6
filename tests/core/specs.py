"""Specs and helpers shared by the core tests (plain data, as a user writes them)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tunebook.core import Experiment, SpecError

# A small but complete spec: every role, a branch, a fixed value.
BASE: dict[str, Any] = {
    "name": "t",
    "goal": "does depth help?",
    "objective": {"metric": "valid/error", "mode": "min", "reduce": "best"},
    "scientific": {"num_layers": [1, 2]},
    "nuisance": {
        "lr": {"low": 1e-4, "high": 1.0, "scale": "log"},
        "optimizer": ["adam", "sgd"],
        "optimizer=adam": {"beta1": {"low": 0.8, "high": 0.99}},
    },
    "fixed": {"batch_size": 128},
    "search": {"algorithm": "quasi_random", "trials": 8, "seed": 0},
}

# The nested-branch spec: a branch inside a branch, and a fixed value in a branch.
NESTED: dict[str, Any] = {
    "name": "nested",
    "objective": {"metric": "valid/loss", "mode": "min", "reduce": "final"},
    "scientific": {"num_layers": [2, 4]},
    "nuisance": {
        "lr": {"low": 1e-4, "high": 1.0, "scale": "log"},
        "optimizer": ["adam", "sgd"],
        "optimizer=adam": {
            "schedule": ["cos", "lin"],
            "schedule=cos": {"warmup": {"low": 0, "high": 1000, "type": "int"}},
        },
        "optimizer=sgd": {"momentum": {"low": 0.0, "high": 0.99}},
    },
    "fixed": {
        "batch_size": 128,
        "optimizer=adam": {"eps": 1e-8, "schedule=lin": {"final_lr": 0.0}},
    },
    "search": {"algorithm": "random", "trials": 4, "seed": 3},
}


def spec(base: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """A deep copy of ``base`` (BASE by default) with top-level fields replaced.

    A change of ``None`` removes the field.
    """
    out = copy.deepcopy(BASE if base is None else base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def edit(data: dict[str, Any], path: str, value: Any = ..., delete: bool = False) -> dict[str, Any]:
    """A deep copy of ``data`` with the field at dotted ``path`` set (or deleted).

    Path parts are split on '/' so branch keys with dots stay whole: ``nuisance/lr/low``.
    """
    out = copy.deepcopy(data)
    *parents, last = path.split("/")
    block = out
    for part in parents:
        block = block.setdefault(part, {})
    if delete:
        del block[last]
    else:
        block[last] = value
    return out


def problems_of(data: Any) -> list[tuple[str, str]]:
    """The problems ``Experiment.from_dict`` reports for ``data`` (fails if it parses)."""
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(data)
    problems = info.value.problems
    assert problems, "a SpecError must list at least one problem"
    assert all(isinstance(p, str) and isinstance(m, str) for p, m in problems)
    return problems


def message_for(problems: list[tuple[str, str]], path: str) -> str:
    """The message recorded for ``path``; fails listing all problems if none is."""
    found = [m for p, m in problems if p == path]
    assert found, f"no problem at {path!r}; got {problems!r}"
    return found[0]
