"""What a plan starts from: the user's spec or a stored trial, pinned values, and the spec it writes.

Shared by every plan: the vocabulary's defaults and knobs, pinning a search
space to one configuration, carrying the ``run:`` section over so that the
written spec runs the same training program, and assembling (and validating)
the spec.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Mapping

from tunebook.core.domains import Choice, Fixed, Range, same_value
from tunebook.core.experiment import Experiment
from tunebook.core.space import Hyperparameter, SearchSpace
from tunebook.plans.records import PlanInputError

__all__ = [
    "ADAM_DEFAULTS", "REGULARIZATION", "SCHEDULE_KEYS", "VOCABULARY_DEFAULTS", "assemble", "choose", "load_spec",
    "pin_space", "run_section",
]

# Adam's defaults (Kingma & Ba), the values a plan pins what it does not tune to.
ADAM_DEFAULTS: dict[str, Any] = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
VOCABULARY_DEFAULTS: dict[str, Any] = {
    **ADAM_DEFAULTS, "momentum": 0.9, "rho": 0.9, "schedule": "constant", "warmup_steps": 0, "grad_clip_norm": 0,
}
REGULARIZATION = ("dropout", "weight_decay", "label_smoothing")
SCHEDULE_KEYS = ("schedule", "warmup_steps", "decay_steps", "final_fraction")


def load_spec(spec: "str | Path | Experiment") -> Experiment:
    """An Experiment from a spec file (SpecError naming the file) or as given."""
    return spec if isinstance(spec, Experiment) else Experiment.from_yaml(str(spec))


def run_section(run: Mapping[str, Any], source: str | None) -> dict[str, Any]:
    """``run`` with ``workdir`` set to the absolute folder its names resolve against: the folder of the spec file
    ``source`` (or its ``workdir`` under it); as is without a source. ``write_plan`` makes it relative to the file."""
    out = dict(run)
    if source and out:
        folder = Path(source).parent
        workdir = out.get("workdir")
        out["workdir"] = str((folder / workdir).resolve() if isinstance(workdir, str) else folder.resolve())
    return out


def choose(space: SearchSpace, name: str, value: Any) -> SearchSpace:
    """``space`` with the unconditioned choice ``name`` fixed to ``value``: its other branches dropped, the
    chosen branch's hyperparameters lifted out of it (so the spec no longer needs ``name=value:``)."""
    parent = next((hp for hp in space if hp.name == name and not hp.condition), None)
    if parent is None:
        return space
    kept: list[Hyperparameter] = []
    renamed: dict[str, str] = {}
    for hp in space:
        if any(p == parent.id and not same_value(v, value) for p, v in hp.condition):
            continue
        condition = tuple((renamed.get(p, p), v) for p, v in hp.condition if p != parent.id)
        new = dataclasses.replace(hp, condition=condition)
        if hp is parent:
            new = dataclasses.replace(hp, role="fixed", domain=Fixed(value))
        renamed[hp.id] = new.id
        kept.append(new)
    return SearchSpace(tuple(kept))


def pin_space(space: SearchSpace, pins: Mapping[str, Any], skip: tuple[str, ...] = ()) -> tuple[dict[str, Any], list[str]]:
    """One value per active hyperparameter (by plain name), and a phrase per pinned searched one.

    Fixed hyperparameters keep their value. A scientific or nuisance one
    takes ``pins[name]`` if given, else its vocabulary default when its domain
    holds it, else the first of a list or the middle of a range on its scale.
    Branches follow the values chosen. Names in ``skip`` are left out.
    """
    unknown = sorted(set(pins) - {hp.name for hp in space})
    if unknown:
        names = ", ".join(sorted({hp.name for hp in space}))
        raise PlanInputError([(f"pin {name}", f"is not a hyperparameter of the spec; it has: {names}") for name in unknown])
    chosen: dict[str, Any] = {}  # by id, for branch activity
    values: dict[str, Any] = {}
    phrases: list[str] = []
    for hp in space:
        if not hp.is_active(chosen):
            continue
        value, why = _pin(hp.domain, hp.name, pins)
        chosen[hp.id] = value
        if hp.name in skip:
            continue
        values[hp.name] = value
        if why:
            phrases.append(f"{hp.name}={_show(value)} ({why})")
    return values, phrases


def _pin(domain: Range | Choice | Fixed, name: str, pins: Mapping[str, Any]) -> tuple[Any, str]:
    if isinstance(domain, Fixed):
        return domain.value, ""
    if name in pins:
        return pins[name], "as pinned"
    default = VOCABULARY_DEFAULTS.get(name)
    if default is not None and domain.contains(default):
        return default, "its usual default"
    if isinstance(domain, Choice):
        return domain.values[0], f"the first of {list(domain.values)}"
    if domain.scale == "log":
        middle = math.sqrt(domain.low * domain.high)
    else:
        middle = (domain.low + domain.high) / 2
    middle = int(round(middle)) if domain.type == "int" else float(f"{middle:.3g}")
    return middle, f"the middle of {domain.describe()}"


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def assemble(
    *, name: str, goal: str, notes: str, objective: Mapping[str, Any], search: Mapping[str, Any],
    run: Mapping[str, Any], scientific: Mapping[str, Any] | None = None,
    nuisance: Mapping[str, Any] | None = None, fixed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The spec in the order a person reads it, empty sections left out, validated (SpecError)."""
    spec: dict[str, Any] = {"name": name, "goal": goal, "notes": notes, "objective": dict(objective)}
    for role, block in (("scientific", scientific), ("nuisance", nuisance), ("fixed", fixed)):
        if block:
            spec[role] = {k: _plain(v) for k, v in block.items()}
    spec["search"] = dict(search)
    if run:
        spec["run"] = dict(run)
    Experiment.from_dict(spec)  # every plan's spec must load as tunebook run reads it
    return spec


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones, so the spec dumps as plain YAML."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value
