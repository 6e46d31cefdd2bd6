"""Logged points held in memory until the next flush, and the checks at the door.

Each metric keeps its steps and values in two compact ``array`` columns
(int64 and float64, 16 bytes a point), which is also how they are written to
the store: one chunk per metric per flush, in step order (stably, as
``storage.curves.encode_points`` keeps a chunk), so a chunk's last point is
its largest step. The buffer notes when a step goes back (one comparison per
``add``) and sorts only then, at ``take``.
"""

from __future__ import annotations

import operator
import re
from array import array
from collections.abc import Mapping

TYPE_CHECKING = False  # typing costs a trial process ~5 ms to import; annotations only need it for checkers
if TYPE_CHECKING:
    from typing import Any

# metric name -> (steps 'q', values 'd'); what a sink writes in one transaction
Chunk = dict[str, tuple[array, array]]

STEP_MAX = 2**63 - 1  # steps are stored as int64
_NOT_REAL = re.compile(r"^(torch\.)?(bool|complex)")  # dtype names float() would wrongly accept


def check_step(step: Any) -> int:
    """``step`` as an int in [0, 2**63); TypeError/ValueError naming the value otherwise.

    Accepts ints and integer scalars (numpy, torch) through ``__index__``.
    """
    if type(step) is not int:
        if isinstance(step, bool):
            raise TypeError(f"step must be an int >= 0, got the bool {step!r}")
        try:
            step = operator.index(step)
        except TypeError:
            raise TypeError(f"step must be an int >= 0, got {step!r} of type {type(step).__name__}") from None
    if step < 0:
        raise ValueError(f"step must be an int >= 0, got {step}")
    if step > STEP_MAX:
        raise ValueError(f"step must be below 2**63 (stored as int64), got {step}")
    return step


def check_point(name: Any, value: Any) -> float:
    """``value`` as a float; TypeError for a bad name, or naming the metric
    for a value that is not one real number.

    Ints, floats and numeric scalars that ``float()`` converts (numpy, torch)
    pass; NaN and infinities pass too (divergence is judged elsewhere). Bools
    and complex numbers, of Python, numpy or torch, do not.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"metric names must be non-empty strings, got {name!r}")
    if type(value) is float:
        return value
    dtype = str(getattr(value, "dtype", ""))
    if isinstance(value, (bool, str, bytes)) or value is None or _NOT_REAL.match(dtype):
        raise TypeError(f"metric {name!r} must be a real number, got {value!r}")
    try:
        return float(value)
    except Exception as exc:  # numpy and torch raise TypeError, ValueError or RuntimeError
        raise TypeError(
            f"metric {name!r} must be a real number, got {value!r} of type {type(value).__name__} ({exc})"
        ) from None


class PointBuffer:
    """Points logged since the last flush. Not thread-safe."""

    def __init__(self) -> None:
        self._chunk: Chunk = {}
        self.count = 0
        self._last_step = -1
        self._in_order = True  # every add's step >= the one before: each metric's steps already ascend

    def add(self, step: int, metrics: Mapping[str, Any]) -> None:
        """Append one step's values, checked by ``check_point``; on error nothing is kept."""
        chunk, added = self._chunk, 0
        try:
            for name, value in metrics.items():
                columns = chunk.get(name)
                if columns is None or type(value) is not float:
                    value = check_point(name, value)
                    if columns is None:
                        columns = chunk[name] = (array("q"), array("d"))
                columns[0].append(step)
                columns[1].append(value)
                added += 1
        except BaseException:
            for name in list(metrics)[:added]:
                chunk[name][0].pop()
                chunk[name][1].pop()
            raise
        self.count += added
        if step < self._last_step:
            self._in_order = False
        self._last_step = step

    def last(self, name: str) -> float:
        """The value just added for ``name``."""
        return self._chunk[name][1][-1]

    def take(self) -> Chunk:
        """Everything buffered, in step order, leaving the buffer empty."""
        chunk = self._chunk if self._in_order else {name: _by_step(*pair) for name, pair in self._chunk.items()}
        self._chunk, self.count, self._last_step, self._in_order = {}, 0, -1, True
        return chunk

    def put_back(self, chunk: Chunk) -> None:
        """Return a chunk that could not be written, ahead of newer points."""
        newer = self.take()
        for name, (steps, values) in newer.items():
            columns = chunk.setdefault(name, (array("q"), array("d")))
            columns[0].extend(steps)
            columns[1].extend(values)
        self._chunk = chunk
        self.count = sum(len(steps) for steps, _ in chunk.values())
        self._in_order = False  # later points may go back past the chunk's last step (rare path: sort at take)


def _by_step(steps: array, values: array) -> tuple[array, array]:
    """The columns sorted by step, stably (equal steps keep the order they were logged in)."""
    order = sorted(range(len(steps)), key=steps.__getitem__)
    return array("q", (steps[i] for i in order)), array("d", (values[i] for i in order))
