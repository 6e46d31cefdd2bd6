"""Retrain studies: one configuration rerun with fresh seeds, to measure its trial variance.

A retrain of trial ``STUDY/NUMBER`` is a study keyed ``retrain:STUDY:NUMBER``
(``rerun:STUDY:NUMBER`` for an exact rerun) in the same experiment, linked
to its source by ``source_trial_id`` and holding the source study's
scientific values. Its trial ``i`` has the source's params with the seed
parameter set to ``repeat_seeds(...)[i]``, so the source and its N repeats
are N+1 seeds of one configuration (``tunebook.analysis.repeats``).

The seed rule, a pure function of the source's seed ``s`` (0 when the
source has none: the usual default of a program that reads an optional
seed) and ``i``:

- unbounded (a fixed seed, or no seed hyperparameter): ``s + 1 + i``;
- an integer range ``[low, high]``: the values after ``s`` in the range,
  wrapping around: ``low + (s - low + 1 + i) mod (high - low + 1)``;
- a choice of integers: the values after ``s`` in the list, wrapping around.

Seeds are thus distinct from each other and from the source's, and a
larger ``-n`` extends the same sequence. A range or choice too small for
that raises RetrainError.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from tunebook.core.domains import Choice, Fixed, Range
from tunebook.core.errors import TunebookError
from tunebook.core.experiment import Experiment
from tunebook.core.records import RERUN, RETRAIN, StudyRecord, Trial, plain_name
from tunebook.core.space import Hyperparameter
from tunebook.execution.runner import PlannedStudy
from tunebook.search.enumerated import ListSampler



class RetrainError(TunebookError):
    """A retrain that cannot be planned: a seed parameter that is not an integer, too few seeds, ..."""


@dataclasses.dataclass(frozen=True)
class SeedSlot:
    """Where a configuration's seed lives: the param id repeats set, the domain (None: not in the spec)."""

    name: str
    param_id: str
    domain: Range | Choice | Fixed | None

    @property
    def in_spec(self) -> bool:
        return self.domain is not None


def study_key(kind: str, source_study: str, number: int) -> str:
    """``retrain:num_layers=2:5``: what the study is, and the trial it reruns (no ``/``: TRIAL refs stay readable)."""
    return f"{kind}:{source_study}:{int(number)}"


def seed_slot(experiment: Experiment, source: Trial, seed_param: str, required: bool = False) -> SeedSlot:
    """The seed hyperparameter named ``seed_param`` as the source trial has it.

    RetrainError when it is a scientific hyperparameter (each value would be
    its own study), not an integer one (a float range, non-integer values),
    or ``required`` (the user named it) and the spec has no such hyperparameter.
    """
    named = [hp for hp in experiment.space if hp.name == seed_param]
    if not named and required:
        names = ", ".join(sorted({hp.name for hp in experiment.space}))
        raise RetrainError(
            f"--seed-param {seed_param}: experiment {experiment.name!r} has no hyperparameter {seed_param!r}; "
            f"its hyperparameters: {names}"
        )
    if not named:
        return SeedSlot(seed_param, seed_param, None)
    active = [hp for hp in named if hp.id in source.params] or named
    hp = active[0]
    if hp.role == "scientific":
        raise RetrainError(
            f"--seed-param {seed_param}: {seed_param!r} is a scientific hyperparameter of experiment "
            f"{experiment.name!r}; a seed must be nuisance or fixed to be varied across repeats"
        )
    _check_integer(hp, seed_param)
    return SeedSlot(seed_param, hp.id, hp.domain)


def _check_integer(hp: Hyperparameter, seed_param: str) -> None:
    domain = hp.domain
    if isinstance(domain, Range):
        ok = domain.type == "int"
        shown = f"a {domain.type} range {domain.describe()}"
    else:
        values = domain.values if isinstance(domain, Choice) else (domain.value,)
        ok = all(_is_int(v) for v in values)
        shown = f"{domain.describe()}"
    if not ok:
        raise RetrainError(
            f"--seed-param {seed_param}: hyperparameter {hp.id!r} is {shown}, not an integer; "
            f"a seed must be an integer hyperparameter (name another with --seed-param)"
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def source_seed(slot: SeedSlot, source: Trial) -> int:
    """The seed the source trial ran with: its param, else the spec's fixed value, else 0."""
    value = source.params.get(slot.param_id)
    if _is_int(value):
        return int(value)
    if isinstance(slot.domain, Fixed) and _is_int(slot.domain.value):
        return int(slot.domain.value)
    return 0


def repeat_seeds(slot: SeedSlot, seed: int, n: int) -> list[int]:
    """The seeds of repeats ``0..n-1`` of a source that ran with ``seed`` (the rule in the module docstring)."""
    domain = slot.domain
    if isinstance(domain, Range):
        low, size = int(domain.low), int(domain.high) - int(domain.low) + 1
        _enough(slot, size, n)
        return [low + (seed - low + 1 + i) % size for i in range(n)]
    if isinstance(domain, Choice):
        values = [int(v) for v in domain.values]
        _enough(slot, len(values), n)
        start = values.index(seed) + 1 if seed in values else 0
        picked = [values[(start + i) % len(values)] for i in range(len(values))]
        return [v for v in picked if v != seed][:n]
    return [seed + 1 + i for i in range(n)]


def _enough(slot: SeedSlot, size: int, n: int) -> None:
    if n > size - 1:
        raise RetrainError(
            f"-n {n}: hyperparameter {slot.param_id!r} ({slot.domain.describe()}) has {size} values, so at most "
            f"{size - 1} repeats can have seeds different from the source's and from each other"
        )


def repeat_params(source: Trial, slot: SeedSlot, seeds: list[int]) -> list[dict[str, Any]]:
    """The source's params (by id) with the seed set to each of ``seeds``."""
    return [{**source.params, slot.param_id: seed} for seed in seeds]


def retrain_study(
    kind: str, source: Trial, source_study: StudyRecord, slot: SeedSlot, n: int, had: int = 0,
) -> PlannedStudy:
    """The study of ``n`` repeats of ``source`` (at least ``had``, the trials it already has: a budget never shrinks)."""
    budget = max(n, had)
    seeds = repeat_seeds(slot, source_seed(slot, source), budget)
    return PlannedStudy(
        key=study_key(kind, source_study.key, source.number),
        scientific=dict(source_study.scientific),
        sampler=ListSampler(repeat_params(source, slot, seeds)),
        budget=budget,
        source_trial_id=source.id,
    )


def seed_notice(slot: SeedSlot) -> str | None:
    """What the user must hear about the seed before the repeats run, or None when it is an ordinary nuisance.

    A spec without the seed cannot name ``{seed}`` in its command (the spec
    would not load), so such a program can only read it from its params.
    """
    if slot.domain is None:
        return (
            f"warning: the experiment has no hyperparameter {slot.name!r} (neither nuisance nor fixed), and its "
            f"command cannot name {{{slot.name}}}. Each repeat still gets its own {slot.name} in its params "
            "(TUNEBOOK_PARAMS, params.json, a trial function's params); a program that does not read it varies only "
            "by its own non-determinism, which is then the trial variance measured here. If the seed has another "
            "name, give it with --seed-param"
        )
    if isinstance(slot.domain, Fixed):
        return (
            f"note: {slot.param_id!r} is fixed at {slot.domain.value!r} in the spec; each repeat overrides it with "
            "its own seed, the one thing that must vary between repeats"
        )
    return None


def is_repeat_key(key: str) -> bool:
    """Whether a study key names a retrain or rerun study (``study_key``'s form), not a search study."""
    return key.startswith((f"{RETRAIN}:", f"{RERUN}:"))


def plain_seed(params: Mapping[str, Any], seed_param: str) -> Any:
    """The seed among a trial's params by id (None when it has none)."""
    return next((v for k, v in params.items() if plain_name(k) == seed_param), None)
