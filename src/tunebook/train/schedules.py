"""Learning rate schedules: constant, linear decay, cosine decay, and warmup.

Pure Python (no torch), so a planner can build, extend and print schedules
without the ``train`` extra. Each schedule is a frozen record and a function
``schedule(step) -> float`` of the 0-based index of the update.

Step convention (one rule for every schedule): a schedule is a continuous,
piecewise function of the step, sampled at the index of each update.

- A warmup ramps from 0 to the base rate over ``warmup_steps``, as the playbook
  writes it: ``lr(0) == 0``, ``lr(k) == base * k / warmup_steps``, and step
  ``warmup_steps`` is the first step of the inner schedule, at the base rate.
- A decay over ``decay_steps`` starts at the base rate and reaches its final
  rate (``learning_rate * final_fraction``) at step ``total_steps``, one past
  the last update. With ``final_fraction=0`` the last update still moves the
  parameters (``LinearDecay(1.0, 4)`` gives 1, 0.75, 0.5, 0.25).
- Past the end (``step >= total_steps``) the value stays at the final rate, so
  a scheduler asked for one step beyond the run does not fail.

This is the convention of optax's ``linear_schedule`` and
``warmup_cosine_decay_schedule``, so rates match runs made with them.

Trial parameters use the shared vocabulary: ``schedule`` (constant | linear |
cosine), ``learning_rate``, ``max_train_steps`` (warmup included),
``warmup_steps`` and, for linear only, ``decay_steps``. An optional
``final_fraction`` (default 0) is read and written for the decays.
``schedule_from_params`` reads them; ``to_params`` is its inverse.
``extend(total_steps)`` is the playbook's Round 2 rule for longer runs.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Union

from tunebook.core.errors import SpecError

__all__ = [
    "SCHEDULE_NAMES",
    "Constant",
    "CosineDecay",
    "LinearDecay",
    "Schedule",
    "ScheduleError",
    "Warmup",
    "schedule_from_params",
    "with_warmup",
]

SCHEDULE_NAMES = ("constant", "linear", "cosine")


class ScheduleError(SpecError):
    """A learning rate schedule or its trial params are invalid; fix the named fields."""

    subject = "invalid learning rate schedule"


class _Problems:
    """Collects (field, message) pairs so every mistake is reported at once."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append((field, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ScheduleError(self.items)

    def integer(self, field: str, value: Any, minimum: int) -> int | None:
        """``value`` as an int >= minimum (integral floats accepted), or None after adding a problem."""
        whole = hasattr(value, "__index__") or isinstance(value, float) and value.is_integer()
        if isinstance(value, bool) or not whole or int(value) < minimum:
            self.add(field, f"must be an integer >= {minimum}, got {value!r}")
            return None
        return int(value)

    def rate(self, field: str, value: Any, *, low: float, high: float | None = None,
             low_open: bool = True) -> float | None:
        """``value`` as a finite float in the allowed range, or None after adding a problem."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
            self.add(field, f"must be a number, got {value!r}")
            return None
        number = float(value)
        too_low = number <= low if low_open else number < low
        too_high = high is not None and number > high
        if not math.isfinite(number) or too_low or too_high:
            bounds = f"{'>' if low_open else '>='} {low:g}" + (f" and <= {high:g}" if high is not None else "")
            self.add(field, f"must be a finite number {bounds}, got {value!r}")
            return None
        return number


_FRACTION = {"low": 0.0, "high": 1.0, "low_open": False}  # final_fraction lies in [0, 1]


def _validate(record: Any, steps: Mapping[str, int]) -> None:
    """Check a base schedule's fields and store them as plain ``float``/``int`` (so ``10.0`` steps become ``10``).

    ``learning_rate`` > 0, each of ``steps`` (field: minimum) an integer, and
    ``final_fraction`` in [0, 1] when the record has one; ScheduleError names
    every bad field at once.
    """
    problems = _Problems()
    values = {"learning_rate": problems.rate("learning_rate", record.learning_rate, low=0.0)}
    for field, minimum in steps.items():
        values[field] = problems.integer(field, getattr(record, field), minimum)
    if hasattr(record, "final_fraction"):
        values["final_fraction"] = problems.rate("final_fraction", record.final_fraction, **_FRACTION)
    problems.raise_if_any()
    for field, value in values.items():
        object.__setattr__(record, field, value)


def _step_index(step: Any) -> int:
    """The update index as an int; a negative or non-integer step is a caller bug (ValueError/TypeError)."""
    index = operator.index(step)
    if index < 0:
        raise ValueError(f"step must be >= 0, got {step!r}")
    return index


class Schedule(Protocol):
    """What every schedule offers: ``schedule(step) -> float`` and the Round 2 operations."""

    @property
    def learning_rate(self) -> float: ...

    @property
    def total_steps(self) -> int: ...

    def __call__(self, step: int) -> float: ...

    def extend(self, total_steps: int) -> "Schedule": ...

    def to_params(self) -> dict[str, Any]: ...


def _check_extend(schedule: Any, total_steps: int) -> int:
    problems = _Problems()
    total = problems.integer("max_train_steps", total_steps, 1)
    problems.raise_if_any()
    if total < schedule.total_steps:
        raise ScheduleError([("max_train_steps", f"extend() cannot shrink a schedule of {schedule.total_steps} "
                                                 f"steps to {total_steps!r}")])
    return total


@dataclass(frozen=True)
class Constant:
    """The same rate for ``steps`` updates."""

    learning_rate: float
    steps: int

    def __post_init__(self) -> None:
        _validate(self, {"steps": 1})

    @property
    def total_steps(self) -> int:
        return self.steps

    def __call__(self, step: int) -> float:
        _step_index(step)
        return float(self.learning_rate)

    def extend(self, total_steps: int) -> "Constant":
        """The same rate for ``total_steps`` updates."""
        return Constant(self.learning_rate, _check_extend(self, total_steps))

    def to_params(self) -> dict[str, Any]:
        return {"schedule": "constant", "learning_rate": self.learning_rate,
                "max_train_steps": self.steps, "warmup_steps": 0}


@dataclass(frozen=True)
class LinearDecay:
    """Constant for ``constant_steps``, then linear over ``decay_steps`` to ``learning_rate * final_fraction``.

    ``lr(k) = learning_rate`` for ``k <= constant_steps``, then
    ``learning_rate * (1 - (1 - final_fraction) * (k - constant_steps) / decay_steps)``;
    the final rate is reached at ``k = total_steps`` (one past the last update).
    """

    learning_rate: float
    decay_steps: int
    constant_steps: int = 0
    final_fraction: float = 0.0

    def __post_init__(self) -> None:
        _validate(self, {"decay_steps": 1, "constant_steps": 0})

    @property
    def total_steps(self) -> int:
        return self.constant_steps + self.decay_steps

    def __call__(self, step: int) -> float:
        into_decay = min(max(_step_index(step) - self.constant_steps, 0), self.decay_steps)
        return float(self.learning_rate * (1.0 - (1.0 - self.final_fraction) * into_decay / self.decay_steps))

    def extend(self, total_steps: int) -> "LinearDecay":
        """Round 2: keep the length of the decay, extend the constant part to reach ``total_steps``."""
        total = _check_extend(self, total_steps)
        return LinearDecay(self.learning_rate, self.decay_steps, total - self.decay_steps, self.final_fraction)

    def to_params(self) -> dict[str, Any]:
        params = {"schedule": "linear", "learning_rate": self.learning_rate, "max_train_steps": self.total_steps,
                  "warmup_steps": 0, "decay_steps": self.decay_steps}
        if self.final_fraction:
            params["final_fraction"] = self.final_fraction
        return params


@dataclass(frozen=True)
class CosineDecay:
    """Half a cosine from ``learning_rate`` down to ``learning_rate * final_fraction`` over ``decay_steps``.

    ``lr(k) = learning_rate * (f + (1 - f) * (1 + cos(pi * k / decay_steps)) / 2)``
    with ``f = final_fraction``; the final rate is reached at ``k = decay_steps``.
    """

    learning_rate: float
    decay_steps: int
    final_fraction: float = 0.0

    def __post_init__(self) -> None:
        _validate(self, {"decay_steps": 1})

    @property
    def total_steps(self) -> int:
        return self.decay_steps

    def __call__(self, step: int) -> float:
        progress = min(_step_index(step), self.decay_steps) / self.decay_steps
        cosine = (1.0 + math.cos(math.pi * progress)) / 2.0
        return float(self.learning_rate * (self.final_fraction + (1.0 - self.final_fraction) * cosine))

    def extend(self, total_steps: int) -> "CosineDecay":
        """Round 2: keep the base rate and stretch the cosine over ``total_steps``."""
        return CosineDecay(self.learning_rate, _check_extend(self, total_steps), self.final_fraction)

    def to_params(self) -> dict[str, Any]:
        params = {"schedule": "cosine", "learning_rate": self.learning_rate,
                  "max_train_steps": self.decay_steps, "warmup_steps": 0}
        if self.final_fraction:
            params["final_fraction"] = self.final_fraction
        return params


BaseSchedule = Union[Constant, LinearDecay, CosineDecay]


@dataclass(frozen=True)
class Warmup:
    """A linear ramp from 0 to the inner schedule's first rate, prepended to it.

    ``lr(k) = schedule(0) * k / warmup_steps`` for ``k < warmup_steps``, then
    ``schedule(k - warmup_steps)``. ``total_steps`` is ``warmup_steps`` plus the
    inner schedule's: 1,000 warmup steps before a 10,000-step schedule make an
    11,000-step run, as the playbook says.
    """

    schedule: BaseSchedule
    warmup_steps: int

    def __post_init__(self) -> None:
        problems = _Problems()
        if not isinstance(self.schedule, (Constant, LinearDecay, CosineDecay)):
            problems.add("schedule", f"must be a Constant, LinearDecay or CosineDecay, got {self.schedule!r}")
        warmup_steps = problems.integer("warmup_steps", self.warmup_steps, 1)
        problems.raise_if_any()
        object.__setattr__(self, "warmup_steps", warmup_steps)

    @property
    def learning_rate(self) -> float:
        return self.schedule.learning_rate

    @property
    def total_steps(self) -> int:
        return self.warmup_steps + self.schedule.total_steps

    def __call__(self, step: int) -> float:
        index = _step_index(step)
        if index < self.warmup_steps:
            return float(self.schedule(0) * index / self.warmup_steps)
        return self.schedule(index - self.warmup_steps)

    def extend(self, total_steps: int) -> "Warmup":
        """Round 2: keep the warmup and extend the inner schedule to reach ``total_steps``."""
        total = _check_extend(self, total_steps)
        return Warmup(self.schedule.extend(total - self.warmup_steps), self.warmup_steps)

    def to_params(self) -> dict[str, Any]:
        params = self.schedule.to_params()
        params["max_train_steps"] = self.total_steps
        params["warmup_steps"] = self.warmup_steps
        return params


def with_warmup(schedule: BaseSchedule, warmup_steps: int) -> BaseSchedule | Warmup:
    """``schedule`` with ``warmup_steps`` of warmup prepended (unchanged when ``warmup_steps`` is 0)."""
    if _Problems().integer("warmup_steps", warmup_steps, 0) == 0:  # 0, 0.0, numpy's 0; not False
        return schedule
    return Warmup(schedule, warmup_steps)


def schedule_from_params(params: Mapping[str, Any]) -> BaseSchedule | Warmup:
    """The schedule named by a trial's params (other keys are ignored; None means absent).

    Reads ``schedule`` (default constant), ``learning_rate`` and
    ``max_train_steps`` (required, warmup included), ``warmup_steps`` (default
    0), ``decay_steps`` (linear only, default every post-warmup step; ignored by
    constant and cosine so it can be a fixed value beside a schedule choice)
    and ``final_fraction`` (linear and cosine, default 0). Raises
    ScheduleError naming every bad param and its value.
    """
    given = {key: value for key, value in params.items() if value is not None}
    name, rate, total, warmup, final, decay = _read_params(given)
    after_warmup = total - warmup
    if name == "constant":
        inner: BaseSchedule = Constant(rate, after_warmup)
    elif name == "cosine":
        inner = CosineDecay(rate, after_warmup, final)
    else:
        decay = after_warmup if decay is None else decay
        inner = LinearDecay(rate, decay, after_warmup - decay, final)
    return with_warmup(inner, warmup)


def _read_params(given: Mapping[str, Any]) -> tuple:
    """(schedule, learning_rate, max_train_steps, warmup_steps, final_fraction, decay_steps or None), validated."""
    problems = _Problems()
    name = given.get("schedule", "constant")
    if name not in SCHEDULE_NAMES:
        problems.add("schedule", f"must be one of {', '.join(SCHEDULE_NAMES)}, got {name!r}")
    for key in ("learning_rate", "max_train_steps"):
        if key not in given:
            problems.add(key, "is required to build a learning rate schedule")
    rate = problems.rate("learning_rate", given["learning_rate"], low=0.0) if "learning_rate" in given else None
    total = problems.integer("max_train_steps", given["max_train_steps"], 1) if "max_train_steps" in given else None
    warmup = problems.integer("warmup_steps", given.get("warmup_steps", 0), 0)
    final = problems.rate("final_fraction", given.get("final_fraction", 0.0), **_FRACTION)
    if total is not None and warmup is not None and warmup >= total:
        problems.add("warmup_steps", f"must be below max_train_steps={total} to leave steps after warmup, "
                                     f"got {warmup}")
    decay = None
    if name == "linear" and "decay_steps" in given:
        decay = problems.integer("decay_steps", given["decay_steps"], 1)
        after_warmup = None if total is None or warmup is None else total - warmup
        if decay is not None and after_warmup is not None and decay > after_warmup:
            problems.add("decay_steps", f"must be at most max_train_steps - warmup_steps = {after_warmup} "
                                        f"(the decay cannot be longer than the run), got {decay}")
    problems.raise_if_any()
    return name, rate, total, warmup, final, decay
