"""The space of imported Optuna studies: roles and domains from the params' distributions.

Each Optuna param becomes a hyperparameter whose domain is its distribution
(``mapping.domain_spec``; ranges of one param that differ between trials or
studies are joined into one covering both). A param named ``NAME[PARENT=VALUE]``
(as ``tunebook export optuna`` writes conditional ones) lives in that branch.
A plain param that only some trials set lives in the branch of a categorical
param whose values tell exactly when it is set (``lr_adam`` under
``optimizer=adam``); if no such param exists the import is refused, naming
a trial that lacks it. Roles: names given as scientific (or recorded by an
export) are scientific with the values seen, names given as fixed must hold
one value; values a study holds for all its trials (study user attributes)
are scientific or fixed the same way; all other params are nuisance.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

from tunebook.core.domains import same_value
from tunebook.importing.plan import distinct_values, sorted_values
from tunebook.core.space import format_value
from tunebook.optuna_io import mapping

Problems = list[tuple[str, str]]


@dataclasses.dataclass(frozen=True)
class ParamSource:
    """One Optuna trial's params as read: a label for messages, params and distributions by Optuna name."""

    label: str
    params: Mapping[str, Any]
    distributions: Mapping[str, Any]
    study_values: Mapping[str, Any]  # name -> value its study holds for every trial


def join_distributions(trials: Sequence[ParamSource], problems: Problems) -> dict[str, Any]:
    """Optuna name -> one distribution covering every trial's; a problem names a trial whose kind differs."""
    joined: dict[str, Any] = {}
    for trial in trials:
        for name, dist in trial.distributions.items():
            if name not in joined:
                joined[name] = dist
                continue
            union = _union(joined[name], dist)
            if union is None:
                problems.append((f"{trial.label}, param {name}", f"its distribution {dist} differs in kind from "
                                                                   f"other trials' {joined[name]}"))
            else:
                joined[name] = union
    return joined


def _union(one: Any, other: Any) -> Any:
    if one == other:
        return one
    if type(one) is not type(other):
        return None
    if hasattr(one, "choices"):
        return type(one)(list(one.choices) + [c for c in other.choices if c not in one.choices])
    if one.log != other.log:
        return None
    low, high = min(one.low, other.low), max(one.high, other.high)
    if type(one).__name__ == "IntDistribution":
        return type(one)(low, high, log=one.log, step=one.step if one.step == other.step else 1)
    return type(one)(low, high, log=one.log, step=one.step if one.step == other.step else None)


def build_sections(trials: Sequence[ParamSource], scientific: Sequence[str], fixed: Sequence[str],
                   problems: Problems, notes: Problems, joint: bool = False) -> dict[str, dict[str, Any]]:
    """The spec's scientific/nuisance/fixed sections (branches as ``PARENT=VALUE`` keys).

    A scientific param takes the values seen (one study per value), or in a
    ``joint`` study (as an export of a joint experiment records) its distribution.
    """
    sections: dict[str, dict[str, Any]] = {"scientific": {}, "nuisance": {}, "fixed": {}}
    distributions = join_distributions(trials, problems)
    branches = _branches(trials, distributions, problems)
    for name in _in_spec_order(distributions, branches):
        dist = distributions[name]
        plain, condition = branches.get(name, (name, [()]))
        observed = _observed(trials, name)
        if plain in scientific:
            value: Any = mapping.domain_spec(dist)[0] if joint else sorted_values(observed)
            role = "scientific"
        elif plain in fixed:
            role, value = "fixed", _one_value(name, observed, problems)
        else:
            value, note = mapping.domain_spec(dist)
            if note:
                notes.append((f"param {name}", note))
            role = "fixed" if isinstance(value, list) and len(value) == 1 else "nuisance"
            value = value[0] if role == "fixed" else value
        for pairs in condition:
            place(sections[role], plain, pairs, value)
    for name in dict.fromkeys(k for trial in trials for k in trial.study_values):
        observed = distinct_values([t.study_values[name] for t in trials if name in t.study_values])
        plain, pairs = mapping.split_id(name)
        if plain in fixed or plain not in scientific:
            place(sections["fixed"], plain, pairs, _one_value(name, observed, problems))
        else:
            place(sections["scientific"], plain, pairs, sorted_values(observed))
    return {role: block for role, block in sections.items() if block}


def _in_spec_order(distributions: Mapping[str, Any], branches: Mapping[str, tuple[str, list[tuple]]]) -> list[str]:
    """Optuna names, params that always exist first, then by branch depth and the order of the parent's choices
    (``optimizer=adam`` before ``optimizer=sgd`` when adam is listed first), else in the order first seen."""
    def choice_index(parent: str, text: str) -> int:
        choices = getattr(distributions.get(parent), "choices", ())
        texts = [format_value(c) for c in choices]
        return texts.index(text) if text in texts else len(texts)

    def key(name: str) -> tuple:
        pairs = branches.get(name, (name, [()]))[1][0]
        return len(pairs), [choice_index(parent, text) for parent, text in pairs]

    return sorted(distributions, key=key)  # stable: first seen within a branch


def place(section: dict[str, Any], name: str, pairs: Sequence[tuple[str, str]], value: Any) -> None:
    """Put ``name: value`` into ``section`` inside the nested ``PARENT=VALUE`` branches of ``pairs``."""
    for parent, text in pairs:
        section = section.setdefault(f"{parent}={text}", {})
    section[name] = value


def _branches(trials: Sequence[ParamSource], distributions: Mapping[str, Any],
              problems: Problems) -> dict[str, tuple[str, list[tuple]]]:
    """Optuna name -> (plain name, the branches it lives in, each as ((parent, value text), ...))."""
    found: dict[str, tuple[str, list[tuple]]] = {}
    always = {name for name in distributions if all(name in t.params for t in trials)}
    for name in distributions:
        plain, pairs = mapping.split_id(name)
        if pairs:
            found[name] = (plain, [pairs])
        elif name not in always:
            parent = _parent(trials, name, always, distributions)
            if parent is None:
                lacking = next(t.label for t in trials if name not in t.params)
                problems.append((f"param {name}", f"{lacking} lacks it while other trials set it, and no "
                                                  "categorical param's value tells when it is set; tunebook "
                                                  "needs a conditional param to hang off one categorical choice"))
                continue
            key, values = parent
            found[name] = (name, [((key, format_value(v)),) for v in values])
    return found


def _parent(trials: Sequence[ParamSource], name: str, always: set[str],
            distributions: Mapping[str, Any]) -> tuple[str, list[Any]] | None:
    """A categorical param that every trial sets and whose values seen with ``name`` are exactly those
    of the trials setting ``name``; (its name, those values), or None."""
    setting = [t for t in trials if name in t.params]
    for key in sorted(always):
        if key == name or not hasattr(distributions[key], "choices"):
            continue
        values = distinct_values([t.params[key] for t in setting])
        if all((name in t.params) == any(same_value(t.params[key], v) for v in values) for t in trials):
            return key, values
    return None


def _observed(trials: Sequence[ParamSource], name: str) -> list[Any]:
    return distinct_values([t.params[name] for t in trials if name in t.params])


def _one_value(name: str, observed: list[Any], problems: Problems) -> Any:
    if len(observed) > 1:
        shown = ", ".join(format_value(v) for v in sorted_values(observed)[:5])
        problems.append(("--fixed", f"{name} takes {len(observed)} values ({shown}); a fixed hyperparameter has one"))
    return observed[0] if observed else None
