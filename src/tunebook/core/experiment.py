"""An experiment: a goal, an objective, hyperparameters with roles, and how to search."""

from __future__ import annotations

import dataclasses
import itertools
from typing import TYPE_CHECKING, Any, Literal, Mapping

from tunebook.core.domains import Choice, Fixed
from tunebook.core.space import Hyperparameter, SearchSpace, format_value

if TYPE_CHECKING:
    from tunebook.core.run_spec import RunConfig

Mode = Literal["min", "max"]
Reduce = Literal["best", "final"]
Algorithm = Literal["quasi_random", "random", "grid", "explicit", "bayesian"]
StudyLayout = Literal["per_scientific_value", "joint"]

ALGORITHMS: tuple[str, ...] = ("quasi_random", "random", "grid", "explicit", "bayesian")
STUDY_LAYOUTS: tuple[str, ...] = ("per_scientific_value", "joint")


@dataclasses.dataclass(frozen=True)
class Objective:
    """What a trial is judged by: a metric, its direction, and how a curve becomes one number.

    ``reduce='best'`` takes the best value over training (retrospective
    best-checkpoint selection); ``'final'`` the last logged value.
    """

    metric: str
    mode: Mode = "min"
    reduce: Reduce = "best"


@dataclasses.dataclass(frozen=True)
class SearchConfig:
    """How trials are chosen: algorithm, budget per study, study layout and seed.

    ``bayesian`` only: ``initial`` quasi-random trials before the model
    suggests (None: the sampler's default for the study's dimensions), and
    ``warm_start``, experiments of the same store whose finished trials the
    model starts from.
    """

    algorithm: Algorithm = "quasi_random"
    trials: int | None = None  # per study; None means "all points" for grid/explicit
    studies: StudyLayout = "per_scientific_value"
    seed: int = 0
    resolution: int = 5  # grid: values per range
    points: tuple[Mapping[str, Any], ...] = ()  # explicit: the trials, by plain name
    initial: int | None = None  # bayesian: quasi-random trials before the model's
    warm_start: tuple[str, ...] = ()  # bayesian: experiment names


@dataclasses.dataclass(frozen=True)
class StudyPlan:
    """One study of an experiment: its key, its scientific values and what it samples.

    ``space`` is the experiment's space with this study's scientific values
    fixed (every scientific value kept varied in a joint study).
    """

    key: str
    scientific: Mapping[str, Any]
    space: SearchSpace


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A validated experiment. Build one with ``Experiment.from_dict`` or ``from_yaml``."""

    name: str
    objective: Objective
    space: SearchSpace
    search: SearchConfig = SearchConfig()
    goal: str = ""
    notes: str = ""
    run: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    # plain names of the hyperparameters that regularize (spec ``regularizers:``); None: not given, the
    # analysis recognizes common names (analysis.checks.regularizers)
    regularizers: tuple[str, ...] | None = None
    # the spec file it was read from (absolute), if any; not part of its identity
    source: str | None = dataclasses.field(default=None, compare=False)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], source: str | None = None) -> "Experiment":
        """Validate a spec given as plain data or with Range/Choice objects inside."""
        from tunebook.core.spec import parse_experiment

        return parse_experiment(spec, source)

    @classmethod
    def from_yaml(cls, path: str) -> "Experiment":
        """Read and validate a YAML spec file; every mistake raises SpecError."""
        from tunebook.core.spec import load_experiment

        return load_experiment(path)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain JSON-able data; ``from_dict`` of it gives an equal experiment."""
        from tunebook.core.spec import experiment_to_dict

        return experiment_to_dict(self)

    def run_config(self) -> "RunConfig":
        """The validated ``run:`` section; SpecError if it cannot run trials."""
        from tunebook.core.errors import SpecError
        from tunebook.core.run_spec import check_runnable, parse_run
        from tunebook.core.spec import Problems

        problems = Problems()
        config = parse_run(self.run, problems)
        check_runnable(config, self.objective.metric, {hp.name for hp in self.space}, problems)
        if problems:
            raise SpecError(problems, self.source)
        return config

    @property
    def caveats(self) -> tuple[Hyperparameter, ...]:
        """The fixed hyperparameters: every conclusion holds only for these values."""
        return self.space.with_role("fixed")

    def studies(self) -> list[StudyPlan]:
        """The studies to run: one per combination of scientific values, or one joint study."""
        scientific = self.space.with_role("scientific")
        if self.search.studies == "joint":
            return [StudyPlan("joint" if scientific else "default", {}, self.space)]
        return [
            StudyPlan(_study_key(values), values, self.space.resolve(values))
            for values in scientific_combinations(self.space)
        ]


def scientific_combinations(space: SearchSpace) -> list[dict[str, Any]]:
    """Every assignment of the scientific hyperparameters that a trial can see.

    Branches are honoured: a scientific hyperparameter that lives under
    ``PARENT=VALUE`` appears only in the combinations where PARENT takes VALUE.
    """
    combos: list[dict[str, Any]] = [{}]
    pending = [hp for hp in space.with_role("scientific")]
    while pending:
        level = [hp for hp in pending if all(p not in {q.id for q in pending} for p, _ in hp.condition)]
        pending = [hp for hp in pending if hp not in level]
        combos = [expanded for combo in combos for expanded in _expand(combo, level)]
    return combos


def _expand(combo: dict[str, Any], level: list[Hyperparameter]) -> list[dict[str, Any]]:
    active = [hp for hp in level if hp.is_active(combo)]
    choices = [_values(hp) for hp in active]
    return [{**combo, **dict(zip((hp.id for hp in active), pick))} for pick in itertools.product(*choices)]


def _values(hp: Hyperparameter) -> tuple[Any, ...]:
    if isinstance(hp.domain, Choice):
        return hp.domain.values
    if isinstance(hp.domain, Fixed):
        return (hp.domain.value,)
    raise ValueError(f"{hp.id}: a range cannot be enumerated into studies")


def _study_key(values: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={format_value(v)}" for k, v in values.items()) or "default"
