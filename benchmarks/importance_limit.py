"""How far fitting importance's forests on a bounded subsample moves the shares, on functions whose shares are known.

``analysis.importance`` fits each region's forests on at most ``MAX_FIT``
trials (a stratified subsample, ``analysis.subsample``). This measures what
that costs in accuracy: for each labelled case (a function of points in the
unit cube whose functional-ANOVA shares are computed exactly here on a fine
grid), ``n`` uniformly random trials, and each fit limit (``all``: no
limit), over several seeds, it prints

- err: the largest distance between a share's estimate and its true value,
- miss: the largest distance from a true share to its 90 % interval (0 when
  every interval holds its truth),
- width: the widest 90 % interval,
- covered: the fraction of intervals that hold their truth (of shares above 1 %),
- same verdicts: the fraction of shares whose verdict (matters / unsure /
  insensitive) is the one the full fit gives on the same trials,
- CPU seconds per region.

    python benchmarks/importance_limit.py [--n 10000] [--configs 0:32:4 1000:32:4 ...] [--seeds 5]

A config is LIMIT:TREES:REPLICATE_TREES (``0``: no limit): the fit limit,
the trees of the point estimate's forest, the trees of each of the 25
bootstrap replicates' forests. "same verdicts" compares with 0:32:4.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
import time
from collections import Counter
from typing import Callable

import numpy as np

GRID = 400
Config = tuple  # (limit or None, trees, trees per replicate)
REFERENCE = (None, 32, 4)  # every trial, the forests' sizes before the limit: what a subsample is compared with


@dataclasses.dataclass(frozen=True)
class Case:
    """``f`` of the first ``len(relevant)`` axes (each in [0, 1]) among ``d``; ``noise``: its normal noise's sd;
    ``classify``: f is a probability of diverging (the trial diverges with it)."""

    name: str
    d: int
    f: Callable[..., np.ndarray]
    relevant: int
    noise: float = 0.01
    classify: bool = False


CASES = [
    Case("planted (tests): lr, momentum and their pair", 6,
         lambda a, b: (a - 0.6) ** 2 + (b - 0.5) ** 2 + 1.5 * (a - 0.5) * (b - 0.5), 2),
    Case("weak effect beside a product: (x0-.5)^2 + x1 x2", 5,
         lambda a, b, c: (a - 0.5) ** 2 + b * c, 3),
    Case("divergence where lr > .8 and momentum > .5", 4,
         lambda a, b: ((a > 0.8) & (b > 0.5)).astype(float), 2, noise=0.0, classify=True),
    Case("divergence, 60 % of runs, where lr > .75 (benchmarks/report.py's kind)", 4,
         lambda a: 0.6 * (a > 0.75), 1, noise=0.0, classify=True),
]


def true_shares(case: Case) -> dict[tuple[int, ...], float]:
    """Each axis's and pair's share of ``case.f``'s variance over the unit cube (midpoint grid; noise left out)."""
    k = case.relevant
    ticks = (np.arange(GRID if k < 3 else GRID // 4) + 0.5) / (GRID if k < 3 else GRID // 4)
    values = case.f(*np.meshgrid(*([ticks] * k), indexing="ij"))
    total = values.var()
    mean = values.mean()
    main = {(i,): ((values.mean(axis=tuple(a for a in range(k) if a != i)) - mean) ** 2).mean() for i in range(k)}
    shares = {key: v / total for key, v in main.items()}
    for i, j in itertools.combinations(range(k), 2):
        joint = values.mean(axis=tuple(a for a in range(k) if a not in (i, j)))
        shares[(i, j)] = (((joint - mean) ** 2).mean() - main[(i,)] - main[(j,)]) / total
    for key in itertools.chain(((i,) for i in range(case.d)), itertools.combinations(range(case.d), 2)):
        shares.setdefault(key, 0.0)
    return shares


def trials(case: Case, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    points = rng.uniform(size=(n, case.d))
    value = case.f(*points[:, :case.relevant].T)
    if case.classify:
        return points, (rng.uniform(size=n) < value).astype(float)
    return points, value + rng.normal(0, case.noise, n)


@functools.lru_cache(maxsize=None)
def judged(case: Case, n: int, config: Config, seed: int) -> tuple[dict, float]:
    """{axes: Share} of one fit, and its CPU seconds."""
    from tunebook.analysis import importance
    from tunebook.analysis.importance import region_importance
    from tunebook.analysis.unit_space import Axes

    limit, trees, replicate_trees = config
    importance.FOREST_SIZES = ((0, trees, replicate_trees),)

    points, y = trials(case, n, seed)
    names = tuple(f"x{i}" for i in range(case.d))
    mark = time.process_time()
    region = region_importance("all", Axes(points, names, (0,) * case.d), y, seed=seed, classify=case.classify,
                               limit=limit)
    cpu = time.process_time() - mark
    index = {name: i for i, name in enumerate(names)}
    return {tuple(sorted(index[m] for m in s.members)): s for s in region.params + region.pairs}, cpu


def summary(case: Case, n: int, config: Config, seeds: int) -> str:
    truth = true_shares(case)
    errors, misses, widths, covered, same, cpus, changes = [], [], [], [], [], [], Counter()
    for seed in range(seeds):
        shares, cpu = judged(case, n, config, seed)
        full = judged(case, n, REFERENCE, seed)[0]
        cpus.append(cpu)
        for key, share in shares.items():
            t = truth[key]
            errors.append(abs(share.estimate - t))
            misses.append(max(0.0, share.low - t, t - share.high))
            widths.append(share.high - share.low)
            if t > 0.01:  # a share of nothing is estimated a hair above 0: its interval is not a claim about 0
                covered.append(share.low <= t <= share.high)
            same.append(share.verdict == full[key].verdict)
            if share.verdict != full[key].verdict:
                changes[f"{full[key].verdict} -> {share.verdict}"] += 1
    limit, trees, replicate_trees = config
    return (f"  limit {limit or 'all':>5}, {trees:>2} trees, replicates of {replicate_trees}: err {max(errors):.3f}  miss {max(misses):.3f}  width {max(widths):.3f}  "
            f"covered {np.mean(covered):.2f}  same verdicts {np.mean(same):.2f}  {np.mean(cpus):.2f} CPU s"
            + (f"  (changed: {', '.join(f'{k} {v}' for k, v in sorted(changes.items()))})" if changes else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--configs", nargs="+", default=["0:32:4", "1000:32:4", "1000:16:2"],
                        help="LIMIT:TREES:REPLICATE_TREES (LIMIT 0: all trials)")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    for case in CASES:
        truth = true_shares(case)
        shown = ", ".join(f"{'x'.join(map(str, k))}: {v:.3f}" for k, v in truth.items() if v > 1e-9)
        print(f"{case.name} (d={case.d}, n={args.n}); true shares {shown}", flush=True)
        for config in args.configs:
            limit, trees, replicate_trees = (int(part) for part in config.split(":"))
            print(summary(case, args.n, (limit or None, trees, replicate_trees), args.seeds), flush=True)


if __name__ == "__main__":
    main()
