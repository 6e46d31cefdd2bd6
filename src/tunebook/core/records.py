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


RETRAIN = "retrain"  # a study that reruns one trial's configuration with other seeds: retrain:STUDY:NUMBER
RERUN = "rerun"  # a study that reruns one trial exactly (same seed, same code): rerun:STUDY:NUMBER


def is_rerun_study(key: str) -> bool:
    """Whether study ``key`` is an exact rerun (``tunebook rerun``): a reproduction, not another seed."""
    return key.startswith(f"{RERUN}:")


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
class CodeVersion:
    """What produced a trial: the repository state and the software around it.

    ``info`` is the JSON document ``tunebook.execution.code_version.capture``
    writes: ``git`` (root, commit, branch, dirty, remote, untracked, the diff's
    sizes and a ``diff_note`` when it was cut; absent outside a repository),
    ``tunebook``, ``python``, ``platform``, ``host``, ``packages`` and
    ``problems`` (what could not be read, and why). ``diff`` is the uncommitted
    change against ``commit`` (``git apply``-able), None when there is none.
    One row serves every trial produced by identical code (same ``digest``).
    """

    id: int
    digest: str  # sha256 of the canonical JSON of (info, diff)
    info: Mapping[str, Any]
    diff: str | None
    created_at: datetime

    @property
    def git(self) -> Mapping[str, Any]:
        """The recorded repository ({} when none was found)."""
        return self.info.get("git") or {}

    @property
    def commit(self) -> str | None:
        return self.git.get("commit")

    @property
    def dirty(self) -> bool | None:
        """Whether the tree had uncommitted changes; None outside a repository."""
        return self.git.get("dirty") if self.git else None

    @property
    def not_exact(self) -> list[str]:
        """Why a rerun of this version cannot reproduce the code exactly ([] when it can)."""
        return list(self.info.get("not_exact") or [])


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
    trial_id: int | None = None  # the trial it is about; None: a note on the experiment


@dataclasses.dataclass(frozen=True)
class LaunchRecord:
    """One entry of a line's launch log (``storage.launches``): the baseline made at launch ``seq``.

    ``hash`` = sha256(``prev_hash`` + canonical JSON of ``entry``); ``prev_hash``
    is None for a line's first entry.
    """

    line: str
    seq: int  # 0, 1, 2, ... within its line
    entry: Mapping[str, Any]  # configuration, evidence, code version, note, ... (plain JSON data)
    prev_hash: str | None
    hash: str
    created_at: datetime
