"""``tunebook trials``: one row per trial of an experiment."""

from __future__ import annotations

from typing import Any

import click

from tunebook.cli.options import open_cli_store, store_option
from tunebook.cli.render import emit, format_option

FIXED_COLUMNS = ("study", "trial", "state", "objective", "best step", "duration s", "attempt", "reason")


@click.command("trials")
@click.argument("experiment")
@store_option
@format_option
def trials_command(experiment: str, store_url: str | None, fmt: str) -> None:
    """Trials of EXPERIMENT: study, number, params, state, objective, best step, duration, reason."""
    with open_cli_store(store_url) as store:
        record = store.get_experiment(experiment)
        keys = {s.id: s.key for s in store.list_studies(record.id)}
        trials = store.list_trials(experiment_id=record.id)
    rows = [_row(keys[t.study_id], t) for t in trials]
    if fmt == "json":
        emit(rows, fmt)
        return
    param_ids = list(dict.fromkeys(k for t in trials for k in t.params))
    flat = [{**{k: v for k, v in r.items() if k != "params"}, **r["params"]} for r in rows]
    columns = list(FIXED_COLUMNS[:2]) + param_ids + list(FIXED_COLUMNS[2:])
    emit(flat, fmt, title=f"trials of {experiment}", columns=columns)


def _row(study_key: str, trial: Any) -> dict[str, Any]:
    duration = None
    if trial.started_at and trial.finished_at:
        duration = round((trial.finished_at - trial.started_at).total_seconds(), 2)
    return {
        "study": study_key, "trial": trial.number, "params": dict(trial.params), "state": trial.state.value,
        "objective": trial.objective, "best step": trial.best_step, "duration s": duration,
        "attempt": trial.attempt, "reason": trial.reason,
    }
