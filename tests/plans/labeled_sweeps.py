"""A labeled set of learning-rate sweeps: synthetic training losses whose unstable_base_learning_rate is known.

Every sweep runs four rates, lr* and 2x, 5x, 10x above it, for ``POINTS``
steps, from a cross-entropy-like starting loss of 2.3. lr* decays to the
lowest loss; a stable rate above it decays fast but ends a little higher (as
too-high rates do). The families, each over several seeds, with ``K`` the
index of the first unstable rate (the truth; None: every rate is stable):

- ``stable``: every rate stable, 1 % relative noise;
- ``noisy``: every rate stable, 8 % relative noise (a high, late variance);
- ``blip``: the rates above lr* fit to ~1e-3 at once, then rise to 0.02-0.05
  for a while or to the end (the user's 4e-05 -> 0.05): stable;
- ``spike``: from K on, a sudden sustained rise after a steady decline
  (Figure 7b);
- ``recovering``: from K on, a spike to about 1.5 that lasts 8 % of training,
  then recovers to the decline;
- ``diverged``: from K on, infeasible (NaN at step 3);
- ``rising``: from K on, the loss bottoms out and climbs back by 0.8;
- ``stalled``: from K on, a collapse to a plateau at 1.6 in the first steps;
- ``blip_then_spike``: a blip at 2x lr* and a real spike from K on.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

POINTS = 400
START = 2.3
MULTIPLES = (1, 2, 5, 10)
LR_STAR = 0.01


@dataclasses.dataclass(frozen=True)
class Sweep:
    """One labeled sweep: its name, the rates, their curves (None: diverged) and the true unstable rate."""

    name: str
    rates: tuple[float, ...]
    curves: tuple[list[tuple[int, float]] | None, ...]
    unstable_lr: float | None


def _decay(floor: float, tau: float = 0.12) -> np.ndarray:
    t = np.arange(POINTS) / POINTS
    return floor + (START - floor) * np.exp(-t / tau)


def _as_points(values: np.ndarray) -> list[tuple[int, float]]:
    return [(int(s), float(v)) for s, v in enumerate(values)]


def _base(index: int, fit: float) -> np.ndarray:
    """The clean curve of rate ``index``: lr* ends lowest, each faster rate a little higher."""
    return _decay(fit * (1 + 0.5 * index), tau=0.08 / (1 + index))


def _noise(values: np.ndarray, rng: np.random.Generator, relative: float) -> np.ndarray:
    return values * (1 + relative * rng.standard_normal(len(values)))


def _blip(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A fast fit to ~1e-3 within the first 3 % of training, then a rise to 0.02-0.05 that lasts 3-10 % of
    training or creeps on to the end (what a too-high Adam rate on digits does)."""
    out = _decay(1e-3, tau=0.005)  # above where lr* ends (1e-4), so lr* stays the best
    at = int(rng.uniform(0.6, 0.85) * POINTS)
    end = POINTS if rng.random() < 0.5 else at + int(rng.uniform(0.03, 0.1) * POINTS)
    out[at:end] = np.linspace(out[at], rng.uniform(0.02, 0.05), len(out[at:end]))
    return out


def _spike(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    at = int(rng.uniform(0.4, 0.7) * POINTS)
    out = values.copy()
    out[at:] = rng.uniform(0.8, 1.5) * (1 + 0.01 * rng.standard_normal(POINTS - at))
    return out


def _recovering(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    at, width = int(rng.uniform(0.3, 0.6) * POINTS), int(0.08 * POINTS)
    out = values.copy()
    out[at:at + width] += rng.uniform(1.0, 1.5)
    return out


def _rising(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(POINTS) / POINTS
    turn = rng.uniform(0.3, 0.5)
    return values + 0.8 * np.clip((t - turn) / (1 - turn), 0, None)


def _stalled(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    level, steps = rng.uniform(1.4, 1.8), np.arange(POINTS)
    return np.where(steps < 5, START + (level - START) * steps / 5, level)


Shape = Callable[[np.ndarray, np.random.Generator], np.ndarray]
FAMILIES: dict[str, tuple[Shape | str | None, float, float, bool]] = {
    # name: (shape from K on, the fitted floor, relative noise, blip at 2x lr*)
    "stable": (None, 0.05, 0.01, False),
    "noisy": (None, 0.05, 0.08, False),
    "blip": (None, 1e-4, 0.01, True),
    "spike": (_spike, 0.05, 0.01, False),
    "recovering": (_recovering, 0.05, 0.01, False),
    "diverged": ("diverged", 0.05, 0.01, False),
    "rising": (_rising, 0.05, 0.01, False),
    "stalled": (_stalled, 0.05, 0.01, False),
    "blip_then_spike": (_spike, 1e-4, 0.01, True),
}


def sweep(family: str, seed: int) -> Sweep:
    """The sweep of ``family`` for ``seed``: K drawn from 1..3 (2x, 5x or 10x lr*) where the family has one."""
    shape, fit, relative, blip = FAMILIES[family]
    rng = np.random.default_rng(seed)
    first = None if shape is None else int(rng.integers(2 if family == "blip_then_spike" else 1, 4))
    rates = tuple(LR_STAR * m for m in MULTIPLES)
    curves: list[list[tuple[int, float]] | None] = []
    for index in range(len(rates)):
        values = _base(index, fit)
        if blip and index >= 1 and (family == "blip" or index == 1):
            values = _blip(values, rng)
        if first is not None and index >= first:
            if shape == "diverged":
                curves.append(None)
                continue
            values = shape(values, rng)
        curves.append(_as_points(_noise(values, rng, relative)))
    return Sweep(f"{family}-{seed}", rates, tuple(curves), None if first is None else rates[first])


def labeled(seeds: int = 6) -> list[Sweep]:
    """Every family over ``seeds`` seeds."""
    return [sweep(family, seed) for family in FAMILIES for seed in range(seeds)]
