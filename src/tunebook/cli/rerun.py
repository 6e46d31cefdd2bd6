"""``tunebook rerun``: one trial again, exactly: its recorded code version, params and seed."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import click

from tunebook.cli.options import open_cli_store, runs_option, store_option
from tunebook.cli.retrain import Source, find_source, study_trials

if TYPE_CHECKING:
    from tunebook.core.records import CodeVersion, Trial
    from tunebook.storage.base import Store


@click.command("rerun")
@click.argument("trial")
@store_option
@runs_option()
@click.option("--keep", "keep_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Rebuild the recorded code in DIR (new or empty) and keep it; default: a temporary folder.")
def rerun_command(trial: str, store_url: str | None, runs_dir: str, keep_dir: str | None) -> None:
    """Reproduce TRIAL exactly: its recorded code, params and seed, then say whether its result came back.

    The playbook's tracking keeps "specific reproduction commands or notes on
    what unsubmitted changes were necessary to launch training"; this is that
    command. The code is
    the version recorded when TRIAL ran (its commit with the uncommitted diff
    applied, rebuilt in a fresh clone; your own tree is never touched); the
    trial runs once more as a study `rerun:STUDY:NUMBER` of the same
    experiment, and its objective is set beside the source's: equal exactly,
    within floating-point noise, or not. A trial with no recorded code version
    (run before versions were recorded, or imported) reruns on the current
    tree, with a warning.
    """
    from tunebook.execution.rerun import rerun_study

    with open_cli_store(store_url) as store:
        source = find_source(trial, store, follow_repeats=False)
        version = _code_version(store, source.resolved.trial)
        existing = study_trials(store, source, rerun_study(source.resolved.trial, source.study, []).key)
        plan = rerun_study(source.resolved.trial, source.study, existing)
        with _code_tree(source, version, keep_dir) as workdir:
            # on the rebuilt tree the code is the recorded version's, so the rerun trial records that version
            rebuilt_version = version.id if workdir is not None and version is not None else None
            rerun = _run(store, source, plan, workdir, rebuilt_version, Path(runs_dir))
        _print_match(source, rerun, version)


def _code_version(store: "Store", trial: "Trial") -> "CodeVersion | None":
    return None if trial.code_version_id is None else store.get_code_version(trial.code_version_id)


@contextlib.contextmanager
def _code_tree(source: Source, version: "CodeVersion | None", keep_dir: str | None) -> Iterator[Path | None]:
    """The working directory the trial reruns in (None: the current tree), rebuilt for the duration; warnings said."""
    from tunebook.execution.rerun import rebuilt_workdir, software_changes
    from tunebook.execution.runner import run_workdir

    workdir = run_workdir(source.experiment, source.experiment.run_config())
    dest = Path(keep_dir).resolve() if keep_dir else Path(tempfile.mkdtemp(prefix="tunebook-rerun-")) / "code"
    try:
        rebuilt, warnings = rebuilt_workdir(version, workdir, dest)
        if version is not None:
            warnings += [f"note: software differs from the recorded: {change}" for change in software_changes(version.info)]
        for line in warnings:
            click.echo(line, err=True)
        if rebuilt is not None:
            kept = "kept" if keep_dir else "removed afterwards; --keep DIR keeps it"
            click.echo(f"code: {_code_words(version)}, rebuilt in {dest} ({kept})", err=True)
        yield rebuilt
    finally:
        if not keep_dir:
            shutil.rmtree(dest.parent, ignore_errors=True)


def _code_words(version: "CodeVersion | None") -> str:
    from tunebook.core.provenance import code_line

    return code_line(version)


def _run(store: "Store", source: Source, plan, workdir: Path | None, version_id: int | None,  # noqa: ANN001
         runs_dir: Path) -> "Trial":
    """Run the rerun study to its budget; its last trial (the one this command added or resumed)."""
    from tunebook.cli.run import _summary, run_with_progress

    progress = run_with_progress(source.experiment, store, 1, None, runs_dir, studies=[plan], workdir=workdir,
                                 code_version_id=version_id)
    click.echo(_summary(source.experiment.name, store.url, runs_dir, progress))
    return study_trials(store, source, plan.key)[-1]


def _print_match(source: Source, rerun: "Trial", version: "CodeVersion | None") -> None:
    from tunebook.core.records import trial_name
    from tunebook.execution.rerun import outcome_match

    metric = source.experiment.objective.metric
    name = source.resolved.record.name
    matched, words = outcome_match(source.resolved.trial, rerun)
    click.echo()
    click.echo(f"Rerun of {source.ref}:")
    click.echo(f"  code:   {_code_words(version)}")
    for label, trial, study in (("source", source.resolved.trial, source.study.key), ("rerun", rerun, None)):
        where = trial_name(study, trial.number) if study else trial_name(_study_key(source), trial.number)
        value = "-" if trial.objective is None else f"{trial.objective!r}"
        click.echo(f"  {label + ':':7} {trial.state.value}, {metric} {value} at step {trial.best_step}  "
                   f"({name}/{where})")
    click.echo(f"  {'result:':7} {words}")
    if not matched:
        click.echo("  (the trials' folders hold both outputs; `tunebook trials --show` gives each one's code version)")


def _study_key(source: Source) -> str:
    from tunebook.execution.retrain import RERUN, study_key

    return study_key(RERUN, source.study.key, source.resolved.trial.number)
