"""The user's command as a template: ``{batch_size}`` and ``{steps}`` filled in per run.

The program also gets both numbers in its environment
(``TUNEBOOK_PROBE_BATCH_SIZE``, ``TUNEBOOK_PROBE_STEPS``). A command with no
``{batch_size}`` placeholder is refused unless the caller says the program
reads the environment variable itself (``from_env``): otherwise every run
would silently train at the same batch size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from tunebook.probe.errors import ProbeError

BATCH_SIZE = "{batch_size}"
STEPS = "{steps}"
ENV_BATCH_SIZE = "TUNEBOOK_PROBE_BATCH_SIZE"
ENV_STEPS = "TUNEBOOK_PROBE_STEPS"


@dataclass(frozen=True)
class CommandTemplate:
    """An argv with placeholders; ``argv(b, s)`` and ``env(b, s)`` give one run's."""

    template: tuple[str, ...]
    from_env: bool = False

    def __post_init__(self) -> None:
        if not self.template:
            raise ProbeError("no command given: put it after '--', e.g. "
                             "tunebook probe batch-size -- python train.py --batch-size {batch_size}")
        if not self.from_env and not self.has(BATCH_SIZE):
            raise ProbeError(
                f"the command {' '.join(self.template)!r} has no {BATCH_SIZE} placeholder, so every run "
                f"would use the same batch size: pass it in the arguments (e.g. --batch-size {BATCH_SIZE} "
                f"--max-train-steps {STEPS}), or, if the program reads ${ENV_BATCH_SIZE} itself, say so "
                "with --from-env"
            )

    def has(self, placeholder: str) -> bool:
        return any(placeholder in arg for arg in self.template)

    def argv(self, batch_size: int, steps: int) -> list[str]:
        """The template with both placeholders replaced (other braces are left alone)."""
        return [arg.replace(BATCH_SIZE, str(batch_size)).replace(STEPS, str(steps)) for arg in self.template]

    def env(self, batch_size: int, steps: int, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: ours) plus the probe's variables and unbuffered Python output.

        PYTHONUNBUFFERED makes a Python program's step lines arrive when they
        are printed, not all at exit, so they can be timed.
        """
        env = dict(os.environ if base is None else base)
        env.update({ENV_BATCH_SIZE: str(batch_size), ENV_STEPS: str(steps), "PYTHONUNBUFFERED": "1"})
        return env


def batch_sizes(start: int, max_batch_size: int) -> list[int]:
    """``start``, ``2*start``, … up to ``max_batch_size`` (increasing powers of two from start)."""
    if start < 1:
        raise ProbeError(f"--start must be >= 1, got {start}")
    if max_batch_size < start:
        raise ProbeError(f"--max-batch-size must be >= --start ({start}), got {max_batch_size}")
    sizes = [start]
    while sizes[-1] * 2 <= max_batch_size:
        sizes.append(sizes[-1] * 2)
    return sizes


def check_steps(steps: int, skip_steps: int) -> None:
    """At least two step lines must remain after the skipped ones to time one interval."""
    if skip_steps < 0:
        raise ProbeError(f"--skip-steps must be >= 0, got {skip_steps}")
    if steps < skip_steps + 2:
        raise ProbeError(
            f"--steps must be at least --skip-steps + 2 = {skip_steps + 2} so that some steps are timed, got {steps}"
        )
