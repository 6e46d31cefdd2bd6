"""``tunebook probe batch-size``: the feasible batch sizes and their training throughput."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Sequence

import click

from tunebook.core.errors import TunebookError

if TYPE_CHECKING:   # tunebook.probe itself loads when the command runs
    from tunebook.probe import BatchSizeRun, Judgement

_OUTCOME_WORDS = {"ok": "ok", "out_of_memory": "out of memory", "crash": "crashed", "timeout": "timed out"}


@click.group("probe")
def probe_group() -> None:
    """Short runs of your unmodified training program that answer a setup question."""


@probe_group.command("batch-size", context_settings={"allow_interspersed_args": False})
@click.argument("command", nargs=-1, required=True, metavar="-- COMMAND [ARGS]...")
@click.option("--start", type=int, default=1, show_default=True, help="Smallest batch size.")
@click.option("--max-batch-size", type=int, default=4096, show_default=True,
              help="Stop after this batch size even if it fits.")
@click.option("--steps", type=int, default=20, show_default=True, help="Training steps per run ({steps}).")
@click.option("--skip-steps", type=int, default=5, show_default=True,
              help="First steps of each run left out of the timing (start-up, compilation, warm-up).")
@click.option("--timeout", type=float, default=300.0, show_default=True, help="Seconds allowed per run.")
@click.option("--metrics", multiple=True, metavar="json|REGEX",
              help="How step lines look: 'json' (default; {\"step\": 3, ...}) or a regex with a (?P<step>...) "
                   "group and a named number group, as in run.metrics (repeatable).")
@click.option("--from-env", is_flag=True,
              help="The program reads TUNEBOOK_PROBE_BATCH_SIZE itself; no {batch_size} placeholder needed.")
@click.option("--min-gain", type=float, default=0.10, show_default=True,
              help="Throughput gain a larger batch size must bring to be recommended (0.10 = 10 %).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def batch_size_command(command: tuple[str, ...], start: int, max_batch_size: int, steps: int, skip_steps: int,
                       timeout: float, metrics: tuple[str, ...], from_env: bool, min_gain: float, fmt: str) -> None:
    """Run COMMAND for a few steps at batch sizes START, 2·START, 4·START, … until it runs
    out of memory, and say which batch size to use (playbook: "Choosing the batch size").

    \b
    COMMAND gets the batch size and step count through {batch_size} and {steps}
    in its arguments, and in $TUNEBOOK_PROBE_BATCH_SIZE and $TUNEBOOK_PROBE_STEPS:
      tunebook probe batch-size -- python train.py --batch-size {batch_size} --max-train-steps {steps}

    \b
    Time per step: the median interval between the program's own step lines
    (JSON lines or --metrics), after the first --skip-steps steps; without step
    lines, the wall time over --steps (start-up included). A run that prints a
    step past --steps is stopped there.
    Out of memory: a non-zero exit with an out-of-memory message (CUDA,
    torch.OutOfMemoryError, MemoryError, XLA RESOURCE_EXHAUSTED, ...) or a
    SIGKILL (the kernel's OOM killer). Any other crash stops the probe with an error.
    Ideal scaling: the time per step stays constant as the batch size doubles;
    when it grows roughly linearly, the accelerator is saturated or the input
    pipeline / host is the bottleneck. Recommended: the largest batch size whose
    throughput is at least --min-gain above that of every smaller batch size.
    Changing the batch size requires re-tuning most hyperparameters.
    Nothing is written to the store.
    """
    from tunebook.probe import advise, judge_batch_sizes, probe_batch_size

    if not min_gain > 0:   # NaN too
        raise TunebookError(f"--min-gain must be > 0 (0.10 = 10 %), got {min_gain}")
    probe = probe_batch_size(
        command, start=start, max_batch_size=max_batch_size, steps=steps, skip_steps=skip_steps,
        timeout=timeout, metrics=metrics, from_env=from_env, on_start=_starting, on_run=_progress,
    )
    judgement = judge_batch_sizes(probe.runs, min_gain)
    advice = advise(judgement, probe.runs)
    if fmt == "json":
        click.echo(json.dumps({**probe.to_dict(), "judgement": judgement.to_dict(), "advice": advice}, indent=2))
    else:
        _print_table(judgement, advice)
    _fail_if_unusable(probe.runs, judgement)


def _starting(batch_size: int) -> None:
    click.echo(f"batch size {batch_size}: running ... ", err=True, nl=False)


def _progress(run: BatchSizeRun) -> None:
    if run.time_per_step is not None:
        how = f"median of {len(run.step_times)} step-line intervals" if run.step_times else "wall time"
        text = f"{_duration(run.time_per_step)}/step ({how})"
    else:
        text = _OUTCOME_WORDS[run.outcome]
    click.echo(text, err=True)


def _print_table(judgement: Judgement, advice: list[str]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="batch size probe", title_justify="left")
    for column in ("batch size", "time per step", "examples/s", "gain", "scaling", "outcome"):
        table.add_column(column, justify="left" if column in ("scaling", "outcome") else "right")
    for row in judgement.rows:
        mark = " <- recommended" if row.batch_size == judgement.recommended else ""
        outcome = _OUTCOME_WORDS[row.outcome] + (" (wall time)" if row.timing == "wall_time" else "") + mark
        table.add_row(
            str(row.batch_size),
            _duration(row.time_per_step) if row.time_per_step is not None else "-",
            f"{row.examples_per_second:,.1f}" if row.examples_per_second is not None else "-",
            f"{row.gain:+.0%}" if row.gain is not None else "-",
            row.scaling or "-",
            escape(outcome),
        )
    console = Console()
    console.print(table)
    for paragraph in advice:
        console.print(escape(paragraph), end="\n\n", highlight=False)


def _duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3g} s"
    return f"{seconds * 1000:.3g} ms"


def _fail_if_unusable(runs: Sequence[BatchSizeRun], judgement: Judgement) -> None:
    """Exit 1 on a crash (with the tail of its output), or when no batch size ran at all."""
    last = runs[-1]
    if last.outcome == "crash":
        raise TunebookError(
            f"the program crashed at batch size {last.batch_size} (exit code {last.exit_code}), and not by "
            f"running out of memory; the end of its output:\n{last.output_tail.rstrip()}"
        )
    if judgement.feasible_max is None:
        what = "runs out of memory" if last.outcome == "out_of_memory" else "runs past --timeout"
        raise TunebookError(f"the smallest batch size, {last.batch_size}, already {what}; nothing to compare")
