"""``tunebook trials EXPERIMENT --show STUDY/NUMBER``: one trial in full, with the code that produced it.

Shows the trial's outcome and params, its code version (commit, branch,
dirty or clean, the stored diff's size, untracked files, software, host, and
why it is not exactly reproducible when it is not), and the ``tunebook rerun``
command that rebuilds that code and runs the trial again. ``--diff`` prints
the stored diff alone, ready for ``git apply``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from tunebook.cli.render import emit
from tunebook.core.errors import NotFoundError
from tunebook.core.provenance import code_details, code_summary, rerun_command
from tunebook.core.readable import format_duration
from tunebook.core.records import CodeVersion, StudyRecord, Trial, trial_name
from tunebook.storage.url import command_url


def show_trial(store: Any, experiment: str, ref: str, fmt: str, diff_only: bool) -> None:
    """Print trial ``ref`` (``STUDY/NUMBER``, or ``NUMBER`` in a one-study experiment) of ``experiment``."""
    record = store.get_experiment(experiment)
    study, trial = find_trial(store, record.id, experiment, ref)
    version = store.get_code_version(trial.code_version_id) if trial.code_version_id is not None else None
    if diff_only:
        _print_diff(version, trial_name(study.key, trial.number))
        return
    name = trial_name(study.key, trial.number)
    rerun = rerun_command(experiment, name, command_url(store.url))
    notes = [{"at": f"{n.created_at:%Y-%m-%d %H:%M} UTC", "text": n.text}
             for n in store.list_notes(record.id, trial_id=trial.id)]
    if fmt == "table":
        _print_detail(experiment, name, trial, version, rerun, notes)
        return
    row = _row(experiment, name, trial, version, rerun, notes)
    if fmt == "json":
        click.echo(json.dumps(row, indent=2, default=str))
    else:
        emit([row], fmt)


def find_trial(store: Any, experiment_id: int, experiment: str, ref: str,
               option: str = "--show") -> tuple[StudyRecord, Trial]:
    """The study and trial ``ref`` names; NotFoundError (naming ``option``) listing the studies or numbers there are."""
    studies = store.list_studies(experiment_id)
    key, _, number = ref.strip().rpartition("/")
    if not key and len(studies) == 1:
        key = studies[0].key
    by_key = {s.key: s for s in studies}
    if key not in by_key:
        raise NotFoundError(f"{option} {ref!r}: experiment {experiment!r} has no study {key!r}; write STUDY/NUMBER "
                            f"with one of its studies: {', '.join(by_key) or 'none'}")
    found = store.trial_by_number(by_key[key].id, int(number)) if number.isdigit() else None
    if found is None:
        numbers = sorted(t.number for t in store.list_trials(study_id=by_key[key].id))
        have = f"{numbers[0]}..{numbers[-1]}" if numbers else "none"
        raise NotFoundError(f"{option} {ref!r}: study {key!r} has no trial {number!r}; its trial numbers: {have}")
    return by_key[key], found


def _row(experiment: str, name: str, trial: Trial, version: CodeVersion | None, rerun: str,
         notes: list[dict[str, str]]) -> dict[str, Any]:
    duration = (trial.finished_at - trial.started_at).total_seconds() if trial.finished_at and trial.started_at else None
    summary = code_summary(version)
    if summary is not None and version is not None:
        summary["info"] = dict(version.info)
    return {
        "experiment": experiment, "trial": name, "params": dict(trial.params), "state": trial.state.value,
        "objective": trial.objective, "best step": trial.best_step, "duration s": duration,
        "attempt": trial.attempt, "worker": trial.worker, "reason": trial.reason,
        "code_version": summary, "rerun": rerun, "notes": notes,
    }


def _print_detail(experiment: str, name: str, trial: Trial, version: CodeVersion | None, rerun: str,
                  notes: list[dict[str, str]]) -> None:
    from rich.console import Console
    from rich.markup import escape

    duration = (trial.finished_at - trial.started_at).total_seconds() if trial.finished_at and trial.started_at else None
    outcome = trial.state.value + (f", objective {trial.objective:.6g}" if trial.objective is not None else "")
    outcome += f" at step {trial.best_step}" if trial.best_step is not None else ""
    lines = [
        ("trial", f"{name} of {experiment}"),
        ("outcome", f"{outcome}; {format_duration(duration)}, attempt {trial.attempt}, worker {trial.worker or '-'}"),
        ("params", ", ".join(f"{k}={v}" for k, v in trial.params.items())),
    ]
    if trial.reason:
        lines.append(("reason", trial.reason.strip().splitlines()[0]))
    lines += code_details(version)
    lines.append(("rerun", rerun if version is not None and version.git else
                  f"{rerun}  (no code recorded: reruns today's code, not the code that produced it)"))
    lines += [("note", f"{n['at']}: {n['text']}") for n in notes]
    console = Console()
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        console.print(f"[bold]{escape(label.rjust(width))}[/bold]  {escape(value)}", soft_wrap=True)


def _print_diff(version: CodeVersion | None, name: str) -> None:
    if version is None or not version.diff:
        what = "has no code version recorded" if version is None else "was produced by a clean tree"
        click.echo(f"trial {name} {what}: there is no diff", err=True)
        return
    click.echo(version.diff, nl=False)
