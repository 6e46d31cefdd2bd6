"""Keeping the N best checkpoints, plus the latest one to resume from.

The playbook's retrospective checkpoint selection: train for the full budget,
keep the N best checkpoints by the objective as they appear, choose among
them afterwards. The latest checkpoint is kept as well, whatever its value,
so that a preempted trial can resume.

Order of effects, so that a crash at any point never leaves a store row
pointing at a missing file: a new checkpoint's file exists before its row is
recorded; a pruned checkpoint's row goes before its file.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from tunebook.tracking.sinks import Sink


class CheckpointKeeper:
    """The checkpoints of one trial in ``folder``, recorded through ``sink``.

    ``kept``: how many best ones to keep (>= 0); ``mode``: "min" or "max",
    how the objective ranks. Checkpoints without a value (no objective logged
    yet, or NaN) rank last; equal values prefer the later step. Checkpoints
    that an earlier attempt of the trial recorded count too (read from the
    sink on first use). Not thread-safe.
    """

    def __init__(self, folder: Path, sink: Sink, kept: int, mode: str) -> None:
        if isinstance(kept, bool) or not isinstance(kept, int) or kept < 0:
            raise ValueError(f"checkpoints_kept must be an int >= 0, got {kept!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"objective_mode must be 'min' or 'max', got {mode!r}")
        self.folder, self._sink, self._kept, self._mode = folder, sink, kept, mode
        self._known: dict[int, tuple[str, float | None]] | None = None  # step -> (path, value)

    def path_for(self, step: int) -> Path:
        return self.folder / f"step-{step}"

    def prepare(self, step: int) -> Path:
        """The empty path to write the checkpoint of ``step`` to.

        A checkpoint already recorded at ``step`` is forgotten and removed first.
        """
        path = self.path_for(step)
        known = self._load()
        if step in known:
            self._sink.remove_checkpoint(step)
            del known[step]
        remove_path(path)
        self.folder.mkdir(parents=True, exist_ok=True)
        return path

    def record(self, step: int, path: Path, value: float | None) -> list[int]:
        """Record the checkpoint just written at ``path``, prune; the steps removed."""
        self._sink.add_checkpoint(step, str(path), value)
        known = self._load()
        known[step] = (str(path), value)
        doomed = self._doomed(known)
        for old in doomed:
            old_path, _ = known.pop(old)
            self._sink.remove_checkpoint(old)
            remove_path(Path(old_path))
        return doomed

    def steps(self) -> list[int]:
        """Steps of the checkpoints kept now."""
        return sorted(self._load())

    def _load(self) -> dict[int, tuple[str, float | None]]:
        if self._known is None:
            self._known = {step: (path, value) for step, path, value in self._sink.list_checkpoints()}
        return self._known

    def _doomed(self, known: dict[int, tuple[str, float | None]]) -> list[int]:
        sign = 1.0 if self._mode == "min" else -1.0

        def rank(step: int) -> tuple[bool, float, int]:
            value = known[step][1]
            missing = value is None or math.isnan(value)
            return (missing, 0.0 if missing else sign * value, -step)

        best = sorted(known, key=rank)[: self._kept]
        keep = set(best) | {max(known)}
        return sorted(step for step in known if step not in keep)


def remove_path(path: Path) -> None:
    """Delete a checkpoint file or folder; nothing if it is absent."""
    if path.is_dir() and not path.is_symlink():
        import shutil  # lazily: only pruning needs it

        shutil.rmtree(path)
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
