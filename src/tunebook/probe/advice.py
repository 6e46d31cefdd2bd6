"""The judgement in plain words, in the playbook's terms (pure functions)."""

from __future__ import annotations

from typing import Sequence

from tunebook.probe.judgement import DIMINISHING, IDEAL, LINEAR, SATURATING, TOO_FEW, Judgement
from tunebook.probe.memory import killed
from tunebook.probe.records import CRASH, OUT_OF_MEMORY, TIMEOUT, WALL_TIME, BatchSizeRun

RETUNE = (
    "Changing the batch size requires re-tuning most hyperparameters: the optimizer hyperparameters "
    "(learning rate, momentum) and the regularization hyperparameters interact most strongly with it, "
    "so tune them again at the batch size you choose; do not tune the batch size itself for validation "
    'performance (playbook: "Changing the batch size requires re-tuning most hyperparameters").'
)
BATCH_NORM = (
    "With batch norm, the batch size for its statistics can differ from the one for the gradient "
    '(playbook: "How batch norm interacts with the batch size").'
)
BOTTLENECK = (
    "time per step grows with the batch size: the accelerator is saturated or the input pipeline / host "
    "is the bottleneck"
)


def advise(judgement: Judgement, runs: Sequence[BatchSizeRun]) -> list[str]:
    """Paragraphs for the user: the choice, the feasible maximum, the scaling, the caveats."""
    lines = [_choice(judgement), _feasible(judgement, runs), _scaling(judgement), _drops(judgement)]
    lines += _timing_notes(runs)
    if judgement.recommended is not None:
        lines += [RETUNE, BATCH_NORM]
    return [line for line in lines if line]


def _choice(j: Judgement) -> str:
    if j.recommended is None:
        return "No batch size ran to the end, so there is nothing to recommend."
    text = (f"Recommended batch size: {j.recommended}, the largest that raised the training throughput "
            f"by at least {j.min_gain:.0%} over every smaller batch size.")
    if j.feasible_max is not None and j.recommended < j.feasible_max:
        text += (f" Only consider batch sizes up to {j.recommended}, even though {j.feasible_max} fits: "
                 "all benefits of a larger batch size assume the training throughput increases.")
    return text


def _feasible(j: Judgement, runs: Sequence[BatchSizeRun]) -> str:
    if not runs:
        return ""
    last = runs[-1]
    fits = f"{j.feasible_max} is the largest batch size that ran" if j.feasible_max else "No batch size ran"
    if last.outcome == OUT_OF_MEMORY:
        how = "was killed (SIGKILL, most likely the kernel's OOM killer)" if killed(last.exit_code) \
            else "ran out of memory"
        text = f"{fits}; {last.batch_size} {how}."
        if j.recommended is not None and j.recommended == j.feasible_max:
            text += (" Gradient accumulation would simulate larger batch sizes but gives no throughput "
                     "benefit; the playbook advises avoiding it in applied work.")
        return text
    if last.outcome == CRASH:
        return (f"{fits}; {last.batch_size} crashed (exit code {last.exit_code}) without an out-of-memory "
                "message: fix the crash and probe again to find the largest feasible batch size.")
    if last.outcome == TIMEOUT:
        return f"{fits}; {last.batch_size} ran past the timeout, so the probe stopped there."
    return (f"Every batch size up to {last.batch_size} fits in memory (the probe stopped at "
            "--max-batch-size); larger ones may fit too.")


def _scaling(j: Judgement) -> str:
    rows = [r for r in j.rows if r.examples_per_second is not None]
    if j.scaling == TOO_FEW:
        return "Only one batch size ran, so the scaling cannot be judged." if rows else ""
    first, last = rows[0].batch_size, rows[-1].batch_size
    if j.scaling == IDEAL:
        return (f"Time per step stays nearly constant from {first} to {last}: the throughput (nearly) doubles "
                "when the batch size doubles, so the accelerator is not saturated yet and the largest "
                "batch size that fits is the one to use.")
    if j.scaling == LINEAR:
        return (f"Bottleneck: the {BOTTLENECK} from the smallest batch size probed ({first}), so a larger "
                "batch size does not raise the throughput. This may be worth diagnosing and correcting "
                'before proceeding (I/O, preprocessing, synchronization; playbook: "Optimizing the input '
                'pipeline", use a profiler); until then use the smaller batch size.')
    if j.scaling == SATURATING:
        return (f"Throughput rises up to {j.time_grows_from}, then the {BOTTLENECK}; larger batch sizes "
                "only cost memory. If the accelerator is not the limit, look at the input pipeline "
                '(playbook: "Optimizing the input pipeline").')
    if j.scaling == DIMINISHING and j.recommended is not None and j.recommended < last:
        return (f"Throughput rises up to {j.recommended}; past it, larger batch sizes raise it by less than "
                f"{j.min_gain:.0%}: the time per step grows nearly as fast as the batch size (the accelerator "
                "is nearly saturated, or the input pipeline / host is the bottleneck).")
    if j.scaling == DIMINISHING:
        return (f"Throughput rises from {first} to {last}, though by less than double at some batch sizes: "
                "some overhead grows with the batch size (in practice there usually is some).")
    return ""


def _drops(j: Judgement) -> str:
    if not j.drops:
        return ""
    sizes = ", ".join(str(size) for size in j.drops)
    return (f"Noisy? The throughput fell by more than {j.min_gain:.0%} at batch size {sizes}, where the time "
            "per step grew faster than the batch size: a busy host or too few timed steps, or a real slowdown. "
            "Probe again with more --steps (and --skip-steps) on an idle machine to tell.")


def _timing_notes(runs: Sequence[BatchSizeRun]) -> list[str]:
    notes = []
    for note in dict.fromkeys(r.timing_note for r in runs if r.timing == WALL_TIME):
        sizes = ", ".join(str(r.batch_size) for r in runs if r.timing_note == note)
        notes.append(f"Batch size {sizes}: {note}. Print one JSON line per step ({{\"step\": N, ...}}) "
                     "or pass --metrics with a (?P<step>...) group.")
    return notes
