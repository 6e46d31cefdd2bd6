"""Everything a claimed trial needs before it starts: its folder, files and launcher."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping

from tunebook.core.errors import TunebookError
from tunebook.core.experiment import Experiment
from tunebook.core.records import Trial
from tunebook.core.run_spec import RunConfig, placeholders
from tunebook.execution.base import Launch
from tunebook.execution.launch import ENV_PARENT_PID, LAUNCH_FILE, launcher_argv
from tunebook.storage.base import Store
from tunebook.tracking.protocol import (
    ENV_PARAMS, ENV_TRIAL_DIR, OUTCOME_FILE, PARAMS_FILE, Divergence, TrialContext,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.=,-]+")


def trial_dir(runs_dir: Path, experiment: str, study_key: str, number: int) -> Path:
    """``runs_dir/experiment/study/0007``: one folder per trial, kept across retries."""
    return experiment_dir(runs_dir, experiment) / _UNSAFE.sub("_", study_key) / f"{number:04d}"


def experiment_dir(runs_dir: Path, experiment: str) -> Path:
    """``runs_dir/experiment``: the folder holding an experiment's trial folders."""
    return runs_dir / _UNSAFE.sub("_", experiment)


def command_argv(command: str | tuple[str, ...], params: Mapping[str, Any]) -> list[str]:
    """The command's arguments with ``{name}`` filled from the trial's params."""
    tokens = shlex.split(command) if isinstance(command, str) else list(command)
    missing = sorted(placeholders(tuple(tokens)) - set(params))
    if missing:
        raise TunebookError(
            f"run.command uses {{{missing[0]}}}, which this trial does not have "
            f"(it has {', '.join(sorted(params))}); read conditional values from TUNEBOOK_PARAMS instead"
        )
    return [token.format_map(params) for token in tokens]


def resume_point(store: Store, trial: Trial) -> tuple[str | None, int | None]:
    """The latest checkpoint an earlier attempt left on disk, if any.

    A trial created by this very claim (started when created) had no earlier
    attempt: the store is not asked (one read transaction less per trial).
    """
    if trial.started_at is not None and trial.started_at == trial.created_at and trial.attempt == 0:
        return None, None
    for checkpoint in sorted(store.list_checkpoints(trial.id), key=lambda c: c.step, reverse=True):
        if Path(checkpoint.path).exists():
            return checkpoint.path, checkpoint.step
    return None, None


def prepare_launch(
    trial: Trial, study_key: str, experiment: Experiment, config: RunConfig,
    store: Store, runs_dir: Path, workdir: Path,
) -> Launch:
    """Write the trial's folder (context, params, launch spec) and say how to start it."""
    folder = trial_dir(runs_dir, experiment.name, study_key, trial.number)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / OUTCOME_FILE).unlink(missing_ok=True)  # an earlier attempt's outcome
    params = trial.plain_params
    resume_from, resume_step = resume_point(store, trial)
    TrialContext(
        trial_id=trial.id, store=store.url,
        objective_metric=experiment.objective.metric, objective_mode=experiment.objective.mode,
        checkpoints_kept=config.checkpoints_kept,
        divergence=Divergence(config.loss_metrics, config.divergence_factor),
        resume_from=resume_from, resume_step=resume_step,
    ).write(folder)
    (folder / PARAMS_FILE).write_text(json.dumps(params, indent=2))
    spec: dict[str, Any] = {"workdir": str(workdir), "metrics": list(config.output_metrics)}
    if config.function:
        spec["function"] = config.function
    else:
        spec["argv"] = command_argv(config.command, params)  # type: ignore[arg-type]
    (folder / LAUNCH_FILE).write_text(json.dumps(spec, indent=2))
    return Launch(
        trial_id=trial.id, trial_dir=folder,
        argv=launcher_argv(folder),
        env=trial_env(config, folder, params), cwd=workdir,
        timeout=config.timeout, gpus=config.gpus_per_trial,
    )


def trial_env(config: RunConfig, folder: Path, params: Mapping[str, Any]) -> dict[str, str]:
    """This process's environment plus the trial's: its folder, params, the run's env."""
    env = dict(os.environ)
    env.update(config.env)
    # "python" in a command means the interpreter tunebook runs on (its venv)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env[ENV_TRIAL_DIR] = str(folder)
    env[ENV_PARAMS] = json.dumps(params)
    env[ENV_PARENT_PID] = str(os.getpid())
    env["PYTHONUNBUFFERED"] = "1"  # printed metrics arrive as they are printed
    return env


def check_command(config: RunConfig, names: Iterable[str]) -> None:
    """Every ``{placeholder}`` of the command must be a hyperparameter's plain name."""
    if not config.command:
        return
    unknown = sorted(placeholders(config.command) - set(names))
    if unknown:
        raise TunebookError(
            f"run.command uses {{{unknown[0]}}}, which is not a hyperparameter of this experiment"
        )
