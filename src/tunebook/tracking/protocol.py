"""What an executor hands a trial process, and what the process hands back.

Standard library only: this runs inside the user's training program.

In: environment variables
    TUNEBOOK_TRIAL_DIR  the trial's own directory; ``trial.json`` in it holds a
                        ``TrialContext``
    TUNEBOOK_PARAMS     the params as JSON, by plain name (also in params.json)
Out: files in the trial directory
    outcome.json        written when the trial ends itself as infeasible:
                        {"state": "infeasible", "reason": "..."}; a process
                        that exits 0 without it has completed
Curves and checkpoints go straight to the store named in the context.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

ENV_TRIAL_DIR = "TUNEBOOK_TRIAL_DIR"
ENV_PARAMS = "TUNEBOOK_PARAMS"
CONTEXT_FILE = "trial.json"
PARAMS_FILE = "params.json"
OUTCOME_FILE = "outcome.json"
CHECKPOINT_DIR = "checkpoints"
STDOUT_FILE = "stdout.log"
STDERR_FILE = "stderr.log"

# The same names as tunebook.core.run_spec.DEFAULT_LOSS_METRICS (a test keeps
# them equal): importing core here would cost a trial process ~40 ms.
DEFAULT_LOSS_METRICS = ("train/loss", "train_loss", "loss")


@dataclasses.dataclass(frozen=True)
class Divergence:
    """When a run counts as diverged (an infeasible outcome, not a crash).

    NaN or infinity in the objective metric or in a ``loss_metrics`` curve,
    or a loss above ``factor`` times its first logged value. ``factor`` None
    turns the explosion check off.
    """

    loss_metrics: tuple[str, ...] = DEFAULT_LOSS_METRICS
    factor: float | None = 10.0


@dataclasses.dataclass(frozen=True)
class TrialContext:
    """Everything a trial process needs to report, written by the executor."""

    trial_id: int
    store: str  # store URL
    objective_metric: str
    objective_mode: str  # "min" | "max"
    checkpoints_kept: int = 3
    divergence: Divergence = Divergence()
    resume_from: str | None = None  # latest checkpoint path of an earlier attempt
    resume_step: int | None = None
    flush_seconds: float = 2.0  # flush buffered points at least this often
    flush_points: int = 5000  # ... or when this many are buffered

    def write(self, trial_dir: Path) -> None:
        data = dataclasses.asdict(self)
        data["divergence"]["loss_metrics"] = list(self.divergence.loss_metrics)
        (trial_dir / CONTEXT_FILE).write_text(json.dumps(data, indent=2))

    @classmethod
    def read(cls, trial_dir: Path) -> "TrialContext":
        data = json.loads((trial_dir / CONTEXT_FILE).read_text())
        div = data.pop("divergence", {})
        divergence = Divergence(tuple(div.get("loss_metrics", DEFAULT_LOSS_METRICS)), div.get("factor", 10.0))
        return cls(divergence=divergence, **data)


def write_outcome(trial_dir: Path, state: str, reason: str) -> None:
    """Record how the trial ended itself (atomically: write then rename)."""
    tmp = trial_dir / (OUTCOME_FILE + ".tmp")
    tmp.write_text(json.dumps({"state": state, "reason": reason}))
    os.replace(tmp, trial_dir / OUTCOME_FILE)


def read_outcome(trial_dir: Path) -> dict[str, Any] | None:
    """The outcome the trial recorded, or None if it recorded none."""
    try:
        return json.loads((trial_dir / OUTCOME_FILE).read_text())
    except (OSError, ValueError):
        return None
