"""Probes: short runs of the user's unmodified program that answer a setup question.

``probe_batch_size`` runs it at batch sizes 1, 2, 4, … until it runs out of
memory and measures the time per step of each; ``judge_batch_sizes`` (a pure
function) turns those measurements into the playbook's answer ("Choosing the
batch size"), and ``advise`` into plain words. Nothing is written to a store.
"""

from __future__ import annotations

from tunebook.probe.advice import advise
from tunebook.probe.batch_size import probe_batch_size
from tunebook.probe.errors import ProbeError
from tunebook.probe.judgement import MIN_GAIN, Judgement, Row, judge_batch_sizes
from tunebook.probe.memory import is_out_of_memory
from tunebook.probe.records import BatchSizeProbe, BatchSizeRun

__all__ = [
    "MIN_GAIN",
    "BatchSizeProbe",
    "BatchSizeRun",
    "Judgement",
    "ProbeError",
    "Row",
    "advise",
    "is_out_of_memory",
    "judge_batch_sizes",
    "probe_batch_size",
]
