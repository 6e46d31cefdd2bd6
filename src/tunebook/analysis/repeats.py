"""Repeats: trials of one experiment that ran the same configuration.

Two trials are **repeats** of one configuration when their hyperparameters
are identical apart from the seed parameter (``seed`` unless told
otherwise): a ``tunebook retrain`` study, an imported history that re-ran a
point with other seeds, or a program without a seed run twice. The spread
of a configuration's repeats is its trial variance (playbook: "Determining
whether to adopt a training pipeline change or hyperparameter
configuration"). Which study a trial belongs to does not matter; values
must be equal exactly (a retrain copies its source's params), and a
parameter a trial's branch lacks is absent, not a value. An exact rerun
(``tunebook rerun``: a ``rerun:`` study, same seed and code) reproduces its
source and is no new sample of trial variance: never a repeat.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

from tunebook.core.records import is_rerun_study, plain_name

if TYPE_CHECKING:
    import pandas as pd

    from tunebook.analysis.data import ExperimentData

DEFAULT_SEED_PARAM = "seed"

Config = tuple[tuple[str, Any], ...]


@dataclasses.dataclass(frozen=True)
class Repeats:
    """One configuration and the trials that ran it (store ids, in study and number order)."""

    config: Config  # (param id, value) pairs, sorted by id, without the seed parameter
    trial_ids: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.trial_ids)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.config)


def configuration(params: dict[str, Any], seed_param: str = DEFAULT_SEED_PARAM) -> Config:
    """The configuration a trial's params name: every set value but the seed's, sorted by id.

    ``None`` and NaN are "not set" (a parameter of another branch, as
    ``ExperimentData.trials`` fills it), so they are dropped.
    """
    return tuple(sorted(
        (key, _plain(value)) for key, value in params.items()
        if plain_name(key) != seed_param and not _unset(value)
    ))


def repeat_groups(data: "ExperimentData", seed_param: str = DEFAULT_SEED_PARAM, min_size: int = 2) -> list[Repeats]:
    """The configurations of ``data`` run by at least ``min_size`` trials, largest first (ties: first run first).

    Every trial counts, whatever its state: a repeat that diverged is part
    of the configuration's variance, and callers decide how to score it.
    """
    ids = data.param_ids() + [c for c in _extra_columns(data)]
    names = sorted(c for c in ids if plain_name(c) != seed_param)
    trials = data.trials[~data.trials["study"].map(is_rerun_study).astype(bool)]
    columns = [_column_values(trials[name]) for name in names]  # by column: ~20x faster than row by row
    keyed: dict[tuple, list[int]] = {}
    for trial_id, key in zip(trials["trial_id"].tolist(), zip(*columns) if columns else ((),) * len(trials)):
        keyed.setdefault(key, []).append(int(trial_id))
    groups = {tuple((n, v) for n, v in zip(names, key) if v is not _UNSET): ids_ for key, ids_ in keyed.items()}
    found = [Repeats(config, tuple(trial_ids)) for config, trial_ids in groups.items() if len(trial_ids) >= min_size]
    return sorted(found, key=lambda r: -len(r))  # sorted() is stable: equal sizes keep their first-run order


def repeats_of(data: "ExperimentData", trial_id: int, seed_param: str = DEFAULT_SEED_PARAM) -> Repeats:
    """The configuration of trial ``trial_id`` and every trial that repeats it (itself included; a rerun trial
    stands alone)."""
    for group in repeat_groups(data, seed_param, min_size=1):
        if int(trial_id) in group.trial_ids:
            return group
    if int(trial_id) in set(data.trials["trial_id"].astype(int)):
        return Repeats((), (int(trial_id),))
    raise KeyError(f"no trial with id {trial_id} in experiment {data.experiment.name!r}")


_UNSET = object()  # a parameter a trial's branch lacks (None or NaN in the frame)


def _column_values(column: "pd.Series") -> list[Any]:
    """One param column as plain Python values (``configuration``'s), unset ones as ``_UNSET``."""
    missing = column.isna().tolist()
    return [_UNSET if gone else _plain(value) for value, gone in zip(column.tolist(), missing)]


def _extra_columns(data: "ExperimentData") -> list[str]:
    """Param columns outside the spec's space (e.g. a seed only retrains set), in frame order."""
    from tunebook.analysis.data import TRIAL_COLUMNS

    known = set(TRIAL_COLUMNS) | set(data.param_ids())
    return [c for c in data.trials.columns if c not in known]


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    """numpy scalars as Python values, so equal configurations hash equal."""
    return value.item() if hasattr(value, "item") else value
