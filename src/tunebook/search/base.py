"""The sampler interface: the next trial of a study from what the study has seen so far.

Every sampler answers ``suggest(number, history)``: the params of trial
``number`` given the study's trials so far (``Observed`` records). A
history-free sampler (quasi-random, random, grid, explicit) ignores the
history, so its trial ``i`` is a pure function of (space, seed, i); a
model-based sampler (Bayesian optimization) reads it, so its trial ``i`` is a
pure function of (space, seed, i, the finished and pending trials it saw).
The runner builds the history from the store; a benchmark builds it directly.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, Mapping, Sequence

from tunebook.core.records import Suggestion, Trial
from tunebook.core.states import TrialState

__all__ = ["CannotModel", "HistoryFreeSampler", "Observed", "Sampler", "Suggestion", "observed"]


class CannotModel(Exception):
    """A sampler that learns from results cannot learn from this history; the message says why.

    Not a bug and not the user's mistake: such a sampler falls back to a
    history-free point and records the reason.
    """


@dataclasses.dataclass(frozen=True)
class Observed:
    """What a sampler may know of one trial.

    ``state``: RUNNING or WAITING trials are pending (their params are taken,
    their outcome unknown); COMPLETE ones have an ``objective`` (raw, in the
    experiment's direction); INFEASIBLE ones diverged; FAILED ones crashed
    (neither good nor bad, only not worth suggesting again). ``origin`` is None
    for the study's own trials and names where a trial came from otherwise
    (e.g. ``explore/default/3`` for a warm-start trial of another experiment).
    """

    number: int
    params: Mapping[str, Any]
    state: TrialState
    objective: float | None = None
    origin: str | None = None


def observed(trial: Trial, origin: str | None = None) -> Observed:
    """The ``Observed`` record of a stored trial."""
    return Observed(trial.number, trial.params, trial.state, trial.objective, origin)


class Sampler(abc.ABC):
    """Chooses the params of the trials of one study.

    Contract: ``suggest(number, history)`` returns trial ``number``'s params
    (by hyperparameter id, including the fixed and scientific values the trial
    receives) as a Suggestion; ``info``, if any, is stored with the trial. It
    is a pure function of (the sampler's space and seed, number, history): the
    same arguments give the same params in any process. ``history`` holds the
    study's trials so far, in number order, pending ones included. Safe to
    call from several threads.
    """

    @property
    def size(self) -> int | None:
        """How many distinct trials the sampler can give; None when unbounded."""
        return None

    @property
    def uses_history(self) -> bool:
        """Whether ``suggest`` reads its history (False: callers may pass ``()``)."""
        return True

    @property
    def history_free_trials(self) -> int | None:
        """How many leading trials do not depend on the history (None: all of them).

        ``tunebook sample`` lists these; the rest exist only once earlier
        trials have results.
        """
        return None if not self.uses_history else 0

    @abc.abstractmethod
    def suggest(self, number: int, history: Sequence[Observed]) -> Suggestion:
        """Trial ``number``'s (0-based) params; IndexError past ``size``."""

    def _check_number(self, number: int) -> None:
        if number < 0 or (self.size is not None and number >= self.size):
            raise IndexError(f"trial number {number} is outside this sampler's {self.size} points")


class HistoryFreeSampler(Sampler):
    """A sampler whose trial ``i`` is a pure function of (space, seed, i).

    Every process computes the same params for the same number, in any order,
    so trials are identical whatever the number of workers and a resumed study
    continues the same sequence. ``params(number)`` is that function;
    ``suggest`` ignores the history and records no info.
    """

    @property
    def uses_history(self) -> bool:
        return False

    @abc.abstractmethod
    def params(self, number: int) -> dict[str, Any]:
        """Params (by id) of trial ``number`` (0-based); IndexError past ``size``."""

    def suggest(self, number: int, history: Sequence[Observed] = ()) -> Suggestion:
        return Suggestion(self.params(number))
