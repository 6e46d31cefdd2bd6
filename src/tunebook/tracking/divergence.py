"""Divergence: a run whose loss blows up is an infeasible outcome, not a crash.

``DivergenceCheck`` looks at each logged step; ``Diverged`` is what the trial
raises when the check fires. It is a ``SystemExit`` with exit code 0, so an
uncaught one ends the training script quietly (the executor reads the
recorded outcome), and ``except Exception`` in user code does not swallow it.
"""

from __future__ import annotations

import math
from tunebook.tracking.protocol import Divergence


class Diverged(SystemExit):
    """The trial diverged; ``reason`` says which metric, value and step.

    Exit code 0: the trial already recorded itself as infeasible (managed
    mode), so the process has nothing left to report.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(0)
        self.reason = reason

    def __str__(self) -> str:
        return f"trial diverged: {self.reason}"


class DivergenceCheck:
    """Applies a ``Divergence`` policy to logged values, one step at a time.

    Watched metrics are the objective and ``policy.loss_metrics``. A watched
    value that is NaN or +/-inf diverges; so does a loss above ``factor``
    times the first value this check saw for it, when that first value is
    finite and > 0. After a resume, "first" is the first value logged by the
    resumed process. Not thread-safe; holds one float per loss metric.
    """

    def __init__(self, policy: Divergence, objective_metric: str | None) -> None:
        self._losses = frozenset(policy.loss_metrics)
        self._factor = policy.factor
        self.watched = self._losses | ({objective_metric} if objective_metric else set())
        self._first: dict[str, float] = {}

    def reason(self, step: int, name: str, value: float) -> str | None:
        """Why ``value`` of metric ``name`` at ``step`` means divergence, or None."""
        if name not in self.watched:
            return None
        if not math.isfinite(value):
            return f"{name} is {value!r} at step {step}"
        if name not in self._losses or self._factor is None:
            return None
        first = self._first.setdefault(name, value)
        if first > 0 and value > self._factor * first:
            return f"{name} {value:.3g} exceeds {self._factor:g}x its first value {first:.3g} at step {step}"
        return None
