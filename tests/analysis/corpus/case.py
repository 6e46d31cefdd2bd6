"""One corpus entry's recipe (``Case``) and the helpers the case lists share."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence


@dataclasses.dataclass(frozen=True)
class Case:
    """One corpus entry: its runs (``runs.train_run`` configs), objective metric, labels and a note."""

    id: str
    case: str
    note: str
    metric: str
    labels: Mapping[str, str]
    runs: Sequence[Mapping[str, Any]]
    scientific: Mapping[str, list] | None = None
    metrics: tuple[str, ...] = ("train/loss", "valid/loss", "valid/error")


def labels(**labels: str) -> dict[str, str]:
    """``labels`` plus ``periodicity: silent`` (nothing but the unshuffled loaders repeats with the epoch)."""
    return {"periodicity": "silent", **labels}


def seeds(run: Mapping[str, Any], seeds: Sequence[int]) -> list[dict[str, Any]]:
    """One run per seed, otherwise ``run``."""
    return [{**run, "seed": seed} for seed in seeds]
