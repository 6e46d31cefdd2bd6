"""Hyperparameters with roles, conditions and ids; the search space that holds them."""

from __future__ import annotations

import dataclasses
from typing import Any, Iterator, Literal, Mapping

from tunebook.core.domains import Choice, Domain, Fixed, Range, same_value

Role = Literal["scientific", "nuisance", "fixed"]
ROLES: tuple[Role, ...] = ("scientific", "nuisance", "fixed")

# The branch a hyperparameter lives in: ((parent_id, parent_value), ...),
# outermost first. () for hyperparameters that always exist.
Condition = tuple[tuple[str, Any], ...]


def format_value(value: Any) -> str:
    """A value as it is written in a branch key (``optimizer=adam``, ``flag=true``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


@dataclasses.dataclass(frozen=True)
class Hyperparameter:
    """One hyperparameter: its plain name, role, domain and the branch it lives in.

    ``id`` tells same-named hyperparameters of different branches apart:
    ``learning_rate[optimizer=adam]``. Trials receive the plain ``name``.
    """

    name: str
    role: Role
    domain: Domain
    condition: Condition = ()

    @property
    def id(self) -> str:
        if not self.condition:
            return self.name
        branch = ",".join(f"{_plain(p)}={format_value(v)}" for p, v in self.condition)
        return f"{self.name}[{branch}]"

    @property
    def is_varied(self) -> bool:
        return self.domain.is_varied

    def is_active(self, assignment: Mapping[str, Any]) -> bool:
        """Whether this hyperparameter exists given parent values by id."""
        return all(
            p in assignment and same_value(assignment[p], v) for p, v in self.condition
        )


def _plain(param_id: str) -> str:
    return param_id.split("[", 1)[0]


def exclusive(a: Condition, b: Condition) -> bool:
    """Whether no trial can be in both branches (some parent takes different values)."""
    first = dict(a)
    return any(p in first and not same_value(first[p], v) for p, v in b)


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """An ordered collection of hyperparameters with unique ids."""

    params: tuple[Hyperparameter, ...]

    def __iter__(self) -> Iterator[Hyperparameter]:
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    def __getitem__(self, param_id: str) -> Hyperparameter:
        for hp in self.params:
            if hp.id == param_id:
                return hp
        raise KeyError(param_id)

    def with_role(self, role: Role) -> tuple[Hyperparameter, ...]:
        return tuple(hp for hp in self.params if hp.role == role)

    @property
    def varied(self) -> tuple[Hyperparameter, ...]:
        return tuple(hp for hp in self.params if hp.is_varied)

    def resolve(self, values: Mapping[str, Any]) -> "SearchSpace":
        """The space left when the hyperparameters in ``values`` (by id) take those values.

        Those become Fixed (keeping their role); hyperparameters in a branch
        the values rule out are dropped.
        """
        kept = []
        for hp in self.params:
            if any(p in values and not same_value(values[p], v) for p, v in hp.condition):
                continue
            if hp.id in values:
                hp = dataclasses.replace(hp, domain=Fixed(values[hp.id]))
            kept.append(hp)
        return SearchSpace(tuple(kept))

    def active(self, params: Mapping[str, Any]) -> tuple[Hyperparameter, ...]:
        """The hyperparameters that exist for a trial with these params (by id)."""
        return tuple(hp for hp in self.params if hp.is_active(params))


__all__ = [
    "Choice", "Condition", "Domain", "Fixed", "Hyperparameter", "Range", "Role", "ROLES",
    "SearchSpace", "exclusive", "format_value",
]
