"""What values one hyperparameter may take: a range, a choice, or a fixed value.

Each domain maps a point ``u`` of the unit interval to a value without bias:
log ranges are uniform in log space, integers each get their share of the
interval, and every category of a choice gets an equal share.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

Scale = Literal["linear", "log"]
NumberType = Literal["float", "int"]


@dataclasses.dataclass(frozen=True)
class Range:
    """A numeric interval ``[low, high]``, on a linear or log scale, of floats or ints."""

    low: float
    high: float
    scale: Scale = "linear"
    type: NumberType = "float"

    @property
    def is_varied(self) -> bool:
        return True

    def from_unit(self, u: float) -> float | int:
        """The value at position ``u`` in [0, 1) of the interval, on its scale."""
        if self.type == "int":
            return self._int_from_unit(u)
        if self.scale == "log":
            lo, hi = math.log(self.low), math.log(self.high)
            return min(max(math.exp(lo + u * (hi - lo)), self.low), self.high)
        return self.low + u * (self.high - self.low)

    def _int_from_unit(self, u: float) -> int:
        # Each integer owns an equal slice of [0, 1) (linear) or of log space
        # between low - 1/2 and high + 1/2 (log), so none is favoured.
        low, high = int(self.low), int(self.high)
        if self.scale == "log":
            lo, hi = math.log(low - 0.5), math.log(high + 0.5)
            value = round(math.exp(lo + u * (hi - lo)))
        else:
            value = low + math.floor(u * (high - low + 1))
        return min(max(int(value), low), high)

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.type == "int" and isinstance(value, float) and not value.is_integer():
            return False
        return self.low <= value <= self.high

    def grid(self, resolution: int) -> list[float | int]:
        """``resolution`` evenly spaced values on the range's own scale, ends included."""
        if resolution == 1:
            points = [0.5]
        else:
            points = [k / (resolution - 1) for k in range(resolution)]
        if self.scale == "log":
            lo, hi = math.log(self.low), math.log(self.high)
            values = [math.exp(lo + p * (hi - lo)) for p in points]
            if resolution > 1:
                values[0], values[-1] = self.low, self.high
        else:
            values = [self.low + p * (self.high - self.low) for p in points]
        if self.type == "int":
            return list(dict.fromkeys(int(round(v)) for v in values))
        return values

    def describe(self) -> str:
        extra = "" if self.scale == "linear" else ", log"
        extra += "" if self.type == "float" else ", int"
        return f"[{self.low:g}, {self.high:g}{extra}]"


@dataclasses.dataclass(frozen=True)
class Choice:
    """A finite list of values (categorical or discrete), each equally likely."""

    values: tuple[Any, ...]

    @property
    def is_varied(self) -> bool:
        return len(self.values) > 1

    def index_from_unit(self, u: float) -> int:
        return min(int(u * len(self.values)), len(self.values) - 1)

    def from_unit(self, u: float) -> Any:
        return self.values[self.index_from_unit(u)]

    def contains(self, value: Any) -> bool:
        return any(same_value(value, v) for v in self.values)

    def grid(self, resolution: int) -> list[Any]:
        return list(self.values)

    def describe(self) -> str:
        return "{" + ", ".join(map(str, self.values)) + "}"


@dataclasses.dataclass(frozen=True)
class Fixed:
    """One value that every trial receives; a caveat on the conclusion."""

    value: Any

    @property
    def is_varied(self) -> bool:
        return False

    def contains(self, value: Any) -> bool:
        return same_value(value, self.value)

    def describe(self) -> str:
        return repr(self.value)


Domain = Range | Choice | Fixed


def same_value(a: Any, b: Any) -> bool:
    # 1 and True compare equal in Python; a spec means them differently.
    return type(a) is type(b) and a == b or (
        not isinstance(a, bool) and not isinstance(b, bool)
        and isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b
    )
