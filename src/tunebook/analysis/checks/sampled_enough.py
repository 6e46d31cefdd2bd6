"""Check ``sampled_enough``: is the difference between scientific values bigger than luck in sampling?

Figure 3 of the playbook bootstraps one study's trials into box plots of
"the best performance for each trial budget": with few trials the best is
largely luck ("notice how large the interquartile ranges are when 6 trials
were sampled"). ``bootstrap_best_of_k`` gives those numbers for a plot.

The judgement: a study of n trials reports the best of n; how much that
best depends on luck is estimated by the interquartile range (IQR) of the
bootstrapped best of n/2 trials (the best of n itself resampled from the
same n trials would understate the spread, since it contains the observed
best most of the time). For each pair of scientific values adjacent in the
ranking of their bests, the gap between the bests is compared with the
larger of the two spreads:

* gap ≤ spread → PROBLEM: luck alone moves a best by as much as the
  difference being judged; the comparison is not yet trustworthy;
* gap < 2 x spread → WARNING: the two are comparable;
* otherwise → INFO with the numbers.

A value with fewer than 4 complete trials (a study with none included)
cannot be judged: PROBLEM when it takes part in a comparison, WARNING when
it is the only one. One finding
per experiment. Deterministic: a fixed seed and 2000 resamples.

Bayesian optimization (trials a model chose, ``ExperimentData.model_chosen``):
the bootstrap treats a study's trials as independent draws from its space;
a model's trials are neither independent nor uniform (each follows from the
results before it, and they crowd near the best), so resampling them would
not measure luck in sampling. The check is skipped for such an experiment,
with one INFO saying so and pointing to reruns with other seeds instead.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from tunebook.analysis.best import Group, scientific_groups, study_keys
from tunebook.analysis.findings import Finding, Severity
from tunebook.core.records import trial_name

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

ID = "sampled_enough"
SECTION = "Not sampling enough points in the search space"
RESAMPLES = 2000
SEED = 0
MIN_TRIALS = 4

__all__ = ["BestOfK", "bootstrap_best_of_k", "budgets_for", "check_sampled_enough"]


@dataclasses.dataclass(frozen=True)
class BestOfK:
    """Bootstrapped best objective among k trials, for each budget k: the data of Figure 3.

    ``samples[i]`` holds ``resamples`` draws of the best of ``budgets[i]``
    trials drawn with replacement from the observed ones.
    """

    budgets: tuple[int, ...]
    samples: np.ndarray

    def quantile(self, q: float) -> np.ndarray:
        return np.quantile(self.samples, q, axis=1)

    @property
    def median(self) -> np.ndarray:
        return self.quantile(0.5)

    @property
    def iqr(self) -> np.ndarray:
        return self.quantile(0.75) - self.quantile(0.25)

    def summary(self) -> list[dict[str, float]]:
        """Per budget: k, median, q1, q3 (plain floats)."""
        q1, med, q3 = self.quantile(0.25), self.median, self.quantile(0.75)
        return [{"k": k, "median": float(m), "q1": float(a), "q3": float(b)}
                for k, m, a, b in zip(self.budgets, med, q1, q3)]


def budgets_for(n: int) -> tuple[int, ...]:
    """1, 2, 4, ... below ``n``, then n/2 and n themselves."""
    powers = [2**i for i in range(max(n, 1).bit_length()) if 2**i < n]
    return tuple(sorted({*powers, max(1, n // 2), max(1, n)}))


def bootstrap_best_of_k(
    values: Iterable[float], mode: str = "min", budgets: Sequence[int] | None = None,
    seed: int = SEED, resamples: int = RESAMPLES,
) -> BestOfK:
    """The best of k of ``values`` (NaN/inf dropped) drawn with replacement, ``resamples`` times per k.

    Exact and O(resamples) per budget: with the values sorted best first, the
    best of k uniform draws is the value at the smallest of k uniform indices,
    and that index is floor(n * (1 - V**(1/k))) for V uniform on [0, 1).
    Same arguments, same numbers.
    """
    v = np.asarray([x for x in values], dtype=float)
    v = np.sort(v[np.isfinite(v)])
    if mode == "max":
        v = v[::-1]
    if not len(v):
        raise ValueError("bootstrap_best_of_k needs at least one finite value, got none")
    budgets = tuple(budgets_for(len(v)) if budgets is None else budgets)
    if any(int(k) != k or k < 1 for k in budgets):
        raise ValueError(f"budgets must be whole numbers >= 1, got {budgets!r}")
    rng = np.random.default_rng(seed)
    rows = []
    for k in budgets:
        first = np.floor(len(v) * (1.0 - rng.random(resamples) ** (1.0 / k))).astype(int)
        rows.append(v[np.minimum(first, len(v) - 1)])
    return BestOfK(tuple(int(k) for k in budgets), np.vstack(rows))


def check_sampled_enough(data: "ExperimentData") -> list[Finding]:
    """One finding for the experiment comparing the bests of its scientific values with their spread."""
    model = data.model_chosen()
    if model.any():
        studies = sorted(set(data.trials.loc[model, "study"]))
        return [Finding(
            ID, Severity.INFO,
            f"Skipped: Bayesian optimization chose {int(model.sum())} trial(s) of {', '.join(repr(s) for s in studies)}. "
            "This check bootstraps a study's trials as independent draws from its space; a model's trials depend "
            "on the results before them and crowd near the best, so resampling them would not measure how much of "
            "a best is luck.",
            {"skipped": "bayesian", "studies": studies, "model_trials": int(model.sum())},
            "To see how much of the best is luck, rerun the best configuration with other seeds (tunebook retrain) "
            "and compare its spread with the differences you care about.", SECTION,
        )]
    groups = scientific_groups(data)
    stats = [_group_stats(g, data.objective.mode) for g in groups]
    stats.sort(key=lambda s: s["best"], reverse=data.objective.mode == "max")
    stats += [_empty_stats(key) for key in study_keys(data) if key not in {g.study for g in groups}]
    if not stats:
        return []
    judged = [s for s in stats if s["iqr_half"] is not None]
    pairs = [_pair(a, b) for a, b in zip(judged, judged[1:])]
    too_few = [s["group"] for s in stats if s["iqr_half"] is None]
    evidence = {"groups": stats, "pairs": pairs, "too_few": too_few, "seed": SEED, "resamples": RESAMPLES}
    severity, message, action = _judge(stats, pairs, too_few)
    return [Finding(ID, severity, message, evidence, action, SECTION)]


def _group_stats(group: Group, mode: str) -> dict[str, Any]:
    values = group.trials["objective"].to_numpy(dtype=float)
    n, best = len(values), group.trials.iloc[0]
    out = {"group": group.label, "study": group.study, "n": n, "best": float(best["objective"]),
           "best_trial": trial_name(str(best["study"]), int(best["number"])),
           "half": max(1, n // 2), "iqr_half": None, "best_of_k": []}
    if n >= MIN_TRIALS:
        boot = bootstrap_best_of_k(values, mode)
        out["best_of_k"] = boot.summary()
        out["iqr_half"] = float(boot.iqr[boot.budgets.index(out["half"])])
    return out


def _empty_stats(study: str) -> dict[str, Any]:
    """A study with trials but no complete one: nothing to compare yet."""
    return {"group": study, "study": study, "n": 0, "best": None, "best_trial": None,
            "half": 0, "iqr_half": None, "best_of_k": []}


def _pair(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    gap, spread = abs(a["best"] - b["best"]), max(a["iqr_half"], b["iqr_half"])
    verdict = "in doubt" if gap <= spread else "comparable" if gap < 2 * spread else "clear"
    return {"a": a["group"], "b": b["group"], "gap": gap, "spread": spread, "verdict": verdict}


def _judge(stats: list[dict], pairs: list[dict], too_few: list[str]) -> tuple[Severity, str, str]:
    more = ("Run more trials in these studies (or be less ambitious in the tuning goals) before concluding; if "
            "their bests stay this close, the difference is too small for this many trials to decide.")
    if len(stats) == 1:
        s = stats[0]
        if too_few:
            return (Severity.WARNING, f"'{s['group']}' has only {s['n']} complete trial(s): too few to tell how "
                    "much of its best is luck.", more)
        h = next(r for r in s["best_of_k"] if r["k"] == s["half"])
        return (Severity.INFO, f"'{s['group']}': the best of {s['n']} trials is {s['best']:.4g}; bootstrapped, "
                f"the best of {s['half']} has median {h['median']:.4g} (IQR {h['q1']:.4g} to {h['q3']:.4g}). "
                "There are no scientific values to compare.", "Judge this spread against the differences you "
                "care about; the box plots of best-of-k show whether more trials still pay off.")
    doubt = [p for p in pairs if p["verdict"] == "in doubt"]
    close = [p for p in pairs if p["verdict"] == "comparable"]
    lines = [f"'{p['a']}' vs '{p['b']}': gap {p['gap']:.3g}, spread {p['spread']:.3g}" for p in doubt + close]
    if too_few:
        lines.insert(0, f"too few complete trials (< {MIN_TRIALS}) to judge {', '.join(repr(g) for g in too_few)}")
    if too_few or doubt:
        why = (": luck in sampling moves a study's best (the interquartile range of the bootstrapped best of half "
               "its trials) by as much as the difference between the scientific values' bests") if doubt else ""
        return (Severity.PROBLEM, f"The comparison is not yet trustworthy{why} — " + "; ".join(lines) + ".", more)
    if close:
        return (Severity.WARNING, "The difference between some scientific values' bests is comparable to how much "
                "luck in sampling moves a study's best — " + "; ".join(lines) + ".", more)
    clear = "; ".join(f"'{p['a']}' vs '{p['b']}': gap {p['gap']:.3g}, spread {p['spread']:.3g}" for p in pairs)
    return (Severity.INFO, "The gaps between the scientific values' bests are more than twice the spread that luck "
            "in sampling gives a study's best (interquartile range of the bootstrapped best of half its trials) — "
            f"{clear}.", "Nothing to do for this check; the ranking is unlikely to be an accident of sampling.")
