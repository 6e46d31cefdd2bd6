"""Scrambled, randomly shifted Halton points, computed directly for any index.

Dimension ``d`` uses the ``d``-th prime ``p`` as its base. Point ``k`` takes
the base-``p`` digits of ``k`` and maps digit position ``j`` through its own
random permutation of ``0..p-1`` (random digit scrambling), then adds a random
shift modulo 1. Only the digits ``k`` actually has are visited: the scrambled
contribution of all the leading zeros beyond them is a precomputed tail sum,
so reaching point ``k`` costs O(log k), never O(k) like a generator that must
be fast-forwarded.
"""

from __future__ import annotations

import math

import numpy as np

_MANTISSA_BITS = 53


def first_primes(n: int) -> list[int]:
    """The first ``n`` primes."""
    primes: list[int] = []
    candidate = 2
    while len(primes) < n:
        if all(candidate % p for p in primes if p * p <= candidate):
            primes.append(candidate)
        candidate += 1
    return primes


class _Dimension:
    """One scrambled van der Corput dimension."""

    def __init__(self, base: int, rng: np.random.Generator):
        self.base = base
        n_digits = math.ceil(_MANTISSA_BITS / math.log2(base))
        scales = float(base) ** -np.arange(1, n_digits + 1)
        perms = np.stack([rng.permutation(base) for _ in range(n_digits)])
        self.table = perms * scales[:, None]  # table[j, digit]: value of digit at position j
        # tail[j]: what the zero digits at positions j, j+1, ... contribute.
        self.tail = np.append(np.cumsum(self.table[::-1, 0])[::-1], 0.0)
        self.shift = float(rng.random())
        self._rows = self.table.tolist()
        self._tail = self.tail.tolist()

    def at(self, k: int) -> float:
        base, rows, total, j = self.base, self._rows, 0.0, 0
        while k:
            k, digit = divmod(k, base)
            total += rows[j][digit]
            j += 1
        return (total + self._tail[j] + self.shift) % 1.0

    def many(self, ks: np.ndarray) -> np.ndarray:
        # The same sums in the same order as ``at``, so both give bit-identical
        # floats: the sampler picks a branch with ``at`` and counts the trials
        # that entered it with ``many``, and the two must never disagree.
        total = np.zeros(len(ks))
        rest = ks.astype(np.int64).copy()
        n_digits = np.zeros(len(ks), dtype=np.int64)
        j = 0
        while rest.any():
            live = rest > 0  # adding 0.0 for the others leaves their sums exact
            total += np.where(live, self.table[j][rest % self.base], 0.0)
            n_digits += live
            rest //= self.base
            j += 1
        return np.mod(total + self.tail[n_digits] + self.shift, 1.0)


class ScrambledHalton:
    """A ``dim``-dimensional scrambled Halton sequence fixed by ``seed``.

    ``point(k)`` is a pure function of (dim, seed, k): any process computing
    it gets the same numbers, in any order.
    """

    def __init__(self, dim: int, seed: np.random.SeedSequence | int):
        rng = np.random.default_rng(seed)
        self.dim = dim
        self._dims = [_Dimension(base, rng) for base in first_primes(dim)]

    def point(self, k: int) -> list[float]:
        """Point ``k`` (0-based) in [0, 1)^dim."""
        return [d.at(k) for d in self._dims]

    def points(self, start: int, stop: int) -> np.ndarray:
        """Points ``start .. stop-1`` as a (stop-start, dim) array."""
        ks = np.arange(start, stop, dtype=np.int64)
        if not self._dims:
            return np.zeros((len(ks), 0))
        return np.stack([d.many(ks) for d in self._dims], axis=1)

    def column(self, dim_index: int, start: int, stop: int) -> np.ndarray:
        """One coordinate of points ``start .. stop-1``."""
        return self._dims[dim_index].many(np.arange(start, stop, dtype=np.int64))
