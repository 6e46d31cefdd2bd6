"""The numbers of a comparison of two configurations' seeds: effect, P(better), rank test, power.

Inputs are **gains**: each repeat's objective oriented so that larger is
better (the value when maximising, its negative when minimising), with
``-inf`` for a repeat that diverged or failed (the worst outcome). Rank
statistics take ``-inf`` as it is (below every finished value, tied with each
other); means and standard deviations cover the finite gains only.
``analysis.compare`` turns these into a decision; the rules live there.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tunebook.analysis.compare import Side

POWER = 0.8
RANK_EFFICIENCY = 3 / math.pi  # Mann-Whitney vs t-test on normal data (asymptotic relative efficiency)
MIN_SEEDS = 5  # at 4 vs 4 only a perfect separation is significant at 0.05 (p = 0.029); at 5 vs 5 two swaps still are
MAX_SEEDS = 10_000
PERMUTATIONS = 9999

__all__ = ["SeedStats", "compute", "min_p_value", "seeds_needed", "side_summary"]


@dataclasses.dataclass(frozen=True)
class SeedStats:
    """``gain``: mean finished gain, candidate - baseline (None if a side never finished), with its 95 %
    percentile bootstrap interval; ``pooled_sd`` of the finished values (None with < 3 in all or no spread);
    ``p_better`` = U/(n·m) with its interval; ``p_value`` of the two-sided rank test named by ``test``;
    ``min_p`` the smallest two-sided p possible with n vs m seeds."""

    n: int
    m: int
    gain: float | None
    gain_interval: tuple[float, float] | None
    pooled_sd: float | None
    p_better: float
    p_better_interval: tuple[float, float]
    p_value: float
    min_p: float
    test: str
    short_p: float | None = None  # the rank test of candidate - min_effect against the baseline (min_effect > 0)
    short_p_better: float | None = None  # P(candidate - min_effect beats the baseline)


def compute(base: np.ndarray, cand: np.ndarray, rng: np.random.Generator, resamples: int,
            min_effect: float = 0.0) -> SeedStats:
    """The statistics of baseline gains ``base`` against candidate gains ``cand`` (see the module docstring);
    with ``min_effect`` > 0 also the rank test of the candidate's gains less ``min_effect`` (lost ones stay
    -inf), which tells whether an improvement of ``min_effect`` is ruled out."""
    n, m = len(base), len(cand)
    fb, fc = base[np.isfinite(base)], cand[np.isfinite(cand)]
    wins = _wins(base, cand)
    kb = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples)
    kc = rng.multinomial(m, np.full(m, 1.0 / m), size=resamples)
    p_boot = np.einsum("ri,ij,rj->r", kb, wins, kc) / (n * m)
    gain = gain_interval = None
    if len(fb) and len(fc):
        gain = float(fc.mean() - fb.mean())
        boot = _finite_means(kc, cand) - _finite_means(kb, base)
        low, high = np.nanquantile(boot, [0.025, 0.975])
        gain_interval = (float(low), float(high))
    p_value, test = rank_test(base, cand, rng)
    short_p = short_p_better = None
    if min_effect > 0:
        short = cand - min_effect
        short_p = rank_test(base, short, rng)[0]
        short_p_better = float(_wins(base, short).mean())
    return SeedStats(
        n=n, m=m, gain=gain, gain_interval=gain_interval, pooled_sd=pooled_sd(fb, fc),
        p_better=float(wins.mean()), p_better_interval=tuple(float(q) for q in np.quantile(p_boot, [0.025, 0.975])),
        p_value=p_value, min_p=min_p_value(n, m), test=test, short_p=short_p, short_p_better=short_p_better,
    )


def _wins(base: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """``[i, j]``: 1 when candidate gain j beats baseline gain i, 0.5 for a tie (two lost repeats), else 0."""
    return (cand[None, :] > base[:, None]) + 0.5 * (cand[None, :] == base[:, None])


def _finite_means(counts: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """Per resample (a row of draw counts), the mean of its finite gains; NaN when it drew none."""
    finite = np.isfinite(gains)
    drawn = counts[:, finite].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (counts[:, finite] @ gains[finite]) / drawn


def pooled_sd(a: np.ndarray, b: np.ndarray) -> float | None:
    """sqrt(((n-1)·s_a² + (m-1)·s_b²) / (n+m-2)); None without a degree of freedom or without spread."""
    dof = len(a) + len(b) - 2
    if dof < 1:
        return None
    squares = sum(float(((x - x.mean()) ** 2).sum()) for x in (a, b) if len(x))
    sd = math.sqrt(squares / dof)
    return sd if sd > 0 else None


def rank_test(base: np.ndarray, cand: np.ndarray, rng: np.random.Generator) -> tuple[float, str]:
    """Two-sided Mann-Whitney p: scipy's exact distribution without ties, a permutation test with them
    (the normal approximation with its tie correction when a side has a single seed)."""
    from scipy import stats as sps  # lazily: ~0.5 s of CPU to import

    if len(np.unique(np.concatenate([base, cand]))) == len(base) + len(cand):
        return float(sps.mannwhitneyu(cand, base, method="exact").pvalue), "Mann-Whitney U, exact"
    if min(len(base), len(cand)) < 2:
        return (float(sps.mannwhitneyu(cand, base, method="asymptotic").pvalue),
                "Mann-Whitney U, normal approximation (ties present)")
    method = sps.PermutationMethod(n_resamples=PERMUTATIONS, rng=rng)
    return (float(sps.mannwhitneyu(cand, base, method=method).pvalue),
            "Mann-Whitney U, permutation test (ties present)")


@functools.lru_cache(maxsize=256)
def min_p_value(n: int, m: int) -> float:
    """The smallest two-sided rank-test p with n vs m seeds (a perfect separation): 2 / C(n+m, n), from scipy."""
    from scipy import stats as sps  # lazily: ~0.5 s of CPU to import

    return float(sps.mannwhitneyu(np.arange(n), np.arange(n, n + m), method="exact").pvalue)


def seeds_needed(effect_sd: float, alpha: float = 0.05, power: float = POWER) -> int | None:
    """Seeds per side for the rank test to detect ``effect_sd`` (effect / seed sd) with ``power``.

    The smallest n at which a two-sided two-sample t-test at ``alpha`` has
    ``power`` (noncentral t, df 2n-2, noncentrality effect·sqrt(n/2)),
    divided by the rank test's efficiency 3/π, at least ``MIN_SEEDS``; None
    when there is no effect or it takes more than ``MAX_SEEDS``. The search
    starts at the normal approximation 2·(z_{1-α/2} + z_power)² / d², which
    the t-test's n exceeds by a few seeds at most.
    """
    from scipy import stats as sps  # lazily: ~0.5 s of CPU to import

    d = abs(effect_sd)
    if not d > 0 or not math.isfinite(d):
        return None
    normal = 2 * (sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)) ** 2 / d**2
    if normal > MAX_SEEDS:
        return None
    start = max(2, math.floor(normal))
    candidates = np.arange(start, start + 32)
    reached = candidates[_t_power(candidates, d, alpha) >= power]
    n_t = int(reached[0]) if len(reached) else start + 32
    needed = max(MIN_SEEDS, math.ceil(n_t / RANK_EFFICIENCY))
    return needed if needed <= MAX_SEEDS else None


def _t_power(n: np.ndarray, d: float, alpha: float) -> np.ndarray:
    """Power of the two-sided two-sample t-test with ``n`` per side (vectorised over ``n``)."""
    from scipy import stats as sps  # lazily: ~0.5 s of CPU to import

    df, nc = 2 * n - 2, d * np.sqrt(n / 2)
    crit = sps.t.ppf(1 - alpha / 2, df)
    return sps.nct.sf(crit, df, nc) + sps.nct.cdf(-crit, df, nc)


def side_summary(side: "Side", mode: str, study_variance: dict[str, Any] | None) -> dict[str, Any]:
    """One side's repeats and statistics, as the comparison reports them.

    ``median``: over every repeat, a lost one counted as the worst (None when
    the middle repeat is a lost one); ``mean``, ``std`` (ddof 1), ``min``,
    ``max``: over the finished repeats; ``diverged``/``failed``: the counts.
    """
    values = side.values
    orient = 1.0 if mode == "max" else -1.0
    gains = np.array([orient * r.value if r.state == "complete" and r.value is not None and math.isfinite(r.value)
                      else -np.inf for r in side.repeats])
    middle = float(np.median(gains)) if len(gains) else -math.inf
    return {
        "label": side.label, "ref": side.ref, "params": dict(side.params),
        "repeats": [dataclasses.asdict(r) for r in side.repeats],
        "n": len(side.repeats), "finished": len(values),
        "diverged": side.count("infeasible"), "failed": side.count("failed"),
        "median": orient * middle if math.isfinite(middle) else None,
        "mean": float(values.mean()) if len(values) else None,
        "std": float(values.std(ddof=1)) if len(values) > 1 else None,
        "min": float(values.min()) if len(values) else None,
        "max": float(values.max()) if len(values) else None,
        "study_variance": study_variance,
    }
