"""Helpers for the examples/digits tests: paths, params from the specs, real trial processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping

from tunebook.core import Experiment
from tunebook.storage import SQLStore
from tunebook.tracking.protocol import ENV_PARAMS, ENV_TRIAL_DIR, TrialContext

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits"
SPEC = DIGITS / "spec.yaml"
COMMAND_SPEC = DIGITS / "spec-command.yaml"


def fixed_params(spec: Path) -> dict[str, Any]:
    """The spec's fixed hyperparameters by plain name (what every trial receives)."""
    experiment = Experiment.from_yaml(str(spec))
    return {hp.name: hp.domain.value for hp in experiment.caveats}


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a trial process, without any tunebook variable leaking in from ours."""
    env = {k: v for k, v in os.environ.items() if k not in (ENV_TRIAL_DIR, ENV_PARAMS)}
    env.update(extra)
    return env


def run_python(args: list[str], env: Mapping[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` in examples/digits with this interpreter; output captured as text."""
    return subprocess.run(
        [sys.executable, *args], cwd=DIGITS, env=dict(env), capture_output=True, text=True, timeout=timeout
    )


class ManagedTrials:
    """A real SQLite store with one experiment and study, handing out trials as the executor would.

    ``run(params)`` claims a trial, writes its ``trial.json`` and runs
    ``python train.py`` as that trial in a fresh process (the way tunebook
    runs a trial function: one process per trial, the context in
    ``$TUNEBOOK_TRIAL_DIR``).
    """

    def __init__(self, root: Path, checkpoints_kept: int = 2) -> None:
        self.root = root
        self.url = f"sqlite:///{root / 'tunebook.db'}"
        self.store = SQLStore(self.url)
        self.checkpoints_kept = checkpoints_kept
        experiment = Experiment.from_yaml(str(SPEC))
        record = self.store.ensure_experiment(experiment.name, experiment.to_dict())
        self.study = self.store.ensure_study(record.id, "tests", {}, budget=100)

    def claim(self, params: Mapping[str, Any]) -> int:
        trial = self.store.claim_trial(self.study.id, "tests", lambda n: dict(params))
        return trial.id

    def run(
        self, params: Mapping[str, Any], trial_id: int | None = None, resume_from: str | None = None,
        resume_step: int | None = None,
    ) -> tuple[int, subprocess.CompletedProcess]:
        """Run one attempt of a trial (a new one unless ``trial_id``); (trial id, finished process)."""
        trial_id = self.claim(params) if trial_id is None else trial_id
        trial_dir = self.trial_dir(trial_id)
        trial_dir.mkdir(parents=True, exist_ok=True)
        TrialContext(
            trial_id=trial_id, store=self.url, objective_metric="valid/error", objective_mode="min",
            checkpoints_kept=self.checkpoints_kept, resume_from=resume_from, resume_step=resume_step,
        ).write(trial_dir)
        env = clean_env(**{ENV_TRIAL_DIR: str(trial_dir), ENV_PARAMS: json.dumps(dict(params))})
        return trial_id, run_python(["train.py"], env)

    def trial_dir(self, trial_id: int) -> Path:
        return self.root / "trials" / str(trial_id)

    def steps(self, trial_id: int, metric: str) -> list[int]:
        """Every logged step of one curve, in order, repeats included."""
        frame = self.store.load_curves(trial_ids=[trial_id])
        return frame[frame["metric"] == metric]["step"].tolist()

    def curve(self, trial_id: int, metric: str) -> dict[int, float]:
        """step -> value of one logged curve."""
        frame = self.store.load_curves(trial_ids=[trial_id])
        rows = frame[frame["metric"] == metric]
        return dict(zip(rows["step"].tolist(), rows["value"].tolist()))

    def close(self) -> None:
        self.store.close()
