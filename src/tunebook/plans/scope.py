"""Is a finished experiment the learning-rate sweep a procedure reads? What else varies in it.

``advise instability`` and ``advise max-steps`` follow procedures the
playbook writes for a learning-rate sweep of *one* configuration ("Do a
learning rate sweep and find the best learning rate lr*"; "a constant
learning rate sweep ... where each trial trains for N steps"). A
hyperparameter other than the learning rate that takes more than one value
among the finished trials makes their comparison meaningless: a categorical
choice that varies (``optimizer: adam, sgd``) means one lr* and one stability
limit per choice; a number that varies (``num_layers``, ``beta1``) moves the
best learning rate and the steps to fit with it. Such experiments are
refused (``NotASweepError``, naming each hyperparameter that varies and its
values), never read as if they were a sweep.

A hyperparameter named ``seed`` may vary: repeats of one configuration.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Sequence

import pandas as pd

from tunebook.core.domains import Choice
from tunebook.plans.records import PlanInputError

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

__all__ = ["LR", "REPEATS", "NotASweepError", "Varying", "finished", "require_lr_sweep", "varying"]

LR = "learning_rate"
REPEATS = ("seed",)  # may vary in a sweep: repeats of one configuration
FINISHED = ("complete", "infeasible")


class NotASweepError(PlanInputError):
    """The experiment is not a learning-rate sweep of one configuration: names what varies and what would do."""

    subject = "not a learning-rate sweep"

    def __init__(self, problems: list[tuple[str, str]], footer: str):
        self.footer = footer
        super().__init__(problems)


@dataclasses.dataclass(frozen=True)
class Varying:
    """A hyperparameter (by plain name) that takes several values among the finished trials."""

    name: str
    values: tuple[Any, ...]  # distinct values, sorted
    categorical: bool  # a Choice of non-numbers (optimizer): one lr* per value

    def describe(self) -> str:
        """``varies (adam, sgd): ...`` or ``varies (0.81 to 0.97, 8 values)``."""
        if self.categorical or len(self.values) <= 4:
            shown = ", ".join(_show(v) for v in self.values)
        else:
            shown = f"{_show(self.values[0])} to {_show(self.values[-1])}, {len(self.values)} values"
        why = (f"mixed {self.name} values, each with its own lr* and its own stability limit" if self.categorical
               else "it moves the best learning rate, so the learning rates are not compared on one configuration")
        return f"varies ({shown}): {why}"


def finished(data: "ExperimentData") -> pd.DataFrame:
    """The trials a procedure reads: complete or infeasible (diverged) ones."""
    return data.trials[data.trials["state"].isin(FINISHED)]


def varying(data: "ExperimentData", trials: pd.DataFrame, keep: Sequence[str] = (LR,)) -> list[Varying]:
    """The hyperparameters besides ``keep`` and ``REPEATS`` with more than one value among ``trials``.

    Same-named hyperparameters of different branches count as one (a
    conditional ``beta1`` is one name); values are read where a trial has them.
    """
    by_name: dict[str, tuple[set, bool]] = {}
    for hp in data.experiment.space:
        if hp.name in keep or hp.name in REPEATS or hp.id not in trials.columns:
            continue
        values, categorical = by_name.get(hp.name, (set(), False))
        values |= {_plain(v) for v in trials[hp.id] if v is not None and not (isinstance(v, float) and v != v)}
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        by_name[hp.name] = (values, categorical or (isinstance(hp.domain, Choice) and not numeric))
    return [Varying(name, tuple(sorted(values, key=_order)), categorical)
            for name, (values, categorical) in by_name.items() if len(values) > 1]


def require_lr_sweep(data: "ExperimentData", trials: pd.DataFrame, experiment: str, procedure: str,
                     remedy: str) -> None:
    """NotASweepError when anything but the learning rate (and ``seed``) varies among ``trials``.

    ``procedure`` names the command (``advise instability``); ``remedy`` says
    what experiment it would need instead.
    """
    found = varying(data, trials)
    if not found:
        return
    found.sort(key=lambda v: not v.categorical)  # mixed optimizers first: the most common cause
    raise NotASweepError(
        [(v.name, v.describe()) for v in found],
        f"{procedure} reads a sweep of one configuration in which only {LR} varies (and {', '.join(REPEATS)}, "
        f"for repeats); {len(found)} other hyperparameter{'s vary' if len(found) > 1 else ' varies'} in "
        f"{experiment!r}. It needs: {remedy}",
    )


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones, so that 1 and np.int64(1) are one value."""
    return value.item() if hasattr(value, "item") else value


def _order(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, (int, float)) and not isinstance(value, bool) else (1, str(value))


def _show(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
