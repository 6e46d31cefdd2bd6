"""Compare a candidate with the baseline on their seeds: adopt, keep the baseline, or not enough evidence.

The playbook: "for each launch, we must make sure that the change is based
on strong evidence – not just random chance based on a lucky configuration";
"if a new hyperparameter point (or other change) gets a better result than
the baseline (taking into account the retrain variance of both ...), then we
probably should adopt it", but "only adopt changes that produce improvements
that outweigh any complexity they add" ("Determining whether to adopt a
training pipeline change or hyperparameter configuration").

Each side is one configuration's repeats (``analysis.repeats``): finished
values, plus repeats that diverged (infeasible) or failed. Those are the
**worst outcome**, never dropped: the rank statistics (median, P(better), the
rank test) place them below every finished value (ties among themselves);
mean, std and min/max cover the finished values only (a diverged run has no
number to average) and the counts stand beside them.

The numbers (``seed_stats`` computes them):

* the **difference** candidate - baseline of the finished means, in the
  metric's units, in per cent of the baseline's mean, and in pooled seed
  standard deviations, with a 95 % percentile bootstrap interval (both sides
  resampled with replacement, diverged repeats included; the per-cent and sd
  intervals are the units interval scaled by the observed mean and sd);
* **P(better)**: the probability that the candidate beats the baseline on a
  fresh seed, U / (n·m) (Mann-Whitney, ties count half), with its bootstrap
  interval; and the two-sided Mann-Whitney **rank test** (exact without
  ties, a permutation test with them).

The decision, at ``ALPHA`` = 0.05 two-sided, with ``min_effect`` = δ ≥ 0 in
the metric's units (an improvement; direction from the objective's mode):

* **not enough evidence** whenever the rank test cannot reach 0.05 with the
  seeds at hand: its smallest two-sided p is 2 / C(n+m, n) (no ties) — 0.100
  at 3 vs 3, 0.057 at 4 vs 3, 0.029 at 4 vs 4 (only a perfect separation
  counts), 0.008 at 5 vs 5 (two swapped pairs still count); so fewer than 4
  seeds per side can never show significance, and fewer than 5 only by a
  perfect separation;
* **adopt** when the rank test gives p < 0.05 with P(better) > 0.5, the 95 %
  interval of the improvement lies above 0, and the measured improvement is
  at least δ;
* **keep baseline** when the rank test gives p < 0.05 with P(better) < 0.5
  and the interval lies below 0 (worse beyond trial variance), or when δ > 0,
  the interval's upper end is below δ and the rank test of the candidate's
  values shifted by δ in its favour against the baseline's still gives
  p < 0.05 with the baseline ahead (an improvement worth its complexity is
  ruled out; the shifted rank test keeps this one-sided error at most 2.5 %
  where the percentile bootstrap alone, too narrow with few seeds, let 7 %
  through at 5 seeds per side);
* otherwise **not enough evidence**, with the seeds per side that would
  settle it for the measured spread: the n at which a two-sided t-test at
  0.05 has 80 % power (scipy's noncentral t) for an effect of D / s, where s
  is the pooled seed sd and D the distance from the measured improvement to
  the threshold it waits on (to 0 when it is at least δ, else to δ),
  divided by the rank test's efficiency 3/π on normal data, and at least 5.

With identical configurations a decisive verdict is a false alarm at most
5 % of the time (the exact test's size: 4.3 % at 10 vs 10, 3.2 % at 5 vs 5);
with a true effect of 3 seed sd and 10 seeds per side the rule adopts in
practically every run. Measured (tests/analysis/test_compare_calibration.py):
identical configurations, 972 of 1000 "not enough evidence" (14 adopt);
3 sd better, 200 of 200 adopt; 3 sd worse, 200 of 200 keep baseline; at the
recommended seeds, 85 % clear verdicts (about half at half the seeds).

A side whose number is a study's best (``StudyPick``) also gets the
bootstrap spread of that study's best of k at its budget (study variance)
and a winner's-curse warning.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np

from tunebook.analysis import seed_stats
from tunebook.analysis.checks.sampled_enough import bootstrap_best_of_k

__all__ = ["ALPHA", "DECISIONS", "RULE", "Comparison", "Repeat", "Side", "StudyPick", "compare"]

ALPHA = 0.05
RESAMPLES = 2000
DECISIONS = ("adopt", "keep baseline", "not enough evidence")
RULE = ("adopt: rank test p < 0.05 and the 95 % interval of the improvement above 0, improvement >= --min-effect; "
        "keep baseline: worse beyond trial variance, or an improvement of --min-effect ruled out (interval and "
        "rank test); else not enough evidence")
LOST_STATES = ("infeasible", "failed")


@dataclasses.dataclass(frozen=True)
class Repeat:
    """One seed of a configuration: its trial's name, state and objective (None unless complete)."""

    trial: str
    value: float | None
    state: str = "complete"
    seed: Any = None


@dataclasses.dataclass(frozen=True)
class StudyPick:
    """A side's trial ``trial`` was picked as the best of ``study``, whose complete trials gave ``values``."""

    study: str
    trial: str
    values: tuple[float, ...]

    @property
    def k(self) -> int:
        return len(self.values)


@dataclasses.dataclass(frozen=True)
class Side:
    """One side of a comparison: a label (the reference as written), its canonical ref, its repeats."""

    label: str
    repeats: tuple[Repeat, ...]
    ref: str = ""
    study: StudyPick | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, label: str, values: Sequence[float], diverged: int = 0, failed: int = 0, **kw: Any) -> "Side":
        """A side from plain numbers (simulations, tests): finished values, then the lost repeats' counts."""
        repeats = [Repeat(f"{label}/{i}", float(v)) for i, v in enumerate(values)]
        repeats += [Repeat(f"{label}/{len(repeats) + i}", None, "infeasible") for i in range(diverged)]
        repeats += [Repeat(f"{label}/{len(repeats) + i}", None, "failed") for i in range(failed)]
        return cls(label, tuple(repeats), **kw)

    @property
    def values(self) -> np.ndarray:
        """The finished repeats' values (complete, finite)."""
        return np.array([r.value for r in self.repeats if _finished(r)], dtype=float)

    def count(self, state: str) -> int:
        """How many repeats ended in ``state`` without a value ("infeasible": diverged, "failed")."""
        return sum(1 for r in self.repeats if not _finished(r) and r.state == state)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The verdict and every number behind it (see the module docstring for the rule).

    ``baseline``/``candidate``: per side its repeats and statistics
    (``seed_stats.side_summary``). ``difference``: candidate - baseline of the
    finished means in the metric's units, ``percent`` and ``sd_units`` the
    same in per cent of the baseline's mean and in pooled seed sds, each with
    a ``(low, high)`` 95 % interval (None where a side has no finished value).
    ``p_better`` is P(candidate beats baseline on a fresh seed), ``p_value``
    the two-sided rank test's, ``min_p`` the smallest it could be with these
    seeds. ``seeds_needed``: per side, for "not enough evidence" (None when
    the spread cannot be measured or the decision is made). ``commands``
    reproduce the comparison; ``next_commands`` gather the missing evidence.
    """

    decision: str
    headline: str
    reasons: tuple[str, ...]
    metric: str
    mode: str
    min_effect: float
    baseline: dict[str, Any]
    candidate: dict[str, Any]
    difference: float | None
    difference_interval: tuple[float, float] | None
    percent: float | None
    percent_interval: tuple[float, float] | None
    pooled_sd: float | None
    sd_units: float | None
    sd_units_interval: tuple[float, float] | None
    p_better: float
    p_better_interval: tuple[float, float]
    p_value: float
    min_p: float
    test: str
    seeds_needed: int | None
    warnings: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    next_commands: tuple[str, ...] = ()
    alpha: float = ALPHA
    seed: int = 0
    resamples: int = RESAMPLES
    rule: str = RULE

    def to_dict(self) -> dict[str, Any]:
        """Every number as plain JSON data (infinities and NaN as None)."""
        return _plain(dataclasses.asdict(self))


def compare(
    baseline: Side, candidate: Side, mode: str, min_effect: float = 0.0, seed: int = 0,
    metric: str = "objective", resamples: int = RESAMPLES,
) -> Comparison:
    """Judge ``candidate`` against ``baseline`` for an objective to ``mode`` ("min"/"max") by the module's rule.

    Pure and deterministic: the same sides, ``seed`` and ``resamples`` give
    the same numbers. ``min_effect`` is the smallest improvement worth
    adopting, in the metric's units (>= 0).
    """
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    if not (min_effect >= 0 and math.isfinite(min_effect)):
        raise ValueError(f"min_effect must be a finite number >= 0, got {min_effect!r}")
    for side in (baseline, candidate):
        if not side.repeats:
            raise ValueError(f"side {side.label!r} has no repeats")
    orient = 1.0 if mode == "max" else -1.0
    gains = [_gains(s, orient) for s in (baseline, candidate)]
    stats = seed_stats.compute(*gains, rng=np.random.default_rng(seed), resamples=resamples, min_effect=min_effect)
    numbers = _effect_numbers(stats, baseline, orient)
    decision, reasons, distance = _decide(stats, min_effect, baseline.label, candidate.label)
    needed = None
    if decision == "not enough evidence" and stats.pooled_sd and distance is not None:
        needed = seed_stats.seeds_needed(distance / stats.pooled_sd, ALPHA)
    if decision == "not enough evidence":
        reasons.append(_seeds_reason(needed, stats, distance, min_effect))
    picks = [_study_variance(s, mode, seed, resamples) for s in (baseline, candidate)]
    warnings = tuple(w for s, p in zip((baseline, candidate), picks) if p for w in _curse(s, p, mode))
    return Comparison(
        decision=decision, headline=_headline(decision, candidate.label, baseline.label), reasons=tuple(reasons),
        metric=metric, mode=mode, min_effect=float(min_effect),
        baseline=seed_stats.side_summary(baseline, mode, picks[0]),
        candidate=seed_stats.side_summary(candidate, mode, picks[1]),
        **numbers, pooled_sd=stats.pooled_sd, p_better=stats.p_better, p_better_interval=stats.p_better_interval,
        p_value=stats.p_value, min_p=stats.min_p, test=stats.test, seeds_needed=needed, warnings=warnings,
        seed=seed, resamples=resamples,
    )


def _finished(repeat: Repeat) -> bool:
    return repeat.state == "complete" and repeat.value is not None and math.isfinite(repeat.value)


def _gains(side: Side, orient: float) -> np.ndarray:
    """Each repeat as a score where larger is better: the value (max) or its negative (min); lost ones -inf."""
    return np.array([orient * r.value if _finished(r) else -np.inf for r in side.repeats], dtype=float)


def _effect_numbers(stats: "seed_stats.SeedStats", baseline: Side, orient: float) -> dict[str, Any]:
    """The difference candidate - baseline (metric units, per cent, pooled sds) with its intervals."""
    if stats.gain is None:
        return dict(difference=None, difference_interval=None, percent=None, percent_interval=None,
                    sd_units=None, sd_units_interval=None)
    low, high = sorted((orient * stats.gain_interval[0], orient * stats.gain_interval[1]))
    difference = orient * stats.gain + 0.0  # + 0.0: no "-0" for equal means
    base_mean = float(np.mean(baseline.values))
    scale_pct = 100.0 / abs(base_mean) if base_mean else None
    scale_sd = 1.0 / stats.pooled_sd if stats.pooled_sd else None
    return dict(
        difference=difference, difference_interval=(low, high),
        percent=difference * scale_pct if scale_pct else None,
        percent_interval=(low * scale_pct, high * scale_pct) if scale_pct else None,
        sd_units=difference * scale_sd if scale_sd else None,
        sd_units_interval=(low * scale_sd, high * scale_sd) if scale_sd else None,
    )


def _decide(stats: "seed_stats.SeedStats", min_effect: float, base: str, cand: str
            ) -> tuple[str, list[str], float | None]:
    """(decision, reasons in plain words, distance of the improvement to the threshold it waits on)."""
    n, m = stats.n, stats.m
    gain, interval = stats.gain, stats.gain_interval
    distance = None if gain is None else (gain if gain >= min_effect else min_effect - gain)
    if stats.min_p >= ALPHA:
        return "not enough evidence", [
            f"too few seeds to tell: with {n} vs {m} seeds the smallest two-sided p a rank test can give is "
            f"{stats.min_p:.3g} (>= {ALPHA}); with equal seeds per side 4 is the least that can ever be significant, "
            f"and then only when every seed of one side beats every seed of the other"], distance
    significant = stats.p_value < ALPHA
    test = f"rank test p = {stats.p_value:.3g}, P(better) = {stats.p_better:.2f}"
    if significant and stats.p_better > 0.5 and (interval is None or interval[0] > 0):
        if gain is None or gain >= min_effect:
            why = "" if gain is not None else f" ({base} never finished a seed)"
            return "adopt", [f"{cand} beats {base} beyond trial variance ({test}){why}"], distance
    if significant and stats.p_better < 0.5 and (interval is None or interval[1] < 0):
        why = "" if gain is not None else f" ({cand} never finished a seed)"
        return "keep baseline", [f"{cand} is worse than {base} beyond trial variance ({test}){why}"], distance
    ruled_out = stats.short_p is not None and stats.short_p < ALPHA and stats.short_p_better < 0.5
    if ruled_out and interval is not None and interval[1] < min_effect:
        return "keep baseline", [f"the 95 % interval of the improvement ends at {interval[1]:.4g}, below the "
                                 f"--min-effect {min_effect:g}, and the rank test of the candidate less "
                                 f"{min_effect:g} against the baseline gives p = {stats.short_p:.3g}: an improvement "
                                 f"worth adopting is ruled out"], distance
    if significant and stats.p_better > 0.5 and interval is not None and interval[0] > 0:
        return "not enough evidence", [f"{cand} beats {base} beyond trial variance ({test}) but by "
                                       f"{gain:.4g}, less than the --min-effect {min_effect:g}, and the interval "
                                       f"still reaches {interval[1]:.4g}"], distance
    if interval is None:
        return "not enough evidence", [f"within trial variance ({test})"], distance
    span = f"the 95 % interval of the improvement, {interval[0]:.4g} to {interval[1]:.4g}, includes 0"
    if significant:
        return "not enough evidence", [f"mixed evidence: {test} but {span}"], distance
    return "not enough evidence", [f"the difference is within trial variance ({test}; {span})"], distance


def _seeds_reason(needed: int | None, stats: "seed_stats.SeedStats", distance: float | None,
                  min_effect: float) -> str:
    """How many seeds per side would settle it, for the measured spread (rule in the module docstring)."""
    if needed is not None:
        return (f"about {needed} seeds per side would settle it for the measured spread (seed sd "
                f"{stats.pooled_sd:.3g}, an effect of {distance / stats.pooled_sd:.2f} sd to resolve; 80 % power)")
    if not stats.pooled_sd:
        return (f"the seed spread cannot be measured yet (finished repeats: {stats.n} vs {stats.m} seeds, no spread); "
                f"retrain each side to at least {seed_stats.MIN_SEEDS} seeds")
    if min_effect == 0:
        return (f"the means differ by {0.0 if distance is None else distance / stats.pooled_sd:.2g} seed sd: more "
                f"than {seed_stats.MAX_SEEDS} seeds per side would be needed, and a zero difference is never settled; "
                f"set --min-effect to the smallest improvement worth adopting, so that a verdict can rule it out")
    return f"more than {seed_stats.MAX_SEEDS} seeds per side would be needed at the measured spread"


def _headline(decision: str, cand: str, base: str) -> str:
    if decision == "adopt":
        return f"adopt {cand}: it beats the baseline {base} on evidence, not luck"
    if decision == "keep baseline":
        return f"keep the baseline {base}: {cand} does not improve on it enough"
    return f"not enough evidence to tell {cand} from the baseline {base}"


def _study_variance(side: Side, mode: str, seed: int, resamples: int) -> dict[str, Any] | None:
    """The bootstrap spread of the picked study's best of k at its budget k (None when not picked from a study)."""
    pick = side.study
    if pick is None or not pick.values:
        return None
    boot = bootstrap_best_of_k(pick.values, mode, budgets=(pick.k,), seed=seed, resamples=resamples)
    q = np.quantile(boot.samples[0], [0.025, 0.25, 0.5, 0.75, 0.975])
    return {"study": pick.study, "trial": pick.trial, "k": pick.k, "low": float(q[0]), "q1": float(q[1]),
            "median": float(q[2]), "q3": float(q[3]), "high": float(q[4]), "iqr": float(q[3] - q[1])}


def _curse(side: Side, pick: dict[str, Any], mode: str) -> list[str]:
    """The winner's-curse warning for a side whose number is (or includes) a study's maximum."""
    spread = (f"luck in sampling alone moves the best of {pick['k']} trials of {pick['study']!r} over "
              f"{pick['low']:.4g} to {pick['high']:.4g} (95 % of bootstrap resamples; IQR {pick['iqr']:.3g})")
    others = [r.value for r in side.repeats if _finished(r) and r.trial != pick["trial"]]
    if not others:
        return [f"{side.label}: its number is the best of {pick['k']} trials of study {pick['study']!r}, not the "
                f"mean of retrains, and a study's maximum flatters its configuration (winner's curse); {spread}"]
    return [f"{side.label}: {pick['trial']} was picked as the best of {pick['k']} trials of {pick['study']!r}, "
            f"so its value flatters the side (winner's curse); the other {len(others)} repeat(s) average "
            f"{float(np.mean(others)):.4g}"]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
