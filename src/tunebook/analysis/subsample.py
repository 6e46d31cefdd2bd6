"""A bounded, stratified, weighted subsample of trials, for analyses whose cost grows with the trials fitted.

``stratified_subsample(strata, limit, seed)`` keeps about ``limit`` rows:
each stratum (a study, or a study and an outcome) keeps its proportional
share of ``limit`` (rounded down), but at least ``floor`` rows (all of them
when it has fewer), chosen uniformly at random with a fixed seed. Each kept
row carries the weight ``stratum size / rows kept`` (normalised to mean 1),
so a weighted fit counts every stratum as it counts in the full data even
where the floor over-samples a small one (a rare outcome, a short study).

At most ``limit + floor x strata`` rows are kept; with ``limit`` rows or
fewer everything is kept, each with weight 1.
"""

from __future__ import annotations

import numpy as np

__all__ = ["stratified_subsample"]


def stratified_subsample(strata: np.ndarray, limit: int, seed: int = 0,
                         floor: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(the kept rows' indices, ascending; their weights, mean 1) of rows labelled by ``strata``."""
    n = len(strata)
    if n <= limit:
        return np.arange(n), np.ones(n)
    labels, codes, sizes = np.unique(strata, return_inverse=True, return_counts=True)
    kept = np.minimum(sizes, np.maximum(floor, limit * sizes // n))
    rng = np.random.default_rng(seed)
    rows, weights = [], []
    for code in range(len(labels)):
        members = np.flatnonzero(codes == code)
        rows.append(rng.choice(members, size=kept[code], replace=False))
        weights.append(np.full(kept[code], sizes[code] / kept[code]))
    order = np.argsort(np.concatenate(rows), kind="stable")
    weight = np.concatenate(weights)[order]
    return np.concatenate(rows)[order], weight / weight.mean()
