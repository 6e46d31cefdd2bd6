"""What ``tunebook retrain`` prints at the end: a configuration's repeats, their spread, and what to run next.

The statistics are over the repeats that completed with a finite value
(the source trial included): median, mean, sample standard deviation
(ddof=1; none with fewer than 2 values), min and max. Diverged (infeasible)
and failed repeats are counted and shown, never dropped silently; they
enter no statistic here (``tunebook compare`` counts them as the worst
outcome). Running or waiting repeats are counted as unfinished.
"""

from __future__ import annotations

import dataclasses
import math
import shlex
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData
    from tunebook.cli.retrain import Source
    from tunebook.storage.base import Store


@dataclasses.dataclass(frozen=True)
class RepeatValues:
    """One configuration's repeats: (trial name, seed, state, objective) each, and their statistics."""

    rows: tuple[tuple[str, Any, str, float | None], ...]

    @property
    def values(self) -> list[float]:
        return [v for _, _, state, v in self.rows if state == "complete" and v is not None and math.isfinite(v)]

    def count(self, state: str) -> int:
        return sum(1 for _, _, s, _ in self.rows if s == state)

    def statistics(self) -> dict[str, float | None]:
        """median, mean, std (ddof=1, None below 2 values), min, max of ``values`` (all None when empty)."""
        import numpy as np

        values = np.asarray(self.values, dtype=float)
        if not len(values):
            return dict.fromkeys(("median", "mean", "std", "min", "max"))
        std = float(np.std(values, ddof=1)) if len(values) > 1 else None
        return {"median": float(np.median(values)), "mean": float(values.mean()), "std": std,
                "min": float(values.min()), "max": float(values.max())}


def repeat_values(data: "ExperimentData", trial_id: int, seed_param: str) -> RepeatValues:
    """The repeats of trial ``trial_id``'s configuration (itself included), in study and number order."""
    from tunebook.analysis.repeats import repeats_of
    from tunebook.execution.retrain import plain_seed

    ids = set(repeats_of(data, trial_id, seed_param).trial_ids)
    frame = data.trials[data.trials["trial_id"].isin(ids)]
    rows = []
    for row in frame.to_dict("records"):
        value = row["objective"]
        value = None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
        seed = plain_seed({k: v for k, v in row.items() if not _unset(v)}, seed_param)
        rows.append((data.trial_name(row["trial_id"]), seed, row["state"], value))
    return RepeatValues(tuple(rows))


def print_repeats(store: "Store", source: "Source", seed_param: str) -> "ExperimentData":
    """Print each repeat's seed and value and their statistics; the experiment's data, for what comes next."""
    from tunebook.analysis import load
    from tunebook.cli.render import Column, emit

    data = load(source.experiment.name, store)
    repeats = repeat_values(data, source.resolved.trial.id, seed_param)
    metric = source.experiment.objective.metric
    rows = [{"trial": name, seed_param: "-" if seed is None else seed, "state": state,
             metric: "-" if value is None else f"{value:.6g}"} for name, seed, state, value in repeats.rows]
    click.echo(f"\nRepeats of {source.ref}: {len(rows)} seeds of one configuration")
    emit(rows, "table", columns=[Column("trial"), Column(seed_param, justify="right"), Column("state"),
                  Column(metric, justify="right")])
    click.echo(_statistics_line(repeats, metric))
    return data


def _statistics_line(repeats: RepeatValues, metric: str) -> str:
    stats = repeats.statistics()
    n = len(repeats.values)
    if not n:
        spread = f"{metric}: no repeat completed with a value"
    else:
        std = "n/a (1 value)" if stats["std"] is None else f"{stats['std']:.3g}"
        spread = (f"{metric} over {n} completed: median {stats['median']:.6g}, mean {stats['mean']:.6g}, "
                  f"std {std}, min {stats['min']:.6g}, max {stats['max']:.6g}")
    unfinished = repeats.count("running") + repeats.count("waiting")
    counts = f"; {repeats.count('infeasible')} diverged, {repeats.count('failed')} failed (in no statistic above)"
    return spread + counts + (f"; {unfinished} unfinished" if unfinished else "")


def print_next_compare(store: "Store", data: "ExperimentData", source: "Source", seed_param: str, n: int,
                       runs: str | None = None) -> None:
    """The next command: compare with another retrained configuration, or retrain the runner-up first.

    Commands name the store, and ``--runs`` when the user gave one, so they run as printed.
    """
    from tunebook.storage.url import command_url

    store_args = ["--store", command_url(store.url)]
    seed_args = [] if seed_param == "seed" else ["--seed-param", seed_param]
    mine = repeat_values(data, source.resolved.trial.id, seed_param)
    other = _best_other_retrained(store, data, source, seed_param)
    commands = []
    if other is not None:
        what = "Is the difference beyond trial variance? Compare the two configurations"
        pair = _ordered(source.experiment.objective.mode, (source.ref, _median(mine)), other)
    else:
        runner_up = _runner_up(data, source, seed_param)
        if runner_up is None:
            return
        what = "Retrain the runner-up the same way, then compare the two configurations"
        runs_args = ["--runs", runs] if runs else []
        commands.append(["tunebook", "retrain", runner_up[0], "-n", str(n), *seed_args, *store_args, *runs_args])
        pair = _ordered(source.experiment.objective.mode, (source.ref, source.resolved.trial.objective), runner_up)
    commands.append(["tunebook", "compare", pair[0], pair[1], *seed_args, *store_args])
    click.echo(f"\nNext: {what}:")
    for command in commands:
        click.echo("    " + shlex.join(command))


def _best_other_retrained(store: "Store", data: "ExperimentData", source: "Source", seed_param: str):  # noqa: ANN202
    """(reference, repeats' median) of the best other configuration with a retrain study, or None."""
    from tunebook.analysis.repeats import configuration
    from tunebook.execution.retrain import RETRAIN

    name = source.experiment.name
    studies = store.list_studies(source.resolved.record.id)
    keys = {s.id: s.key for s in studies}
    own = configuration(dict(source.resolved.trial.params), seed_param)
    found = []
    for study in studies:
        if study.source_trial_id is None or not study.key.startswith(f"{RETRAIN}:"):
            continue
        trial = store.get_trial(study.source_trial_id)
        if configuration(dict(trial.params), seed_param) == own:
            continue
        median = _median(repeat_values(data, trial.id, seed_param))
        if median is not None:
            found.append((f"{name}/{keys[trial.study_id]}/{trial.number}", median))
    return _best(found, source.experiment.objective.mode)


def _runner_up(data: "ExperimentData", source: "Source", seed_param: str):  # noqa: ANN202
    """(reference, objective) of the best complete trial of another configuration, or None."""
    from tunebook.analysis.best import ranked
    from tunebook.analysis.data import TRIAL_COLUMNS
    from tunebook.analysis.repeats import configuration
    from tunebook.execution.retrain import is_repeat_key

    own = configuration(dict(source.resolved.trial.params), seed_param)
    for row in ranked(data).to_dict("records"):
        if is_repeat_key(row["study"]):
            continue  # a repeat stands for its source, which is ranked on its own
        params = {k: v for k, v in row.items() if k not in TRIAL_COLUMNS}
        if configuration(params, seed_param) != own:
            study, number = row["study"], int(row["number"])
            return f"{source.experiment.name}/{study}/{number}", float(row["objective"])
    return None


def _median(repeats: RepeatValues) -> float | None:
    return repeats.statistics()["median"]


def _best(found: list, mode: str):  # noqa: ANN001, ANN202
    if not found:
        return None
    return min(found, key=lambda rv: rv[1] if mode == "min" else -rv[1])


def _ordered(mode: str, one: tuple, other: tuple) -> tuple[str, str]:
    """(BASELINE, CANDIDATE): the candidate is the one that looks better, the claim the comparison tests."""
    if one[1] is None:
        return one[0], other[0]
    better_one = one[1] < other[1] if mode == "min" else one[1] > other[1]
    return (other[0], one[0]) if better_one else (one[0], other[0])


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
