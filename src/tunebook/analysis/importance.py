"""Which hyperparameters the objective is sensitive to, which interact, and which decide divergence.

The playbook ("Designing the next round of experiments") asks, after each
round, to "identify which hyperparameters the validation error is most
sensitive to, which hyperparameters interact the most and therefore need to
be re-tuned together, and which hyperparameters are relatively insensitive to
other changes and can therefore be fixed in future experiments".

Method: functional ANOVA (``analysis.fanova``) of a random forest
(scikit-learn, the ``importance`` extra) fitted to the trials placed in the
unit cube (``analysis.unit_space``: log ranges in log space, choices as cells,
"inactive" a value of its own). A hyperparameter's share is the part of the
objective's variance its main effect explains; a pair's share is its
second-order interaction. Three regions, each its own forest:

* ``all``: every complete search trial with a finite objective;
* ``top``: the best ``top`` share of those (default 20 %), over the box they
  span: what matters near the optimum (often not what matters overall);
* ``feasibility``: a classifier forest on all finished trials (complete and
  infeasible), its shares those of the probability of diverging: which
  hyperparameters decide divergence.

Intervals: 90 % percentile bootstrap intervals from ``REPLICATES`` = 25
refits, each on a resample of the trials (with replacement) with a forest of
``REPLICATE_TREES`` = 4 trees. 25 replicates put the interval's ends near the
2nd and 24th of 25 sorted values: enough to tell a share of 0.3 from one of
0.01 (what a ranking needs); the small forests add their own noise, which
widens the intervals (they err on the safe side).
The point estimate is a forest of ``TREES`` = 32 trees on all trials (an
interval that misses it is widened to hold it).

At scale (the cost of a tree grows with the trials it is fitted to):

* a region of more than ``MAX_FIT`` = 1,000 trials is fitted on a
  stratified subsample of about 1,000 (``analysis.subsample``: per study, and
  for feasibility per study and outcome, each stratum at least 50 trials,
  weighted back to its share; a fixed seed), and the report says so. The
  intervals then are those of 1,000 trials: wider than the whole region's,
  never narrower;
* from ``LARGE_FIT`` = 500 fitted trials the forests are halved (16 trees;
  replicates of 2), where trees vary little from one resample to the next.

Measured (benchmarks/importance_limit.py; 5 seeds of 10,000 random trials
of four functions whose shares are known exactly: the planted function of
the tests, a weak effect (10 %) beside a product, a divergence decided by
two hyperparameters and their interaction, and one where 60 % of the runs
diverge above a learning rate), against all 10,000 trials with the full
forests: 8 of 280 verdicts moved, each to "unsure" (a weak effect's
"matters", a noise share's "insensitive"): a subsample costs a verdict's
strength, never adds a "matters" or an "insensitive". The estimates stay
within 1.1, 2.2 and 0.6 points of the full fit's distance from the truth in
the first three cases (intervals at most 4 points wide), but the forests'
pull toward noise grows on the noisy divergence: its deciding
hyperparameter's share (truth 100 %) reads 55 % at worst (71 % on all
trials), its interval up to 20 points wide (all trials: 8).
At 10,000 trials a region costs about 0.2 s of CPU instead of 1 to 5 s.

The rules, stated as the report states them:

* a hyperparameter (or a pair) **matters** when the lower end of its 90 %
  interval is at least ``MATTERS`` = 5 % of the variance; one below it is
  **insensitive** only when the upper end is below 5 % too (else: unsure);
* **too few trials to tell**: a region with fewer than ``MIN_TRIALS`` = 20
  distinct nuisance settings, or fewer than 4 per hyperparameter axis (a
  forest cannot separate d effects from fewer points); feasibility also needs
  ``MIN_CLASS`` = 5 distinct settings of each outcome;
* **a nuisance setting counts once**: the studies of one experiment share
  their nuisance points by design (one per scientific value), so k settings
  run in 3 studies are k points of evidence about the nuisance axes, not 3k.
  The counts above are of distinct settings, and the bootstrap resamples
  settings (each with all its trials) rather than trials, so the intervals
  carry the dependence. Measured (tests/analysis/test_importance.py; a
  divergence decided by the learning rate, the optimizer and their
  interaction, true shares 0.47, 0.27 and 0.27; 3 studies sharing their
  settings; 20 seeds): at 8 shared settings (24 trials) counting trials
  judged every seed and a verdict contradicted the truth in 7 of 20
  ("matters" precision 14/19), at 12 settings in 3 of 20; counting settings
  says "too few trials to tell" at both. At 24 settings the 90 % intervals
  held the true shares of the two 37 times in 40 resampling settings,
  29 in 40 resampling trials (at 48 settings: 37 against 26). The price of
  honest intervals: "matters" found 22 of the 40 true cases at 24 settings
  instead of 35;
* pairwise interactions are computed among all axes when there are at most
  ``PAIR_AXES`` = 8, else among the 8 with the largest main effects.

Measured (tests/analysis/test_importance.py, benchmarks/importance.py): a
function of six hyperparameters where two matter and interact is ranked right
(the two first, their pair the largest interaction, nothing else "matters")
in 40 of 40 seeds at 150 trials ("matters": precision and recall 1.00);
2,000 trials took 1.6 s of CPU before the rules above (Optuna's fANOVA: 112 s).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from tunebook.analysis.best import ranked
from tunebook.analysis.fanova import TreeShares, forest_shares
from tunebook.analysis.subsample import stratified_subsample
from tunebook.analysis.unit_space import Axes, axes, restrict
from tunebook.core.imports import require

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

TOP_SHARE = 0.2
TREES, REPLICATES, REPLICATE_TREES = 32, 25, 4
MAX_FIT, SUBSAMPLE_FLOOR = 1000, 50
# (fitted trials from, trees of the point estimate, trees per replicate): halved from LARGE_FIT fitted trials
LARGE_FIT = 500
FOREST_SIZES = ((0, TREES, REPLICATE_TREES), (LARGE_FIT, TREES // 2, REPLICATE_TREES // 2))
LEVEL = 0.90
MATTERS = 0.05
MIN_TRIALS, PER_AXIS, MIN_CLASS = 20, 4, 5
PAIR_AXES = 8
MAX_LEAVES, MIN_LEAF = 128, 2
SECTION = "Exploration vs exploitation"

__all__ = ["Importance", "RegionImportance", "Share", "importance", "nuisance_settings", "region_importance"]


@dataclasses.dataclass(frozen=True)
class Share:
    """One hyperparameter's (or pair's) share of the variance: estimate and 90 % interval [low, high].

    ``members``: the hyperparameter ids (one, or two for a pair).
    """

    members: tuple[str, ...]
    estimate: float
    low: float
    high: float

    @property
    def name(self) -> str:
        return " × ".join(self.members)

    @property
    def verdict(self) -> str:
        """``matters``, ``insensitive`` or ``unsure``, by the module's rule (``MATTERS``)."""
        if self.low >= MATTERS:
            return "matters"
        return "insensitive" if self.high < MATTERS else "unsure"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "members": list(self.members), "estimate": self.estimate, "low": self.low,
                "high": self.high, "verdict": self.verdict}


@dataclasses.dataclass(frozen=True)
class RegionImportance:
    """The shares over one region (``all``, ``top`` or ``feasibility``) of ``trials`` trials, largest first.

    ``too_few`` says why the region could not be judged (then both lists are empty); ``fitted``: how many
    of the trials the forests were fitted to (a stratified subsample when fewer; 0 when not judged).
    """

    region: str
    trials: int
    params: tuple[Share, ...]
    pairs: tuple[Share, ...]
    too_few: str | None = None
    fitted: int = 0

    @property
    def subsampled(self) -> bool:
        return 0 < self.fitted < self.trials

    def share(self, name: str) -> Share | None:
        return next((s for s in self.params if s.members == (name,)), None)

    def to_dict(self) -> dict[str, Any]:
        return {"region": self.region, "trials": self.trials, "fitted": self.fitted, "too_few": self.too_few,
                "params": [s.to_dict() for s in self.params], "pairs": [s.to_dict() for s in self.pairs]}


@dataclasses.dataclass(frozen=True)
class Importance:
    """An experiment's importances: ``all``, ``top`` and ``feasibility`` regions, and the rule that reads them."""

    experiment: str
    objective: str
    top_share: float
    all: RegionImportance
    top: RegionImportance
    feasibility: RegionImportance

    @property
    def regions(self) -> tuple[RegionImportance, ...]:
        return (self.all, self.top, self.feasibility)

    def interacting(self) -> list[Share]:
        """The pairs that matter over all trials or in the top region (each pair once, largest first)."""
        found: dict[tuple[str, ...], Share] = {}
        for region in (self.all, self.top):
            for pair in region.pairs:
                known = found.get(pair.members)
                if pair.verdict == "matters" and (known is None or pair.estimate > known.estimate):
                    found[pair.members] = pair
        return sorted(found.values(), key=lambda s: -s.estimate)

    def rule(self) -> str:
        return (f"share of the objective's variance (functional ANOVA of a {TREES}-tree random forest, "
                f"{FOREST_SIZES[-1][1]} trees from {LARGE_FIT} trials; above {MAX_FIT:,} trials fitted on a stratified "
                f"subsample of {MAX_FIT:,}), with 90 % bootstrap intervals ({REPLICATES} refits on resampled nuisance "
                f"settings); matters: interval's low end >= {MATTERS:.0%}; insensitive: high end < {MATTERS:.0%}; "
                f"too few trials to tell below {MIN_TRIALS} distinct settings or {PER_AXIS} per hyperparameter "
                f"(a setting that studies share counts once)")

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": self.experiment, "objective": self.objective, "top_share": self.top_share,
                "rule": self.rule(), "section": SECTION,
                "regions": {r.region: r.to_dict() for r in self.regions},
                "interacting": [s.to_dict() for s in self.interacting()]}


def importance(data: "ExperimentData", top: float = TOP_SHARE, seed: int = 0,
               limit: int | None = MAX_FIT) -> Importance:
    """The importances of ``data``'s searched hyperparameters; ``top`` in (0, 1]: the good region's share;
    ``limit``: the most trials a region's forests are fitted to (None: all; see the module's rule)."""
    best = ranked(data)
    found = axes(data.experiment.space, best)
    y = best["objective"].to_numpy(dtype=float)
    studies = best["study"].to_numpy()
    nuisance = {hp.id for hp in data.experiment.space if hp.role == "nuisance"}
    settings = nuisance_settings(found, nuisance)
    over_all = region_importance("all", found, y, seed=seed, strata=studies, limit=limit, settings=settings)
    kept = np.zeros(len(best), dtype=bool)
    kept[:max(1, math.ceil(top * len(best))) if len(best) else 0] = True
    over_top = region_importance("top", restrict(found, kept), y[kept], seed=seed, strata=studies[kept], limit=limit,
                                 settings=settings[kept])
    finished = data.search_trials[data.search_trials["state"].isin(["complete", "infeasible"])]
    diverged = (finished["state"] == "infeasible").to_numpy(dtype=float)
    outcomes = finished["study"].astype(str).to_numpy() + np.where(diverged > 0, "/diverged", "/not")
    found_finished = axes(data.experiment.space, finished)
    feasibility = region_importance("feasibility", found_finished, diverged, seed=seed, classify=True,
                                    strata=outcomes, limit=limit, settings=nuisance_settings(found_finished, nuisance))
    o = data.objective
    return Importance(data.experiment.name, f"{o.metric} ({o.mode})", top, over_all, over_top, feasibility)


def nuisance_settings(found: Axes, nuisance: set[str]) -> np.ndarray:
    """Each row's nuisance setting as an integer label: rows with the same value on every nuisance axis share
    one (trials of different studies at one shared point); every row its own when no nuisance axis varies."""
    columns = [i for i, name in enumerate(found.names) if name in nuisance]
    if not columns or not len(found.points):
        return np.arange(len(found.points))
    return np.unique(found.points[:, columns], axis=0, return_inverse=True)[1].reshape(-1)


def region_importance(region: str, found: Axes, y: np.ndarray, *, seed: int = 0, classify: bool = False,
                      strata: np.ndarray | None = None, limit: int | None = MAX_FIT,
                      settings: np.ndarray | None = None) -> RegionImportance:
    """The shares of ``y`` (a value, or 1.0 for a diverged trial when ``classify``) over the points ``found``;
    above ``limit`` trials, fitted on a subsample stratified by ``strata`` (default: one stratum);
    ``settings``: each row's nuisance setting (``nuisance_settings``; default: every row its own), counted and
    resampled as one."""
    n, d = found.points.shape
    settings = np.arange(n) if settings is None else settings
    why = _too_few(n, d, settings, y if classify else None)
    if why is not None or d == 0:
        return RegionImportance(region, n, (), (), why or "no hyperparameter varies among these trials")
    rows, weight = stratified_subsample(np.zeros(n) if strata is None else strata, limit or n, seed, SUBSAMPLE_FLOOR)
    x, y = found.points[rows], y[rows]
    trees, replicate_trees = forest_sizes(len(rows))
    main_forest = _fit(x, y, weight, trees, seed, classify)
    pairs = _pair_axes(main_forest, d, classify)
    estimate = forest_shares(main_forest, d, pairs, _column(main_forest, classify))
    replicates = _replicates(x, y, weight, settings[rows], d, pairs, seed, classify, replicate_trees)
    if replicates is None:  # every resample held one class only: no interval can be drawn
        return RegionImportance(region, n, (), (), "too few trials to tell: no resample held both outcomes")
    params = _shares([(name,) for name in found.names], estimate.main.mean(axis=0), replicates.main)
    named_pairs = [(found.names[i], found.names[j]) for i, j in pairs]
    inter = _shares(named_pairs, estimate.pairs.mean(axis=0), replicates.pairs) if pairs else ()  # one axis: none
    return RegionImportance(region, n, params, inter, fitted=len(rows))


def forest_sizes(fitted: int) -> tuple[int, int]:
    """(trees of the point estimate's forest, trees of each replicate's) for ``fitted`` trials (``FOREST_SIZES``)."""
    return next((trees, each) for start, trees, each in reversed(FOREST_SIZES) if fitted >= start)


def _replicates(x: np.ndarray, y: np.ndarray, weight: np.ndarray, settings: np.ndarray, d: int,
                pairs: list[tuple[int, int]], seed: int, classify: bool, trees: int) -> TreeShares | None:
    """The shares of ``REPLICATES`` forests of ``trees`` trees, each fitted to a resample of the rows' settings
    (a drawn setting brings all its rows; one row per replicate: the mean over its trees); None when no
    resample held both outcomes."""
    rng = np.random.default_rng(seed)
    labels, members = np.unique(settings, return_inverse=True)
    order = np.argsort(members, kind="stable")
    groups = np.split(order, np.cumsum(np.bincount(members.reshape(-1), minlength=len(labels)))[:-1])
    forests = []
    for b in range(REPLICATES):
        drawn = rng.integers(0, len(groups), len(groups))
        rows = np.concatenate([groups[g] for g in drawn])
        if classify and len(np.unique(y[rows])) < 2:
            continue
        forests.append(_fit(x[rows], y[rows], weight[rows], trees, seed + 1 + b, classify))
    if not forests:
        return None
    shares = forest_shares([tree for forest in forests for tree in forest], d, pairs, _column(forests[0], classify))
    return TreeShares(shares.main.reshape(len(forests), trees, d).mean(axis=1),
                      shares.pairs.reshape(len(forests), trees, len(pairs)).mean(axis=1))


def _too_few(n: int, d: int, settings: np.ndarray, outcome: np.ndarray | None) -> str | None:
    """Why ``n`` trials at ``settings`` (one label per trial) cannot be judged, or None (the module's rule)."""
    needed, distinct = max(MIN_TRIALS, PER_AXIS * d), len(np.unique(settings))
    shared = f" at {distinct} distinct nuisance settings (studies share them)" if distinct < n else ""
    if distinct < needed:
        distinct_word = " distinct" if shared else ""
        return (f"too few trials to tell: {n} here{shared}; at least {needed}{distinct_word} are needed "
                f"({MIN_TRIALS}, and {PER_AXIS} per hyperparameter: {d} vary)")
    if outcome is not None:
        bad, good = (len(np.unique(settings[outcome == value])) for value in (1.0, 0.0))
        if min(bad, good) < MIN_CLASS:
            return (f"too few trials to tell: {int(outcome.sum())} of {n} diverged{shared}, at {bad} distinct "
                    f"settings; at least {MIN_CLASS} settings that diverged and {MIN_CLASS} that did not are needed")
    return None


def _fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, trees: int, seed: int, classify: bool) -> list[Any]:
    """A bagged forest: ``trees`` trees, each fitted to a bootstrap resample of the rows (what scikit-learn's
    random forest does with ``max_features=1.0``, without its per-call overhead, which dominated at 150 trials);
    ``weight``: each row's sample weight (the subsample's; all 1: none given)."""
    tree = require("sklearn.tree", "importance", "hyperparameter importance")
    kind = tree.DecisionTreeClassifier if classify else tree.DecisionTreeRegressor
    rng = np.random.default_rng(seed)
    state = np.random.RandomState(seed)  # one for all trees: seeding one per tree cost as much as a small fit
    x = np.ascontiguousarray(x, dtype=np.float32)  # the trees' own input type: their checks can be skipped
    y = np.ascontiguousarray(y, dtype=np.float64)
    weight = None if (weight == 1.0).all() else np.ascontiguousarray(weight, dtype=np.float64)
    fitted = []
    for _ in range(trees):
        rows = rng.integers(0, len(y), len(y))
        if classify and len(np.unique(y[rows])) < 2:
            rows = np.arange(len(y))  # a resample with one outcome only says nothing about the boundary
        model = kind(max_leaf_nodes=MAX_LEAVES, min_samples_leaf=MIN_LEAF, random_state=state)
        fitted.append(model.fit(x[rows], y[rows], sample_weight=None if weight is None else weight[rows],
                                check_input=False))
    return fitted


def _column(forest: list[Any], classify: bool) -> int:
    """The output a tree's leaves are read at: the diverged class's probability, or the regression value."""
    return int(np.flatnonzero(forest[0].classes_ == 1.0)[0]) if classify else 0


def _pair_axes(forest: Any, d: int, classify: bool) -> list[tuple[int, int]]:
    """Pairs among all axes, or among the ``PAIR_AXES`` with the largest main effects when there are more."""
    chosen = range(d)
    if d > PAIR_AXES:
        main = forest_shares(forest, d, [], _column(forest, classify)).main.mean(axis=0)
        chosen = sorted(np.argsort(-main, kind="stable")[:PAIR_AXES].tolist())
    return list(itertools.combinations(chosen, 2))


def _shares(members: list[tuple[str, ...]], estimate: np.ndarray, replicates: np.ndarray) -> tuple[Share, ...]:
    tail = (1 - LEVEL) / 2 * 100
    if len(replicates):
        low, high = np.percentile(replicates, [tail, 100 - tail], axis=0)
    else:
        low = high = estimate
    shares = [Share(m, float(e), float(min(lo, e)), float(max(hi, e)))
              for m, e, lo, hi in zip(members, estimate, low, high)]
    return tuple(sorted(shares, key=lambda s: -s.estimate))
