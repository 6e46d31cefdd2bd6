"""Fixtures for tracking tests: a real SQLite store and trials claimed in it.

``make_trial`` claims a trial the way an executor does and writes its folder
(``trial.json``, ``params.json``); ``run_trial`` runs a real Python process on
it with ``TUNEBOOK_TRIAL_DIR`` and ``TUNEBOOK_PARAMS`` set.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tunebook.core.records import Trial as TrialRecord
from tunebook.storage import SQLStore
from tunebook.tracking.protocol import ENV_PARAMS, ENV_TRIAL_DIR, PARAMS_FILE, TrialContext

SPEC = {"goal": "test tracking", "objective": {"metric": "valid/error", "mode": "min"}}


def params_for(number: int) -> dict[str, Any]:
    return {"optimizer": "adam", "learning_rate[optimizer=adam]": 10.0 ** -(number + 1)}


@dataclasses.dataclass(frozen=True)
class Claimed:
    """A claimed trial: its store record, folder and context."""

    record: TrialRecord
    dir: Path
    context: TrialContext

    @property
    def id(self) -> int:
        return self.record.id


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLStore]:
    store = SQLStore(f"sqlite:///{tmp_path / 'store.db'}")
    yield store
    store.close()


@pytest.fixture
def make_trial(store: SQLStore, tmp_path: Path) -> Callable[..., Claimed]:
    """Claim the next trial; keyword arguments override ``TrialContext`` fields."""

    def make(**fields: Any) -> Claimed:
        experiment = store.ensure_experiment("tracking", SPEC)
        study = store.ensure_study(experiment.id, "joint", {}, budget=1000)
        record = store.claim_trial(study.id, "test-worker", params_for)
        trial_dir = tmp_path / f"trial-{record.id}"
        trial_dir.mkdir()
        values = dict(
            trial_id=record.id, store=store.url, objective_metric="valid/error", objective_mode="min"
        )
        context = TrialContext(**{**values, **fields})
        context.write(trial_dir)
        (trial_dir / PARAMS_FILE).write_text(json.dumps(record.plain_params))
        return Claimed(record, trial_dir, context)

    return make


def trial_env(claimed: Claimed | None) -> dict[str, str]:
    """The environment an executor gives a trial process (None: outside tunebook)."""
    env = {k: v for k, v in os.environ.items() if k not in (ENV_TRIAL_DIR, ENV_PARAMS)}
    if claimed is not None:
        env[ENV_TRIAL_DIR] = str(claimed.dir)
        env[ENV_PARAMS] = json.dumps(claimed.record.plain_params)
    return env


def script_command(script: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(script)]


def run_trial(claimed: Claimed | None, script: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``script`` as the trial process and wait for it (60 s at most)."""
    return subprocess.run(
        script_command(script), env=trial_env(claimed), cwd=cwd or (claimed.dir if claimed else None),
        capture_output=True, text=True, timeout=60,
    )


def start_trial(claimed: Claimed, script: str) -> subprocess.Popen:
    """Start ``script`` as the trial process, stdout piped, without waiting."""
    return subprocess.Popen(
        script_command(script), env=trial_env(claimed), cwd=claimed.dir,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def curves(store: SQLStore, trial_id: int) -> dict[str, list[tuple[int, float]]]:
    """The trial's stored curves: metric -> [(step, value)] in step order."""
    frame = store.load_curves(trial_ids=[trial_id])
    out: dict[str, list[tuple[int, float]]] = {}
    for metric, step, value in zip(frame["metric"], frame["step"], frame["value"]):
        out.setdefault(str(metric), []).append((int(step), float(value)))
    return out


def same_points(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> bool:
    """Equal step for step, value for value, NaN equal to NaN."""
    return len(got) == len(want) and all(
        gs == ws and (gv == wv or (math.isnan(gv) and math.isnan(wv))) for (gs, gv), (ws, wv) in zip(got, want)
    )
