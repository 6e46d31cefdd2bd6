"""``tunebook retrain``: rerun one configuration with fresh seeds, to see its trial variance."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tunebook.cli.options import open_cli_store, runs_option, store_option

if TYPE_CHECKING:
    from tunebook.core.experiment import Experiment
    from tunebook.core.records import StudyRecord, Trial
    from tunebook.plans.reference import ResolvedTrial
    from tunebook.storage.base import Store



@dataclasses.dataclass(frozen=True)
class Source:
    """The trial a retrain or rerun starts from: resolved, its study's record, its experiment made runnable."""

    resolved: "ResolvedTrial"
    study: "StudyRecord"
    experiment: "Experiment"

    @property
    def ref(self) -> str:
        return self.resolved.canonical


@click.command("retrain")
@click.argument("trial")
@click.option("-n", "repeats", type=click.IntRange(min=1), required=True,
              help="How many repeats (seeds) to run; a larger N later extends them, the same N resumes.")
@click.option("--seed-param", default="seed", show_default=True, metavar="NAME",
              help="The integer hyperparameter that seeds the program; each repeat gets its own value.")
@click.option("--parallel", type=click.IntRange(min=1), default=None, help="Trials at once (overrides run.parallel).")
@store_option
@runs_option()
def retrain_command(trial: str, repeats: int, seed_param: str, parallel: int | None, store_url: str | None,
                    runs_dir: str) -> None:
    """Retrain TRIAL's configuration N times with other seeds, to measure its trial variance.

    TRIAL is EXPERIMENT/STUDY/NUMBER as `tunebook trials` prints it, or
    EXPERIMENT for its best trial. The playbook: "before adopting a candidate
    change, consider running the best trial N times to characterize the
    run-to-run trial variance", so that a launch rests on "strong evidence –
    not just random chance based on a lucky configuration". The repeats run as a study `retrain:STUDY:NUMBER` of the same
    experiment, through the same runner as `tunebook run` (parallel,
    resumable: Ctrl-C and run it again), and end with each seed's value and
    the `tunebook compare` command to run next.
    """
    from tunebook.cli.run import _given, _summary, run_with_progress
    from tunebook.execution.retrain import RETRAIN, retrain_study, seed_notice, seed_slot, study_key

    with open_cli_store(store_url) as store:
        source = find_source(trial, store)
        slot = seed_slot(source.experiment, source.resolved.trial, seed_param,
                         required=_given("seed_param", seed_param) is not None)
        had = len(study_trials(store, source, study_key(RETRAIN, source.study.key, source.resolved.trial.number)))
        plan = retrain_study(RETRAIN, source.resolved.trial, source.study, slot, repeats, had)
        for line in _notices(seed_notice(slot), source, repeats, had):
            click.echo(line, err=True)
        config = source.experiment.run_config()
        progress = run_with_progress(source.experiment, store, parallel or config.parallel, None, Path(runs_dir),
                                     studies=[plan])
        click.echo(_summary(source.experiment.name, store.url, Path(runs_dir), progress))
        from tunebook.cli.repeats_view import print_next_compare, print_repeats

        data = print_repeats(store, source, seed_param)
        print_next_compare(store, data, source, seed_param, repeats, runs=_given("runs_dir", runs_dir))


def find_source(text: str, store: "Store", follow_repeats: bool = True) -> Source:
    """The trial TEXT names, made runnable; with ``follow_repeats``, a retrain's trial stands for the trial it repeats.

    RetrainError when the experiment cannot run trials here (imported, no ``run:`` section).
    """
    from tunebook.core.experiment import Experiment
    from tunebook.execution.retrain import RetrainError
    from tunebook.plans.reference import resolve_trial

    resolved = resolve_trial(text, store)
    studies = {s.id: s for s in store.list_studies(resolved.record.id)}
    study = studies[resolved.trial.study_id]
    if resolved.ref.study is None and resolved.ref.number is None and study.source_trial_id is not None:
        resolved = _best_searched(resolved, studies.values(), store)  # EXPERIMENT: the search's best, not a lucky seed
        study = studies[resolved.trial.study_id]
    if follow_repeats and study.source_trial_id is not None:  # a repeat: its configuration is its source's
        origin = store.get_trial(study.source_trial_id)
        origin_study = studies[origin.study_id]
        click.echo(f"note: {text} repeats {resolved.record.name}/{origin_study.key}/{origin.number}; "
                   "that trial's configuration is the one rerun", err=True)
        resolved = resolve_trial(f"{resolved.record.name}/{origin_study.key}/{origin.number}", store)
        study = origin_study
    record = resolved.record
    if not record.spec.get("run"):
        raise RetrainError(
            f"{text}: experiment {record.name!r} has no run: section (it was imported, or its trials ran "
            "elsewhere), so tunebook cannot run its trials again"
        )
    # the spec file it last ran from: where its trials run (run.workdir is relative to it)
    experiment = dataclasses.replace(Experiment.from_dict(dict(record.spec)), source=record.source)
    experiment.run_config()  # SpecError now, before anything is stored
    return Source(resolved, study, experiment)


def _best_searched(resolved: "ResolvedTrial", studies, store: "Store") -> "ResolvedTrial":  # noqa: ANN001
    """The experiment's best trial among its search studies (retrain and rerun studies left out)."""
    from tunebook.analysis.best import ranked
    from tunebook.plans.reference import resolve_trial

    repeat_keys = {s.key for s in studies if s.source_trial_id is not None}
    best = ranked(resolved.data)
    best = best[~best["study"].isin(repeat_keys)]
    if not len(best):
        return resolved
    return resolve_trial(f"{resolved.record.name}/{best['study'].iloc[0]}/{int(best['number'].iloc[0])}", store)


def study_trials(store: "Store", source: Source, key: str) -> list["Trial"]:
    """The trials of study ``key`` in the source's experiment ([] when it does not exist yet)."""
    for study in store.list_studies(source.resolved.record.id):
        if study.key == key:
            return store.list_trials(study_id=study.id)
    return []


def _notices(seed_line: str | None, source: Source, repeats: int, had: int) -> list[str]:
    lines = [seed_line] if seed_line else []
    if had > repeats:
        lines.append(f"note: {source.ref} already has {had} repeats, more than -n {repeats}: they all stay and "
                     "count; nothing new to run (a larger -n extends them)")
    return lines
