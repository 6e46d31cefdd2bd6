"""What the measurements say: a pure function from batch-size runs to a judgement.

The playbook ("Determining the feasible batch sizes and estimating training
throughput"): while the accelerators are not saturated, doubling the batch
size doubles the training throughput (the time per step stays constant). If
it does not, the pipeline has a bottleneck; if the throughput increases only
up to some batch size, only consider batch sizes up to that one.

Rules (documented in ``tunebook probe batch-size --help``):

- gain: throughput over the previous feasible batch size's, minus 1.
- per step up in batch size: "ideal" when the gain is at least 80 % of the
  ideal gain (nearly double for a doubling), "none" when it is under
  ``min_gain``, "partial" in between.
- recommended: the largest batch size whose throughput is at least
  ``min_gain`` (default 10 %) above that of every smaller batch size.
- time per step grows roughly linearly (the bottleneck flag) from the smallest
  batch size after which every step up gained less than ``min_gain``.
- drops: batch sizes whose throughput fell by more than ``min_gain`` from the
  previous one; the time per step should not grow faster than the batch size,
  so these are noisy measurements (a busy host, too few steps) or a real slowdown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

from tunebook.probe.records import OK, OUT_OF_MEMORY, BatchSizeRun

MIN_GAIN = 0.10
NEARLY_IDEAL = 0.8          # fraction of the ideal throughput gain that still counts as ideal scaling

# Overall scaling over the feasible batch sizes.
IDEAL = "ideal"             # time per step nearly constant throughout
DIMINISHING = "diminishing" # throughput still rises at the largest size, by less than ideal somewhere
SATURATING = "saturating"   # throughput rises, then stops: time per step grows with the batch size
LINEAR = "linear"           # time per step grows with the batch size from the smallest size
TOO_FEW = "too_few"         # fewer than two feasible batch sizes: nothing to compare


@dataclass(frozen=True)
class Row:
    """One batch size: time per step (s), examples/s, gain over the previous feasible size."""

    batch_size: int
    outcome: str
    time_per_step: float | None
    examples_per_second: float | None
    gain: float | None
    scaling: str | None       # "ideal" | "partial" | "none" for the step up from the previous size
    timing: str | None


@dataclass(frozen=True)
class Judgement:
    """The probe's conclusion. ``feasible_max``: largest batch size that ran; ``limit``:
    first that ran out of memory; ``stopped_by``: the last run's outcome, or
    ``"max_batch_size"`` when every size ran."""

    rows: tuple[Row, ...]
    recommended: int | None
    feasible_max: int | None
    limit: int | None
    stopped_by: str
    scaling: str
    time_grows_from: int | None
    min_gain: float
    drops: tuple[int, ...] = ()

    @property
    def bottleneck(self) -> bool:
        """True when time per step grows roughly linearly with the batch size somewhere."""
        return self.time_grows_from is not None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rows"] = [asdict(row) for row in self.rows]
        data["bottleneck"] = self.bottleneck
        return data


def judge_batch_sizes(runs: Sequence[BatchSizeRun], min_gain: float = MIN_GAIN) -> Judgement:
    """Judge runs in increasing batch-size order; only ``ok`` runs count as feasible."""
    if not min_gain > 0:   # NaN too
        raise ValueError(f"min_gain must be > 0, got {min_gain}")
    feasible = [r for r in runs if r.outcome == OK and r.time_per_step]
    rows = _rows(runs, min_gain)
    last = runs[-1] if runs else None
    limit = next((r.batch_size for r in runs if r.outcome == OUT_OF_MEMORY), None)
    time_grows_from = _time_grows_from(rows)
    return Judgement(
        rows=rows,
        recommended=_recommended(feasible, min_gain),
        feasible_max=feasible[-1].batch_size if feasible else None,
        limit=limit,
        stopped_by=last.outcome if last is not None and last.outcome != OK else "max_batch_size",
        scaling=_scaling(rows, time_grows_from),
        time_grows_from=time_grows_from,
        min_gain=min_gain,
        drops=tuple(row.batch_size for row in rows if row.gain is not None and row.gain < -min_gain),
    )


def _rows(runs: Sequence[BatchSizeRun], min_gain: float) -> tuple[Row, ...]:
    rows = []
    previous: BatchSizeRun | None = None
    for run in runs:
        gain = label = None
        throughput = run.examples_per_second
        if throughput is not None and previous is not None:
            gain = throughput / previous.examples_per_second - 1
            label = _label(gain, run.batch_size / previous.batch_size - 1, min_gain)
        rows.append(Row(run.batch_size, run.outcome, run.time_per_step, throughput, gain, label, run.timing))
        if throughput is not None:
            previous = run
    return tuple(rows)


def _label(gain: float, ideal_gain: float, min_gain: float) -> str:
    if gain >= NEARLY_IDEAL * ideal_gain:
        return "ideal"
    return "none" if gain < min_gain else "partial"


def _recommended(feasible: Sequence[BatchSizeRun], min_gain: float) -> int | None:
    best_smaller = 0.0
    chosen = None
    for run in feasible:
        throughput = run.examples_per_second or 0.0
        if chosen is None or throughput >= (1 + min_gain) * best_smaller:
            chosen = run.batch_size
        best_smaller = max(best_smaller, throughput)
    return chosen


def _time_grows_from(rows: Sequence[Row]) -> int | None:
    """The feasible batch size after which every step up gained less than min_gain."""
    measured = [row for row in rows if row.examples_per_second is not None]
    start = None
    for before, after in zip(reversed(measured[:-1]), reversed(measured[1:])):
        if after.scaling != "none":
            break
        start = before.batch_size
    return start


def _scaling(rows: Sequence[Row], grows_from: int | None) -> str:
    steps_up = [row for row in rows if row.scaling is not None]
    if not steps_up:
        return TOO_FEW
    if all(row.scaling == "ideal" for row in steps_up):
        return IDEAL
    if grows_from is None:
        return DIMINISHING
    first = next(row.batch_size for row in rows if row.examples_per_second is not None)
    return LINEAR if grows_from == first else SATURATING
