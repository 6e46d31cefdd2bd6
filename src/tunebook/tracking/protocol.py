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

import json
import os
from collections import namedtuple
from pathlib import Path

TYPE_CHECKING = False  # typing costs a trial process ~5 ms to import; annotations only need it for checkers
if TYPE_CHECKING:
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


# Immutable records as named tuples, not dataclasses: importing dataclasses
# (it pulls in inspect) would cost every trial process ~5 ms.
class Divergence(namedtuple("Divergence", ("loss_metrics", "factor"), defaults=(DEFAULT_LOSS_METRICS, 10.0))):
    """When a run counts as diverged (an infeasible outcome, not a crash).

    NaN or infinity in the objective metric or in a ``loss_metrics`` curve
    (a tuple of names), or a loss above ``factor`` times its first logged
    value. ``factor`` None turns the explosion check off.
    """

    __slots__ = ()


_CONTEXT_FIELDS = (
    "trial_id",  # int
    "store",  # store URL
    "objective_metric",
    "objective_mode",  # "min" | "max"
    "checkpoints_kept",  # int, 3
    "divergence",  # Divergence
    "resume_from",  # latest checkpoint path of an earlier attempt, or None
    "resume_step",  # its step, or None
    "flush_seconds",  # flush buffered points at least this often (2.0)
    "flush_points",  # ... or when this many are buffered (5000)
)


class TrialContext(namedtuple("TrialContext", _CONTEXT_FIELDS, defaults=(3, Divergence(), None, None, 2.0, 5000))):
    """Everything a trial process needs to report, written by the executor."""

    __slots__ = ()

    def write(self, trial_dir: Path) -> None:
        data = self._asdict()
        data["divergence"] = {"loss_metrics": list(self.divergence.loss_metrics), "factor": self.divergence.factor}
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
