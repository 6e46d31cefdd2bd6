"""Frozen records of what the store holds. State changes go through the store."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Mapping

from tunebook.core.states import TrialState


def plain_name(param_id: str) -> str:
    """The name a trial receives for a stored parameter id.

    ``learning_rate[optimizer=adam]`` -> ``learning_rate``.
    """
    return param_id.split("[", 1)[0]


def trial_name(study_key: str, number: int) -> str:
    """How a user reads and names a trial everywhere: ``STUDY/NUMBER`` (``num_layers=2/5``, ``default/3``).

    ``NUMBER`` is the trial's 0-based position in its study, as ``tunebook
    trials`` prints it; the store's internal ids are never shown. Prefixed with
    the experiment (``digits-depth/num_layers=2/5``) it is the TRIAL reference
    that ``tunebook plan`` and ``tunebook advise`` accept.
    """
    return f"{study_key}/{int(number)}"


@dataclasses.dataclass(frozen=True)
class ExperimentRecord:
    id: int
    name: str
    spec: Mapping[str, Any]  # the spec as a plain JSON-able dict
    created_at: datetime
    source: str | None = None  # the spec file it was last run from, if any


@dataclasses.dataclass(frozen=True)
class StudyRecord:
    id: int
    experiment_id: int
    key: str  # e.g. "num_layers=2", or "joint"
    scientific: Mapping[str, Any]  # scientific parameter id -> value ({} when joint)
    budget: int  # number of trials this study should reach
    created_at: datetime
    source_trial_id: int | None = None  # a retrain study: the trial whose configuration it reruns


@dataclasses.dataclass(frozen=True)
class Suggestion:
    """A sampler's choice for a new trial: its params and, when it says, how it chose them.

    ``params`` are keyed by hyperparameter id. ``info`` (plain JSON-able data,
    or None) is stored with the trial as ``Trial.suggestion``, e.g.
    ``{"by": "model", "conditioned_on": [0, 2], "pending": [3], "reason": "..."}``.
    """

    params: Mapping[str, Any]
    info: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class Trial:
    id: int
    study_id: int
    number: int  # 0-based position in the study's sampling sequence
    params: Mapping[str, Any]  # parameter id -> value (ids keep branch suffixes)
    state: TrialState
    attempt: int  # 0 on the first run, +1 for each retry or reclaim
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    objective: float | None
    best_step: int | None
    reason: str | None
    code_version_id: int | None = None  # what produced it (storage's code_versions); None when unknown
    suggestion: Mapping[str, Any] | None = None  # how the sampler chose its params, when it says

    @property
    def plain_params(self) -> dict[str, Any]:
        """Params as the trial receives them: plain names, no branch suffixes."""
        return {plain_name(k): v for k, v in self.params.items()}


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    trial_id: int
    step: int
    path: str
    value: float | None  # the objective at that step, used to keep the N best
    created_at: datetime


@dataclasses.dataclass(frozen=True)
class Note:
    id: int
    experiment_id: int
    text: str
    created_at: datetime
