"""Turn a spec (YAML text or plain data) into a validated Experiment, and back.

Every mistake is collected as ``(field path, message)`` and raised together in
one SpecError, so a user fixes a spec in one pass. Paths read like the YAML:
``nuisance.optimizer=adam.beta1.high``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from pathlib import Path
from typing import Any, Mapping

from tunebook.core import params_spec
from tunebook.core.errors import SpecError
from tunebook.core.run_spec import parse_run
from tunebook.core.experiment import ALGORITHMS, STUDY_LAYOUTS, Experiment, Objective, SearchConfig
from tunebook.core.space import ROLES
from tunebook.core.yaml_loader import load_yaml

TOP_LEVEL = ("name", "goal", "notes", "objective", *ROLES, "regularizers", "search", "run")
SEARCH_FIELDS = ("algorithm", "trials", "studies", "seed", "resolution", "points", "initial", "warm_start")
OBJECTIVE_FIELDS = ("metric", "mode", "reduce")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Problems(list):
    """Collected ``(path, message)`` pairs."""

    def add(self, path: str, message: str) -> None:
        self.append((path, message))


def load_experiment(path: str | Path) -> Experiment:
    """Read a YAML spec file and validate it; the experiment remembers the file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read spec file: {exc.strerror}", source) from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"cannot read spec file: not UTF-8 text ({exc.reason} at byte {exc.start})", source) from None
    experiment = parse_experiment(load_yaml(text, source), source)
    return dataclasses.replace(experiment, source=str(Path(path).resolve()))


def parse_experiment(spec: Any, source: str | None = None) -> Experiment:
    """Validate plain spec data; raise SpecError listing every problem found."""
    problems = Problems()
    if not isinstance(spec, Mapping):
        raise SpecError(f"the spec must be a mapping of fields, got {type(spec).__name__}", source)
    unknown_fields(spec, TOP_LEVEL, "", problems)
    name = _name(spec.get("name"), problems)
    goal = _text(spec, "goal", problems)
    notes = _text(spec, "notes", problems)
    objective = _objective(spec.get("objective"), problems)
    space = params_spec.parse_space({r: spec.get(r) for r in ROLES}, problems)
    regularizers = params_spec.parse_regularizers(spec.get("regularizers"), space, problems)
    search = _search(spec.get("search"), problems)
    if name and name in search.warm_start:
        problems.add("search.warm_start", f"names this experiment itself ({name!r}); name the earlier rounds")
    run = spec.get("run")
    run = {} if run is None else run
    if not isinstance(run, Mapping):
        problems.add("run", f"must be a mapping, got {run!r}")
        run = {}
    parse_run(run, problems, need_program=False)
    if problems:
        raise SpecError(problems, source)
    experiment = Experiment(name, objective, space, search, goal, notes, dict(run), regularizers)
    params_spec.check_search(experiment, problems)
    if problems:
        raise SpecError(problems, source)
    return experiment


def unknown_fields(block: Mapping[str, Any], allowed: tuple[str, ...], path: str, problems: Problems) -> None:
    for key in block:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else f"; allowed: {', '.join(allowed)}"
            problems.add(where, f"unknown field{suggestion}")


def _name(value: Any, problems: Problems) -> str:
    if value is None:
        problems.add("name", "is required (a short name for the experiment, e.g. digits-depth)")
        return ""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        problems.add("name", f"must be letters, digits, '_', '.', '-', starting with a letter or digit, got {value!r}")
        return ""
    return value


def _text(spec: Mapping[str, Any], field: str, problems: Problems) -> str:
    value = spec.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.add(field, f"must be text, got {value!r}")
        return ""
    return value


def _objective(value: Any, problems: Problems) -> Objective:
    if isinstance(value, Objective):
        return value
    if isinstance(value, str):
        metric, _, mode = value.partition(":")
        value = {"metric": metric, "mode": mode or "min"}
    if not isinstance(value, Mapping):
        problems.add("objective", f"is required as {{metric: NAME, mode: min|max, reduce: best|final}}, got {value!r}")
        return Objective("")
    unknown_fields(value, OBJECTIVE_FIELDS, "objective", problems)
    metric = value.get("metric")
    if not isinstance(metric, str) or not metric:
        problems.add("objective.metric", f"must name the metric to optimize, got {metric!r}")
        metric = ""
    mode = _one_of(value.get("mode", "min"), ("min", "max"), "objective.mode", problems)
    reduce = _one_of(value.get("reduce", "best"), ("best", "final"), "objective.reduce", problems)
    return Objective(metric, mode, reduce)


def _one_of(value: Any, allowed: tuple[str, ...], path: str, problems: Problems) -> Any:
    if value not in allowed:
        problems.add(path, f"must be one of {', '.join(allowed)}, got {value!r}")
        return allowed[0]
    return value


def _search(value: Any, problems: Problems) -> SearchConfig:
    if isinstance(value, SearchConfig):
        return value
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        problems.add("search", f"must be a mapping, got {value!r}")
        return SearchConfig()
    unknown_fields(value, SEARCH_FIELDS, "search", problems)
    algorithm = _one_of(value.get("algorithm", "quasi_random"), ALGORITHMS, "search.algorithm", problems)
    studies = _one_of(value.get("studies", "per_scientific_value"), STUDY_LAYOUTS, "search.studies", problems)
    trials = _count(value, "trials", problems, required=algorithm in ("quasi_random", "random", "bayesian"))
    seed = _count(value, "seed", problems, minimum=0) or 0
    resolution = _count(value, "resolution", problems) or 5
    points = value.get("points") or ()
    if algorithm == "explicit" and not points:
        problems.add("search.points", "explicit search needs a list of trials, e.g. [{learning_rate: 0.1}]")
    if not isinstance(points, (list, tuple)) or not all(isinstance(p, Mapping) for p in points):
        problems.add("search.points", f"must be a list of mappings from name to value, got {points!r}")
        points = ()
    initial = _count(value, "initial", problems)
    warm_start = _warm_start(value.get("warm_start"), problems)
    for field in ("initial", "warm_start"):
        if value.get(field) is not None and algorithm != "bayesian":
            problems.add(f"search.{field}", f"applies only to algorithm: bayesian, not {algorithm}")
    return SearchConfig(algorithm, trials, studies, seed, resolution, tuple(dict(p) for p in points), initial, warm_start)


def _warm_start(value: Any, problems: Problems) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and _NAME.fullmatch(v) for v in value):
        problems.add("search.warm_start", f"must be a list of experiment names, e.g. [digits-explore], got {value!r}")
        return ()
    return tuple(dict.fromkeys(value))


def _count(block: Mapping[str, Any], field: str, problems: Problems, required: bool = False, minimum: int = 1) -> int | None:
    value = block.get(field)
    if value is None:
        if required:
            problems.add(f"search.{field}", "is required: how many trials each study runs")
        return None
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problems.add(f"search.{field}", f"must be an integer >= {minimum}, got {value!r}")
        return None
    return value


def experiment_to_dict(experiment: Experiment) -> dict[str, Any]:
    """Plain data for an experiment, in the spec's own layout."""
    s = experiment.search
    search: dict[str, Any] = {"algorithm": s.algorithm, "studies": s.studies, "seed": s.seed}
    if s.trials is not None:
        search["trials"] = s.trials
    if s.algorithm == "grid" or s.resolution != SearchConfig.resolution:
        search["resolution"] = s.resolution
    if s.points:
        search["points"] = [dict(p) for p in s.points]
    if s.initial is not None:
        search["initial"] = s.initial
    if s.warm_start:
        search["warm_start"] = list(s.warm_start)
    o = experiment.objective
    regularizers = {} if experiment.regularizers is None else {"regularizers": list(experiment.regularizers)}
    return {
        "name": experiment.name,
        "goal": experiment.goal,
        "notes": experiment.notes,
        "objective": {"metric": o.metric, "mode": o.mode, "reduce": o.reduce},
        **params_spec.space_to_dict(experiment.space),
        **regularizers,
        "search": search,
        "run": dict(experiment.run),
    }
