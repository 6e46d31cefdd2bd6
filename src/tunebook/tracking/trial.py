"""``Trial``: what a training program holds to read params and report progress.

Points are buffered in memory and written in one transaction when
``flush_points`` are buffered or ``flush_seconds`` have passed since the last
flush (checked inside ``log``; no thread), before a checkpoint is recorded,
and when the process ends. A flushed point is committed: it survives a kill -9.
"""

from __future__ import annotations

import sys
import time
from array import array
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator, Mapping

from tunebook.tracking.buffer import STEP_MAX, PointBuffer, check_step
from tunebook.tracking.checkpoints import CheckpointKeeper, remove_path
from tunebook.tracking.divergence import Diverged, DivergenceCheck
from tunebook.tracking.protocol import TrialContext, write_outcome
from tunebook.tracking.sinks import Sink

TYPE_CHECKING = False  # typing costs a trial process ~5 ms to import; annotations only need it for checkers
if TYPE_CHECKING:
    from typing import Any

TERMINATED_EXIT_CODE = 128 + 15  # after SIGTERM, as a shell reports it


class Trial:
    """One training run: params in; curves, checkpoints and its outcome out.

    Get it from ``tunebook.trial()``. ``params`` by plain name; ``id`` the
    store's trial id (None outside tunebook); ``dir`` the trial's folder;
    ``resume_from``/``resume_step`` the latest checkpoint of an earlier
    attempt, to continue from (None on a first attempt).

    Not thread-safe: use it from one thread at a time. Memory: the buffered
    points, plus 16 bytes per logged objective point (to value checkpoints).
    """

    def __init__(
        self, params: Mapping[str, Any], context: TrialContext, trial_dir: Path, checkpoint_dir: Path,
        sink: Sink, *, managed: bool,
    ) -> None:
        self.params = dict(params)
        self.id: int | None = context.trial_id if managed else None
        self.dir = trial_dir
        self.is_managed = managed
        self.resume_from = context.resume_from
        self.resume_step = context.resume_step
        self._sink = sink
        self._keeper = CheckpointKeeper(checkpoint_dir, sink, context.checkpoints_kept, context.objective_mode)
        self._check = DivergenceCheck(context.divergence, context.objective_metric or None)
        self._objective = context.objective_metric
        self._objective_steps, self._objective_values = array("q"), array("d")
        self._buffer = PointBuffer()
        self._flush_points, self._flush_seconds = context.flush_points, context.flush_seconds
        self._last_flush = time.monotonic()
        self._diverged: str | None = None
        self._busy = 0  # > 0 while writing: a SIGTERM then waits until the write is done
        self._exit_pending = False

    def __repr__(self) -> str:
        where = f"id={self.id}" if self.is_managed else "standalone"
        return f"Trial({where}, dir={str(self.dir)!r}, params={self.params!r})"

    # -- curves ------------------------------------------------------------
    def log(self, step: int, metrics: Mapping[str, float] | None = None, **values: float) -> None:
        """Record metric values at ``step`` (an int >= 0): ``log(10, {"valid/error": 0.1}, loss=0.3)``.

        Values are real numbers (int, float, numpy/torch scalars); a bool or a
        non-number raises TypeError naming the metric, and nothing of the call
        is kept. NaN and infinities are kept, and, in the objective or a loss
        metric, end the trial: see ``Diverged``. May flush.
        """
        if self._diverged is not None:
            raise Diverged(self._diverged)
        if type(step) is not int or not 0 <= step <= STEP_MAX:
            step = check_step(step)
        if values:
            metrics = {**metrics, **values} if metrics else values
        elif metrics is None:
            return
        elif not hasattr(metrics, "items"):
            raise TypeError(f"metrics must be a mapping of name to value, got {metrics!r}")
        self._buffer.add(step, metrics)
        watched = self._check.watched
        if not watched.isdisjoint(metrics):
            for name in metrics:
                if name in watched:
                    self._watch(step, name, self._buffer.last(name))
        if (
            self._buffer.count >= self._flush_points
            or time.monotonic() - self._last_flush >= self._flush_seconds
        ):
            self.flush()

    def _watch(self, step: int, name: str, value: float) -> None:
        """Track the objective; end the trial if ``value`` means divergence."""
        if name == self._objective:
            self._objective_steps.append(step)
            self._objective_values.append(value)
        reason = self._check.reason(step, name, value)
        if reason is not None:
            self._diverged = reason
            self._end_infeasible(reason, "diverged")
            raise Diverged(reason)

    def flush(self) -> None:
        """Write every buffered point in one transaction; on failure they stay buffered."""
        if self._buffer.count:
            with self._writing():
                chunk = self._buffer.take()
                try:
                    self._sink.write_points(chunk)
                except BaseException:
                    self._buffer.put_back(chunk)
                    raise
        self._last_flush = time.monotonic()

    # -- checkpoints ---------------------------------------------------------
    @contextmanager
    def checkpoint(self, step: int) -> Iterator[str]:
        """Yield the path (``dir/checkpoints/step-<step>``) to write a checkpoint to.

        Write a file or a folder there. On a clean exit the checkpoint is
        recorded with the objective value at ``step`` (the latest one logged
        at a step <= ``step``; None if none), after flushing the points; then
        only the ``checkpoints_kept`` best by the objective and the latest
        remain, on disk and in the store. Log the step's evaluation before
        checkpointing it. If the block raises, what it wrote is removed and
        nothing is recorded; FileNotFoundError if the block wrote nothing.
        """
        step = check_step(step)
        with self._writing():
            path = self._keeper.prepare(step)
        try:
            yield str(path)
        except BaseException:
            remove_path(path)
            raise
        if not path.exists():
            raise FileNotFoundError(f"checkpoint of step {step}: nothing was written at {path}")
        self.flush()
        with self._writing():
            self._keeper.record(step, path, self._objective_at(step))

    def _objective_at(self, step: int) -> float | None:
        steps = self._objective_steps
        for i in range(len(steps) - 1, -1, -1):
            if steps[i] <= step:
                return self._objective_values[i]
        return None

    # -- outcome ---------------------------------------------------------------
    def report_infeasible(self, reason: str) -> None:
        """End the trial as infeasible on purpose (flushes); then let the program exit 0.

        Under tunebook this records the outcome for the executor; outside it
        only prints the reason.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"report_infeasible needs a non-empty reason, got {reason!r}")
        self._end_infeasible(reason, "infeasible")

    def _end_infeasible(self, reason: str, how: str) -> None:
        """Flush, record the outcome (managed), say ``tunebook: trial <how>: <reason>``."""
        self.flush()
        if self.is_managed:
            write_outcome(self.dir, "infeasible", reason)
        print(f"tunebook: trial {how}: {reason}", file=sys.stderr, flush=True)

    # -- process life ------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Defer a SIGTERM that arrives while writing until the write is done."""
        self._busy += 1
        try:
            yield
        finally:
            self._busy -= 1
            if not self._busy and self._exit_pending:
                self._terminate()

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        if self._busy:
            self._exit_pending = True
        else:
            self._terminate()

    def _terminate(self) -> None:
        """Flush what is buffered, then exit with 128 + SIGTERM."""
        self._exit_pending = False
        try:
            self.flush()
        except Exception as exc:  # exiting anyway: say what was lost
            print(f"tunebook: could not save the last points on SIGTERM: {exc}", file=sys.stderr)
        raise SystemExit(TERMINATED_EXIT_CODE)

    def _after_fork_in_child(self) -> None:
        """A forked child neither writes the parent's points nor uses its connections."""
        self._buffer.take()
        self._sink.after_fork()
