"""The hyperparameter sections of a spec: ``scientific``, ``nuisance``, ``fixed``.

Value forms: a list is a choice; ``{low, high, scale, type}`` is a range; a
scalar (or a list, taken whole) is allowed under ``fixed`` only. A key
``PARENT=VALUE`` opens a branch whose hyperparameters exist only when the
choice PARENT (scientific or nuisance, defined at the same level) takes VALUE.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import TYPE_CHECKING, Any, Mapping

import yaml

from tunebook.core.domains import Choice, Domain, Fixed, Range, same_value
from tunebook.core.space import ROLES, Condition, Hyperparameter, SearchSpace, exclusive, format_value

if TYPE_CHECKING:
    from tunebook.core.experiment import Experiment
    from tunebook.core.spec import Problems

RANGE_FIELDS = ("low", "high", "scale", "type")
MAX_BRANCH_DEPTH = 16
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCALAR = (str, int, float, bool, type(None))

# A branch block waiting for its level to be parsed: (role, block, field path).
Blocks = list[tuple[str, Mapping[str, Any], str]]


def parse_space(sections: Mapping[str, Any], problems: "Problems") -> SearchSpace:
    """Parse the three role sections into one SearchSpace, level by level."""
    # Keyed with each value's type too: 1 == True, but flag=1 and flag=true are two branches.
    levels: dict[tuple[Any, ...], tuple[Condition, Blocks]] = {(): ((), [])}
    for role in ROLES:
        block = sections.get(role)
        if block is None:
            continue
        if not isinstance(block, Mapping):
            problems.add(role, f"must be a mapping of hyperparameters, got {block!r}")
            continue
        levels[()][1].append((role, block, role))
    params: list[Hyperparameter] = []
    while levels:
        condition, blocks = levels.pop(next(iter(levels)))  # first in, first out: keeps the user's order
        if len(condition) > MAX_BRANCH_DEPTH:  # only a YAML alias that contains itself gets here
            problems.add(blocks[0][2], f"branches nest more than {MAX_BRANCH_DEPTH} deep")
            continue
        level = _parse_level(condition, blocks, problems)
        params.extend(level)
        for child, child_blocks in _branches(condition, blocks, level, problems):
            typed = tuple((p, type(v), v) for p, v in child)
            levels.setdefault(typed, (child, []))[1].extend(child_blocks)
    params.sort(key=lambda hp: (len(hp.condition), ROLES.index(hp.role)))
    _check_name_clashes(params, problems)
    return SearchSpace(tuple(params))


def _parse_level(condition: Condition, blocks: Blocks, problems: "Problems") -> list[Hyperparameter]:
    level: dict[str, tuple[Hyperparameter, str]] = {}
    for role, block, path in blocks:
        for key, value in block.items():
            if isinstance(key, str) and "=" in key:
                continue
            where = f"{path}.{key}"
            if not isinstance(key, str) or not _IDENT.fullmatch(key):
                problems.add(where, "a hyperparameter name must be a Python identifier (letters, digits, '_')")
                continue
            if key in level:
                problems.add(where, f"'{key}' is already defined at {level[key][1]}")
                continue
            domain = parse_domain(role, value, where, problems)
            if domain is not None:
                level[key] = (Hyperparameter(key, role, domain, condition), where)
    return [hp for hp, _ in level.values()]


def _branches(condition: Condition, blocks: Blocks, level: list[Hyperparameter], problems: "Problems") -> list[tuple[Condition, Blocks]]:
    by_name = {hp.name: hp for hp in level}
    children: list[tuple[Condition, Blocks]] = []
    for role, block, path in blocks:
        for key, value in block.items():
            if not (isinstance(key, str) and "=" in key):
                continue
            where = f"{path}.{key}"
            parent_name, _, wanted = key.partition("=")
            parent = by_name.get(parent_name.strip())
            parent_value = _branch_parent_value(role, parent, parent_name, wanted.strip(), where, problems)
            if parent is None or parent_value is None:
                continue
            if not isinstance(value, Mapping):
                problems.add(where, f"a branch holds a mapping of hyperparameters, got {value!r}")
                continue
            children.append((condition + ((parent.id, parent_value[0]),), [(role, value, where)]))
    return children


def _branch_parent_value(role: str, parent: Hyperparameter | None, name: str, wanted: str, where: str, problems: "Problems") -> tuple[Any] | None:
    if parent is None:
        problems.add(where, f"branch parent '{name}' is not a hyperparameter defined at this level")
        return None
    if parent.role == "fixed" or not isinstance(parent.domain, Choice):
        problems.add(where, f"branch parent '{name}' must be a scientific or nuisance list of values")
        return None
    if role == "scientific" and parent.role == "nuisance":
        problems.add(where, "a scientific hyperparameter cannot depend on a nuisance one")
        return None
    read = _read_scalar(wanted)
    for value in parent.domain.values:
        if format_value(value) == wanted or (read is not None and same_value(read[0], value)):
            return (value,)
    choices = ", ".join(format_value(v) for v in parent.domain.values)
    problems.add(where, f"'{wanted}' is not one of {name}'s values ({choices})")
    return None


def _read_scalar(text: str) -> tuple[Any] | None:
    """A branch key's value read as YAML would read it (``1e-4``, ``null``, ``true``)."""
    from tunebook.core.yaml_loader import SpecLoader

    try:
        value = yaml.load(text, Loader=SpecLoader)  # noqa: S506 - SpecLoader is a SafeLoader
    except yaml.YAMLError:
        return None
    return (value,) if isinstance(value, _SCALAR) else None


def parse_domain(role: str, value: Any, where: str, problems: "Problems") -> Domain | None:
    """The domain a spec value describes under ``role``; None after recording a problem."""
    if isinstance(value, (Range, Choice, Fixed)):
        return _check_object(role, value, where, problems)
    if role == "fixed":
        if isinstance(value, Mapping):
            problems.add(where, f"a fixed hyperparameter takes one value, not a range, got {dict(value)!r}")
            return None
        return Fixed(list(value) if isinstance(value, tuple) else value)
    if isinstance(value, (list, tuple)):
        return _choice(list(value), where, problems)
    if isinstance(value, Mapping):
        return _range(value, where, problems)
    problems.add(where, f"a single value belongs under fixed; give a list of values or a {{low, high}} range, got {value!r}")
    return None


def _check_object(role: str, domain: Domain, where: str, problems: "Problems") -> Domain | None:
    if isinstance(domain, Fixed) != (role == "fixed"):
        problems.add(where, f"{type(domain).__name__} does not fit under {role}")
        return None
    if isinstance(domain, Range):
        fields = {"low": domain.low, "high": domain.high, "scale": domain.scale, "type": domain.type}
        return _range(fields, where, problems)
    if isinstance(domain, Choice):
        return _choice(list(domain.values), where, problems)
    return domain


def _choice(values: list[Any], where: str, problems: "Problems") -> Choice | None:
    if not values:
        problems.add(where, "a list of values must not be empty")
        return None
    bad = [v for v in values if not isinstance(v, _SCALAR)]
    if bad:
        problems.add(where, f"list values must be numbers, text, true/false or null, got {bad[0]!r}")
        return None
    seen = [format_value(v) for v in values]
    dupes = sorted({s for s in seen if seen.count(s) > 1})
    if dupes:
        problems.add(where, f"values must be distinct, got {', '.join(dupes)} more than once")
        return None
    return Choice(tuple(values))


def _range(spec: Mapping[str, Any], where: str, problems: "Problems") -> Range | None:
    n_before = len(problems)
    for key in spec:
        if key not in RANGE_FIELDS:
            problems.add(f"{where}.{key}", f"unknown range field; allowed: {', '.join(RANGE_FIELDS)}")
    low, high = (_number(spec.get(k), f"{where}.{k}", k, problems) for k in ("low", "high"))
    scale, kind = spec.get("scale", "linear"), spec.get("type", "float")
    if scale not in ("linear", "log"):
        problems.add(f"{where}.scale", f"must be linear or log, got {scale!r}")
    if kind not in ("float", "int"):
        problems.add(f"{where}.type", f"must be float or int, got {kind!r}")
    if len(problems) > n_before:
        return None
    if not high > low:
        problems.add(where, f"high must be > low, got low={low:g} high={high:g}")
    elif scale == "log" and low <= 0:
        problems.add(f"{where}.low", f"must be > 0 on a log scale, got {low:g}")
    elif kind == "int" and (low != int(low) or high != int(high)):
        problems.add(where, f"an int range needs whole bounds, got low={low:g} high={high:g}")
    if len(problems) > n_before:
        return None
    if kind == "int":
        low, high = int(low), int(high)
    return Range(low, high, scale, kind)


def _number(value: Any, where: str, field: str, problems: "Problems") -> float:
    if value is None:
        problems.add(where, f"a range needs '{field}'")
        return math.nan
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
        problems.add(where, f"must be a finite number, got {value!r}")
        return math.nan
    return value


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _check_name_clashes(params: list[Hyperparameter], problems: "Problems") -> None:
    for i, a in enumerate(params):
        for b in params[i + 1:]:
            if a.name == b.name and a.condition != b.condition and not exclusive(a.condition, b.condition):
                problems.add(
                    f"{b.role}.{b.id}",
                    f"'{b.name}' is also defined as {a.id}; a trial could receive both",
                )


def space_to_dict(space: SearchSpace) -> dict[str, Any]:
    """The three role sections, nested as a user would write them."""
    out: dict[str, Any] = {}
    for hp in space:
        block = out.setdefault(hp.role, {})
        parent_names = {p: q.name for q in space for p, _ in hp.condition if q.id == p}
        for parent_id, value in hp.condition:
            block = block.setdefault(f"{parent_names[parent_id]}={format_value(value)}", {})
        block[hp.name] = _domain_to_data(hp.domain)
    return out


def _domain_to_data(domain: Domain) -> Any:
    if isinstance(domain, Range):
        return {"low": domain.low, "high": domain.high, "scale": domain.scale, "type": domain.type}
    if isinstance(domain, Choice):
        return list(domain.values)
    return domain.value


def check_search(experiment: "Experiment", problems: "Problems") -> None:
    """Problems that need the whole experiment: enumerable studies, grid size, explicit points."""
    from tunebook.core.search_checks import check_search_fits

    check_search_fits(experiment, problems)


def parse_regularizers(value: Any, space: SearchSpace, problems: "Problems") -> tuple[str, ...] | None:
    """The spec's ``regularizers: [name, ...]``: plain names of hyperparameters it defines, each once.

    None when the field is absent (the analysis then recognizes common names);
    a given list, even ``[]``, is the whole list.
    """
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        problems.add("regularizers", f"must be a list of hyperparameter names, e.g. [dropout], got {value!r}")
        return None
    names = sorted({hp.name for hp in space})
    seen: list[str] = []
    for i, name in enumerate(value):
        where = f"regularizers[{i}]"
        if not isinstance(name, str) or name not in names:
            hint = difflib.get_close_matches(str(name), names, n=1)
            known = f"did you mean '{hint[0]}'?" if hint else f"defined: {', '.join(names) or 'none'}"
            problems.add(where, f"{name!r} is not a hyperparameter of this spec ({known})")
        elif name in seen:
            problems.add(where, f"'{name}' is listed more than once")
        else:
            seen.append(name)
    return tuple(seen)
