"""What a batch-size probe measured: one frozen record per run, one for the whole probe.

Records hold measurements only; the judgement (``judge_batch_sizes``) is a
pure function over them, so it can be tested on synthetic measurements.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# How a run ended.
OK = "ok"                          # ran its steps (or was stopped by the probe after enough step lines)
OUT_OF_MEMORY = "out_of_memory"    # non-zero exit with an out-of-memory message, or SIGKILL
CRASH = "crash"                    # any other non-zero exit: a bug to fix, not a memory limit
TIMEOUT = "timeout"                # ran past --timeout and was stopped
OUTCOMES = (OK, OUT_OF_MEMORY, CRASH, TIMEOUT)

# Where a time per step came from.
STEP_LINES = "step_lines"          # median interval between the program's own step lines
WALL_TIME = "wall_time"            # no usable step lines: process wall time / steps, start-up included


@dataclass(frozen=True)
class BatchSizeRun:
    """One run of the program at one batch size.

    ``time_per_step`` is in seconds (None when the run did not end ``ok``).
    ``step_times`` are the per-step seconds the median was taken over (step
    lines only). ``output_tail`` holds the last lines of stderr (stdout when
    stderr was empty) for runs that did not end ``ok``.
    """

    batch_size: int
    outcome: str
    time_per_step: float | None = None
    timing: str | None = None
    step_times: tuple[float, ...] = ()
    step_lines: int = 0
    wall_time: float = 0.0
    exit_code: int | None = None
    output_tail: str = ""
    timing_note: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {self.outcome!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")

    @property
    def examples_per_second(self) -> float | None:
        """Training throughput: batch size / time per step."""
        if not self.time_per_step:
            return None
        return self.batch_size / self.time_per_step

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["step_times"] = list(self.step_times)
        data["examples_per_second"] = self.examples_per_second
        return data


@dataclass(frozen=True)
class BatchSizeProbe:
    """A whole probe: the command template, its settings and the runs in batch-size order."""

    command: tuple[str, ...]
    steps: int
    skip_steps: int
    runs: tuple[BatchSizeRun, ...] = field(default_factory=tuple)
    max_batch_size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": list(self.command),
            "steps": self.steps,
            "skip_steps": self.skip_steps,
            "max_batch_size": self.max_batch_size,
            "runs": [run.to_dict() for run in self.runs],
        }
