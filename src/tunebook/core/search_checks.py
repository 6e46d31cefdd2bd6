"""Checks that need the whole experiment, and turning explicit points into trial params."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from tunebook.core.domains import Choice, Fixed, Range

if TYPE_CHECKING:
    from tunebook.core.experiment import Experiment
    from tunebook.core.space import Hyperparameter, SearchSpace
    from tunebook.core.spec import Problems

GRID_MAX_VARIED = 2


def check_search_fits(experiment: "Experiment", problems: "Problems") -> None:
    """Record problems with how the experiment's search fits its space."""
    search = experiment.search
    if search.studies == "per_scientific_value":
        for hp in experiment.space.with_role("scientific"):
            if isinstance(hp.domain, Range):
                problems.add(
                    f"scientific.{hp.id}",
                    "a range cannot be split into one study per value; give a list of values, "
                    "or set search.studies: joint",
                )
    if problems:
        return
    found: dict[tuple[str, str], list[str]] = {}  # problem -> studies it occurs in
    plans = experiment.studies()
    for plan in plans:
        label = "" if plan.key in ("default", "joint") else f" (study {plan.key})"
        if search.algorithm == "grid":
            varied = [hp.id for hp in plan.space.varied]
            dims = most_varied_in_one_trial(plan.space)
            if dims > GRID_MAX_VARIED:
                problems.add(
                    "search.algorithm",
                    f"grid search varies at most {GRID_MAX_VARIED} hyperparameters per trial{label}, this "
                    f"varies {dims} of {', '.join(varied)}; the playbook advises quasi_random search here",
                )
        if search.algorithm == "explicit":
            for i, point in enumerate(search.points):
                for path, message in assign_point(plan.space, point)[1]:
                    found.setdefault((f"search.points[{i}].{path}", message), []).append(plan.key)
    for (path, message), keys in found.items():
        # a problem every study shares is reported once, without naming studies
        where = "" if len(keys) == len(plans) or keys == ["default"] else f" (study {', '.join(keys)})"
        problems.add(path, message + where)


def most_varied_in_one_trial(space: "SearchSpace") -> int:
    """The largest number of varied hyperparameters that one trial can have."""
    constant = {hp.id for hp in space if not hp.is_varied}
    varied = space.varied

    def branch_path(hp: "Hyperparameter") -> tuple:
        # typed, so that the branches 1 and true of one choice stay apart
        return tuple((p, type(v).__name__, v) for p, v in hp.condition if p not in constant)

    def level_count(path: tuple) -> int:
        here = [hp for hp in varied if branch_path(hp) == path]
        total = len(here)
        for parent in here:
            if isinstance(parent.domain, Choice):
                total += max(level_count(path + ((parent.id, type(v).__name__, v),)) for v in parent.domain.values)
        return total

    return level_count(())


def assign_point(space: "SearchSpace", point: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Trial params (by id) for values given by plain name, and the problems found.

    Every searched hyperparameter active for these values must be given, inside
    its domain; fixed ones are filled in; a name that is not searched here is a
    problem.
    """
    params: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    used: set[str] = set()
    for hp in space:
        if not hp.is_active(params):
            continue
        if isinstance(hp.domain, Fixed):
            params[hp.id] = hp.domain.value
            continue
        used.add(hp.name)
        if hp.name not in point:
            problems.append((hp.name, f"is missing; {hp.id} takes values in {hp.domain.describe()}"))
            continue
        value = point[hp.name]
        if not hp.domain.contains(value):
            problems.append((hp.name, f"{value!r} is outside {hp.id}'s domain {hp.domain.describe()}"))
            continue
        params[hp.id] = int(value) if isinstance(hp.domain, Range) and hp.domain.type == "int" else value
    for name in point:
        if name not in used:
            problems.append((str(name), "is not a searched hyperparameter for these values"))
    return params, problems
