"""The batch-size probe: run the user's unmodified program for a few steps at
batch sizes start, 2·start, 4·start, … until it runs out of memory.

The playbook ("Determining the feasible batch sizes and estimating training
throughput"): run training jobs at increasing powers of 2 for a small number
of steps until one exceeds the available memory, and for each batch size
estimate the time per step. Nothing is written to any store.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping, Sequence

from tunebook.execution.output import JSON_LINES, OutputParser
from tunebook.probe.command import CommandTemplate, batch_sizes, check_steps
from tunebook.probe.errors import ProbeError
from tunebook.probe.memory import is_out_of_memory
from tunebook.probe.process import Finished, run_program
from tunebook.probe.records import CRASH, OK, OUT_OF_MEMORY, TIMEOUT, BatchSizeProbe, BatchSizeRun
from tunebook.probe.timing import measure

TAIL_SHOWN = 15   # lines of a failed run's output kept in its record


def probe_batch_size(
    command: Sequence[str],
    *,
    start: int = 1,
    max_batch_size: int = 4096,
    steps: int = 20,
    skip_steps: int = 5,
    timeout: float | None = 300.0,
    metrics: Sequence[str] = (JSON_LINES,),
    from_env: bool = False,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_run: Callable[[BatchSizeRun], None] | None = None,
) -> BatchSizeProbe:
    """Measure the time per step of ``command`` at each batch size; the runs, in order.

    ``command`` is an argv with ``{batch_size}`` / ``{steps}`` placeholders
    (``from_env``: the program reads ``TUNEBOOK_PROBE_BATCH_SIZE`` instead).
    Step lines are read like ``tunebook run`` reads metric lines (``metrics``:
    ``"json"`` and/or regexes with a ``step`` group). The probe stops at the
    first run that does not end ``ok`` (out of memory, crash, timeout) or
    after ``max_batch_size``. ``on_start`` sees each batch size as its run
    starts, ``on_run`` each run as it ends (for progress lines).
    """
    template = CommandTemplate(tuple(command), from_env)
    sizes = batch_sizes(start, max_batch_size)
    check_steps(steps, skip_steps)
    if timeout is not None and not timeout > 0:   # NaN too
        raise ProbeError(f"--timeout must be > 0 seconds, got {timeout}")
    patterns = check_metrics(metrics)
    runs: list[BatchSizeRun] = []
    for batch_size in sizes:
        if on_start is not None:
            on_start(batch_size)
        run = run_batch_size(template, batch_size, steps, skip_steps, timeout, patterns, cwd, env)
        runs.append(run)
        if on_run is not None:
            on_run(run)
        if run.outcome != OK:
            break
    return BatchSizeProbe(tuple(command), steps, skip_steps, tuple(runs), sizes[-1])


def check_metrics(metrics: Sequence[str]) -> list[str]:
    """The patterns, each valid: ``"json"`` or a regex with a named number group besides ``step``."""
    patterns = list(metrics) or [JSON_LINES]
    for pattern in patterns:
        if pattern == JSON_LINES:
            continue
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ProbeError(f"--metrics {pattern!r} is not a valid regex: {exc}") from exc
        if not set(regex.groupindex) - {"step"}:
            raise ProbeError(
                f"--metrics {pattern!r} needs a named group for a number besides 'step', "
                r"e.g. 'step (?P<step>\d+) loss: (?P<loss>\S+)' (step lines are metric lines)"
            )
    return patterns


def run_batch_size(template: CommandTemplate, batch_size: int, steps: int, skip_steps: int,
                   timeout: float | None, patterns: list[str], cwd: str | None,
                   env: Mapping[str, str] | None) -> BatchSizeRun:
    """One run at ``batch_size``; stops the program once it is past ``steps`` steps."""
    parser = OutputParser(patterns)
    arrivals: list[tuple[float, int]] = []

    def on_line(arrived: float, _stream: str, text: str) -> bool:
        parsed = parser.parse(text)
        if parsed is None:
            return False
        arrivals.append((arrived, parsed[0]))
        return arrivals[-1][1] >= arrivals[0][1] + steps

    finished = run_program(template.argv(batch_size, steps), template.env(batch_size, steps, env),
                           on_line, timeout, cwd)
    outcome = _outcome(finished)
    common = dict(batch_size=batch_size, outcome=outcome, step_lines=len(arrivals),
                  wall_time=finished.wall_time, exit_code=finished.exit_code)
    if outcome != OK:
        return BatchSizeRun(**common, output_tail=_tail(finished))
    timing = measure(arrivals, skip_steps, finished.wall_time, steps)
    return BatchSizeRun(**common, time_per_step=timing.time_per_step, timing=timing.timing,
                        step_times=timing.step_times, timing_note=timing.note)


def _outcome(finished: Finished) -> str:
    if finished.stopped:
        return OK
    if finished.timed_out:
        return TIMEOUT
    if finished.exit_code == 0:
        return OK
    if is_out_of_memory(finished.exit_code, finished.stdout_tail + finished.stderr_tail):
        return OUT_OF_MEMORY
    return CRASH


def _tail(finished: Finished) -> str:
    text = finished.stderr_tail if finished.stderr_tail.strip() else finished.stdout_tail
    return "".join(text.splitlines(keepends=True)[-TAIL_SHOWN:])
