"""The sampler interface: trial ``i`` of a study as a pure function."""

from __future__ import annotations

import abc
from typing import Any


class Sampler(abc.ABC):
    """Chooses the params of trial ``number`` of one study.

    Contract: ``params(number)`` is a pure function of (the study's space, the
    seed, number): every process computes the same params for the same number,
    in any order, so trials are identical whatever the number of workers and a
    resumed study continues the same sequence. Params are keyed by
    hyperparameter id and include the fixed and scientific values the trial
    receives. Safe to call from several threads.
    """

    @property
    def size(self) -> int | None:
        """How many distinct trials the sampler can give; None when unbounded."""
        return None

    @abc.abstractmethod
    def params(self, number: int) -> dict[str, Any]:
        """Params (by id) of trial ``number`` (0-based); IndexError past ``size``."""

    def _check_number(self, number: int) -> None:
        if number < 0 or (self.size is not None and number >= self.size):
            raise IndexError(f"trial number {number} is outside this sampler's {self.size} points")
