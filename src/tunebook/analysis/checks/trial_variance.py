"""Check ``trial_variance``: can the isolation result pick a winner, given how much a rerun with another seed moves?

The playbook ("Determining whether to adopt a training pipeline change or
hyperparameter configuration") separates *study variance* (luck in which
nuisance points a study sampled: ``sampled_enough`` judges it) from *trial
variance* (the same configuration retrained with another seed lands
elsewhere), and asks for both before adopting a change: "we must make sure
that the change is based on strong evidence – not just random chance".

The two values judged: the best two scientific values of the isolation
result (``analysis.best.scientific_groups``, by their best trials). Each
best trial's **repeats** are the trials that ran its configuration with
another seed (``analysis.repeats``: any study; the best trial itself is
one of them; a program without a seed parameter repeats a configuration by
running identical params again), and every trial of a retrain study linked
to one of them (``ExperimentData.retrain_sources``, whatever its seed
parameter is called). Only complete repeats with a finite
objective have a value; repeats that diverged or failed are counted and
named in the evidence, never dropped silently.

With repeats (at least one side has two or more values):

* seed standard deviation ``s``: pooled over both sides (ddof 1 per side;
  a side with one value borrows the other side's, as trial variance is a
  property of the pipeline more than of a point), ``df`` = sum of (n_i - 1);
* the difference ``d`` between the repeats' means (winner minus runner-up,
  signed so that positive means the winner is better), its standard error
  ``se = s * sqrt(1/n_1 + 1/n_2)``, and the two-sided ``LEVEL`` (99 %)
  Student-t interval ``d ± t(0.995, df) * se``;
* the interval contains 0 → WARNING: the isolation result cannot pick a
  winner beyond trial variance (with 5 seeds each that needs a gap of more
  than 2.1 seed standard deviations, with 10 each 1.3);
* the interval lies below 0 → WARNING: over seeds the runner-up is better;
  the isolation result picked the wrong winner. Unless the runner-up has
  fewer than ``RETRAIN_SEEDS`` repeats: its value then leans on its best
  trial, the luckiest of its study, which favours it, so the reversal is
  "not yet measured" (WARNING) and the runner-up is retrained first;
* otherwise INFO: the gap clears trial variance, by ``d / se`` standard
  errors (and ``d / s`` seed standard deviations).

What to do while the interval contains 0: when a side has fewer than
``RETRAIN_SEEDS`` repeats besides its best trial (only the winner was
retrained, say), retrain that side first: its value leans on its best
trial, selected as the luckiest of its study, so the observed gap is not
yet a measurement, and any seed count or "too small to settle" read off it
would rest on a biased number; else retrain both best trials to the seeds
per side that would settle the observed gap (``seeds_needed``:
n = 2 (z s / d)^2, at least 5) when that is at most ``MAX_SEEDS`` = 100;
else treat the two as equivalent.

Why 99 % and not 95 %: the two values compared are the top two of the
ranking and each side's mean contains the trial that was selected as its
value's best, so the observed gap is optimistic; a 1-in-20 accident is too
likely to launch on. Measured on planted cases (``tests/analysis/
variance_cases.planted``: 12 trials per value, the best trial of each
retrained with 5 more seeds, 200 draws each): two identical configurations
warn in 199 of 200; a true gap of 2 seed standard deviations is cleared in
113 of 200, of 4 in 197 of 200.

When the two best trials are themselves repeats of one configuration
(studies without a scientific hyperparameter that re-ran the same points
with other seeds), WARNING: their gap is trial variance by definition.

Without repeats: when the gap between the two bests is under twice the
larger bootstrap spread of the two (``sampled_enough``'s numbers: the
interquartile range of the bootstrapped best of half the value's trials;
"in doubt" or "comparable" there), INFO suggesting ``tunebook retrain
EXPERIMENT/STUDY/NUMBER -n RETRAIN_SEEDS`` (5) for both best trials: 6
seeds per side with the best trial itself, where a two-sided rank test
needs at least 4 to reach 5 % at all (its smallest p is 2/70 = 0.029 with 4
per side, 0.1 with 3), and the ``LEVEL`` interval above then clears a gap
of about 1.8 seed standard deviations. Silent when the gap is at least
twice the spread, when either value has fewer than ``MIN_TRIALS`` complete
trials (``sampled_enough`` already says too few trials to tell), and with
fewer than two scientific values. When Bayesian optimization chose trials
(``ExperimentData.model_chosen``), no bootstrap spread measures luck in
sampling (``sampled_enough`` is skipped for the same reason): without
repeats the suggestion is made whatever the gap, as only seeds can judge it.
"""

from __future__ import annotations

import dataclasses
import math
import shlex
from typing import TYPE_CHECKING, Any

import numpy as np

from tunebook.analysis.best import Group, scientific_groups
from tunebook.analysis.checks.sampled_enough import MIN_TRIALS, bootstrap_best_of_k
from tunebook.analysis.findings import Finding, Severity
from tunebook.analysis.memo import cached
from tunebook.analysis.repeats import DEFAULT_SEED_PARAM, repeat_groups
from tunebook.core.records import is_rerun_study

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

ID = "trial_variance"
SECTION = "Determining whether to adopt a training pipeline change or hyperparameter configuration"
LEVEL = 0.99
RETRAIN_SEEDS = 5
MAX_SEEDS = 100

__all__ = ["LEVEL", "RETRAIN_SEEDS", "SeedRuns", "check_trial_variance", "retrain_command", "seed_runs",
           "seeds_needed"]


@dataclasses.dataclass(frozen=True)
class SeedRuns:
    """The repeats of one value's best trial: their names and finite values; ``lost`` names those without one."""

    group: str
    best_trial: str  # STUDY/NUMBER of the value's best trial
    best: float
    names: tuple[str, ...]
    values: tuple[float, ...]
    lost: tuple[str, ...]  # repeats that diverged, failed or have not finished

    @property
    def n(self) -> int:
        return len(self.values)

    def to_dict(self) -> dict[str, Any]:
        mean = float(np.mean(self.values)) if self.values else None
        std = float(np.std(self.values, ddof=1)) if self.n > 1 else None
        return {"group": self.group, "best_trial": self.best_trial, "best": self.best, "trials": list(self.names),
                "values": list(self.values), "n": self.n, "mean": mean, "std": std, "lost": list(self.lost)}


def seed_runs(data: "ExperimentData", group: Group, seed_param: str = DEFAULT_SEED_PARAM) -> SeedRuns:
    """The repeats of ``group``'s best trial (itself included): its configuration's trials in any study
    (``analysis.repeats``), and every trial of a retrain study whose source is one of them (whatever its seed
    parameter is called); in store order."""
    best_id = int(group.trials["trial_id"].iloc[0])
    best = group.trials.iloc[0]
    by_trial = cached(data, ("repeats by trial", seed_param), lambda: {
        t: r for r in repeat_groups(data, seed_param, min_size=1) for t in r.trial_ids})
    ids = set(by_trial[best_id].trial_ids)
    linked = [key for key, source in data.retrain_sources.items() if source in ids and not is_rerun_study(key)]
    ids |= set(int(t) for t in data.trials.loc[data.trials["study"].isin(linked), "trial_id"])
    rows = data.trials.set_index("trial_id").loc[sorted(ids)]
    objective = rows["objective"].astype(float)
    usable = (rows["state"] == "complete").to_numpy() & np.isfinite(objective.to_numpy())
    names = [data.trial_name(int(t)) for t in rows.index]
    return SeedRuns(group.label, data.trial_name(int(best["trial_id"])), float(best["objective"]),
                    tuple(n for n, ok in zip(names, usable) if ok),
                    tuple(float(v) for v, ok in zip(objective, usable) if ok),
                    tuple(f"{n} ({s})" for n, s, ok in zip(names, rows["state"], usable) if not ok))


def retrain_command(data: "ExperimentData", trial: str, seeds: int = RETRAIN_SEEDS, store: str | None = None) -> str:
    """``tunebook retrain EXPERIMENT/STUDY/NUMBER -n SEEDS [--store URL]``, quoted for a POSIX shell."""
    return shlex.join(["tunebook", "retrain", f"{data.experiment.name}/{trial}", "-n", str(seeds),
                       *(["--store", store] if store else [])])


def check_trial_variance(data: "ExperimentData") -> list[Finding]:
    """At most one finding: the two best scientific values judged against their repeats' spread (see module)."""
    groups = scientific_groups(data)
    if len(groups) < 2:
        return []
    sign = -1.0 if data.objective.mode == "max" else 1.0
    winner, runner_up = sorted(groups, key=lambda g: sign * float(g.trials["objective"].iloc[0]))[:2]
    sides = [seed_runs(data, winner), seed_runs(data, runner_up)]
    if set(sides[0].names) & set(sides[1].names):
        return [_same_configuration(sides)]
    if max(s.n for s in sides) >= 2:  # each side has its best trial's value; one repeat more gives a spread
        return [_judge_repeats(data, sides, sign)]
    return _suggest_retrain(data, winner, runner_up, sides)


def _judge_repeats(data: "ExperimentData", sides: list[SeedRuns], sign: float) -> Finding:
    from scipy import stats  # lazily: ~0.5 s of CPU to import

    win, run = sides
    df = sum(max(s.n - 1, 0) for s in sides)
    pooled = math.sqrt(sum(float(np.var(s.values, ddof=1)) * (s.n - 1) for s in sides if s.n > 1) / df)
    diff = sign * (float(np.mean(run.values)) - float(np.mean(win.values)))  # > 0: the winner is better
    se = pooled * math.sqrt(1 / win.n + 1 / run.n)
    half = float(stats.t.ppf(0.5 + LEVEL / 2, df)) * se
    evidence = {"sides": [s.to_dict() for s in sides], "difference": diff, "seed_std": pooled, "df": df,
                "standard_error": se, "interval": [diff - half, diff + half], "level": LEVEL,
                "distinguishable": diff - half > 0 or diff + half < 0, "reversed": diff + half < 0,
                "seeds_needed": seeds_needed(diff, pooled)}
    means = (f"'{win.group}' averages {np.mean(win.values):.4g} over {_seeds(win)} ({_names(win.names)}), "
             f"'{run.group}' {np.mean(run.values):.4g} over {_seeds(run)} ({_names(run.names)}); seed standard "
             f"deviation {pooled:.3g}")
    lost = "; ".join(f"'{s.group}': {', '.join(s.lost)} without a value" for s in sides if s.lost)
    means += f" ({lost}, not in the means)" if lost else ""
    interval = f"{LEVEL:.0%} interval of the difference {diff - half:.3g} to {diff + half:.3g}"
    short = [side for side in sides if side.n <= RETRAIN_SEEDS]
    evidence["short_sides"] = [side.group for side in short]
    more = _more_seeds(data, sides, short, diff, pooled, evidence["seeds_needed"])
    if evidence["reversed"] and run in short:  # the runner-up's value is its luckiest trial's: not yet measured
        evidence.update(reversed=False, distinguishable=False, unmeasured_reversal=True)
        return Finding(ID, Severity.WARNING, f"'{win.group}' and '{run.group}' are not yet distinguishable: over "
                       f"its seeds '{win.group}' does worse than '{run.group}', but that side's value leans on its "
                       f"best trial, the luckiest of its study, so whether the isolation result picked the wrong "
                       f"winner is not yet measured: {means}; {interval}.", evidence, more, SECTION)
    if evidence["reversed"]:
        return Finding(ID, Severity.WARNING, f"Over seeds the runner-up is better: {means}; {interval}. The "
                       f"isolation result's winner '{win.group}' is a lucky seed.", evidence, more, SECTION)
    if not evidence["distinguishable"]:
        reach = half / se * math.sqrt(1 / win.n + 1 / run.n) if se > 0 else 0.0
        return Finding(ID, Severity.WARNING, f"'{win.group}' and '{run.group}' are not distinguishable beyond "
                       f"trial variance: {means}; {interval} contains 0, so the isolation result cannot pick a "
                       f"winner (these seeds can tell only gaps over {reach:.2g} seed standard deviations).",
                       evidence, more, SECTION)
    clears = (f"{diff / se:.1f} standard errors ({diff / pooled:.1f} seed standard deviations), {interval}"
              if pooled > 0 else "and the repeats gave identical values: this pipeline has no trial variance")
    return Finding(ID, Severity.INFO, f"'{win.group}' beats '{run.group}' beyond trial variance: {means}; the gap "
                   f"{diff:.3g} is {clears}.", evidence, "Nothing to do for this check; `tunebook compare` gives "
                   "the full comparison before adopting it.", SECTION)


def _more_seeds(data: "ExperimentData", sides: list[SeedRuns], short: list[SeedRuns], diff: float, pooled: float,
                needed: int | None) -> str:
    """What to do when the gap is not settled (the module's rule): retrain a side that has fewer than
    ``RETRAIN_SEEDS`` repeats first (its value leans on its best trial, the luckiest of its study, so the gap is
    not yet measured); else the seeds that would settle the gap; else treat the two as equivalent."""
    if short:
        which = " and ".join(f"'{s.group}' ({_seeds(s)})" for s in short)
        return (f"Retrain {which} with {RETRAIN_SEEDS} seeds before judging the gap: a side's value with fewer "
                f"seeds leans on its best trial, the luckiest of its study: "
                + "; ".join(retrain_command(data, s.best_trial) for s in short) + "; then `tunebook compare` them.")
    if needed:
        return (f"Retrain both best trials with more seeds, then `tunebook compare` them; "
                f"{_settle_words(diff, pooled)}: " + "; ".join(retrain_command(data, s.best_trial, needed)
                                                             for s in sides) + ".")
    return f"Treat the two as equivalent and choose by other merits (simplicity, cost): {_settle_words(diff, pooled)}."


def _same_configuration(sides: list[SeedRuns]) -> Finding:
    """The two best trials ran one configuration (studies without a scientific hyperparameter that re-ran the
    same points with other seeds): their gap is trial variance by definition."""
    win, run = sides
    message = (f"The best trials of '{win.group}' ({win.best_trial}) and '{run.group}' ({run.best_trial}) ran one "
               f"configuration with different seeds: the gap between them, {abs(win.best - run.best):.3g}, is trial "
               "variance alone, and the isolation result cannot pick a winner.")
    evidence = {"sides": [s.to_dict() for s in sides], "same_configuration": True, "distinguishable": False}
    return Finding(ID, Severity.WARNING, message, evidence, "Judge a configuration by the mean over its seeds "
                   "(`tunebook compare`), not by its luckiest run.", SECTION)


def _suggest_retrain(data: "ExperimentData", winner: Group, runner_up: Group, sides: list[SeedRuns]) -> list[Finding]:
    """INFO with the retrain commands when no repeats exist and the gap is within twice the bootstrap spread."""
    if min(len(winner.trials), len(runner_up.trials)) < MIN_TRIALS:
        return []
    gap = abs(sides[0].best - sides[1].best)
    bayesian = bool(data.model_chosen().any())
    spread = None if bayesian else max(_bootstrap_spread(g, data.objective.mode) for g in (winner, runner_up))
    if spread is not None and gap >= 2 * spread:
        return []
    commands = [retrain_command(data, s.best_trial) for s in sides]
    evidence = {"sides": [s.to_dict() for s in sides], "gap": gap, "spread": spread, "retrain": commands,
                "seeds": RETRAIN_SEEDS}
    why = ("Bayesian optimization chose these trials, so no bootstrap measures how much of a best is luck"
           if bayesian else f"is within twice the spread luck in sampling gives a study's best ({spread:.3g})")
    message = (f"No repeats: neither best trial of '{winner.label}' ({sides[0].best_trial}) nor of "
               f"'{runner_up.label}' ({sides[1].best_trial}) was run with another seed, and the gap between them, "
               f"{gap:.3g}, {'is unjudged: ' if bayesian else ''}{why}; trial variance alone may be that large.")
    action = (f"Retrain each best trial with {RETRAIN_SEEDS} seeds, then compare them: " + "; ".join(commands)
              + ".")
    return [Finding(ID, Severity.INFO, message, evidence, action, SECTION)]


def _bootstrap_spread(group: Group, mode: str) -> float:
    """The interquartile range of the bootstrapped best of half ``group``'s trials (``sampled_enough``'s spread)."""
    values = group.trials["objective"].to_numpy(dtype=float)
    boot = bootstrap_best_of_k(values, mode, budgets=(max(1, len(values) // 2),))
    return float(boot.iqr[0])


def seeds_needed(diff: float, std: float) -> int | None:
    """Seeds per side with which a gap of ``diff`` would clear the ``LEVEL`` interval, for seed spread ``std``.

    n = 2 (z * std / diff)^2 per side (normal approximation, z for ``LEVEL``), at least ``RETRAIN_SEEDS``;
    None beyond ``MAX_SEEDS``: the gap is too small for seeds to settle.
    """
    from scipy import stats  # lazily: ~0.5 s of CPU to import

    z = float(stats.norm.ppf(0.5 + LEVEL / 2))
    needed = math.inf if diff == 0 else 2 * (z * std / abs(diff)) ** 2
    return None if needed > MAX_SEEDS else max(RETRAIN_SEEDS, math.ceil(needed))


def _settle_words(diff: float, std: float) -> str:
    needed = seeds_needed(diff, std)
    if needed is None:
        return (f"with this seed spread ({std:.3g}) a gap of {abs(diff):.3g} would need more than {MAX_SEEDS} "
                "seeds per side: too small a difference for seeds to settle")
    return f"with this seed spread, about {needed} seeds per side would settle it"


def _names(names: tuple[str, ...], shown: int = 3) -> str:
    """The first ``shown`` trial names, then how many more (the evidence lists them all)."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def _seeds(side: SeedRuns) -> str:
    return f"{side.n} seed{'s' if side.n != 1 else ''}"
