"""Choosing the next point: expected improvement weighted by the probability of feasibility.

The score of a candidate ``x`` (Gelbart et al. 2014) is
``log qNEI(x | pending) + log P(feasible at x)``:

- ``qLogNEI`` (BoTorch's log noisy expected improvement over the feasible
  trials) is evaluated jointly with the pending (running) trials, so a
  candidate next to a pending one gains nothing from it: several workers get
  different points;
- a candidate whose **conservative** probability of feasibility
  ``sigmoid(m - 2 s)`` (``m``, ``s``: the classifier's posterior mean and
  sd of its latent difference; the lower 2.3 % posterior quantile of
  P(feasible), ``CONSERVATIVE_Z``) is below 0.9 (``MIN_FEASIBLE``) is taken
  only when every candidate is. Where the objective model knows nothing its
  expected improvement is large, and the best points border the divergent
  region, so any floor is where the search goes: a floor on the expected
  P(feasible) let it walk up to where an unsure classifier said 0.9, far
  from the trials that could say so (LCBench task 7593, seed 1: 10 of its 36
  model trials, each taken at P 0.90-0.99, diverged). The bound is low where few trials are near
  and close to P where trials of both outcomes pin the border down, so
  well-sampled border stays usable. Measured on the LCBench surrogate with
  ``--diverge 0.1`` (7 tasks x seeds 0-2; README; runs in
  ``benchmarks/results/``), share of the trials after the initial design that
  diverged and wins against Optuna TPE 50 / quasi-random 200: this rule
  1.9 %, 20/21, 21/21 (TPE: 5.2 %); expected P >= 0.9: 6.7 %, 17/21, 21/21
  (>= 0.8 and 0.95 on fewer seeds: 12-14 %, and 5.2 % with 3/7 against
  TPE); z = 3 with the safest candidate first below the floor: 1.4 %, but
  2/12 and 4/12 (it kept away from the border where the best points are;
  stopped after 12 cells);
- with no objective model yet (no feasible trial, or fewer than two distinct
  values) the score is ``log P(feasible)`` alone: the search first looks for
  where training does not diverge;
- candidates within 1 % of the range in every feature of a finished, pending
  or failed trial are not considered (no duplicate, and a crashed point is
  never suggested again).

The acquisition is maximized over candidates rather than by gradients, as
the space has integers, categories and branches: 512 random unit vectors
plus perturbations of the five best trials, then perturbations of the eight
best candidates. Every random draw comes from the ``rng`` and ``seed`` given.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.sampling import SobolQMCNormalSampler

from tunebook.search.base import CannotModel
from tunebook.search.bo_models import FeasibilityModel, fit_objective, tensor
from tunebook.search.encoding import SpaceEncoding

N_RANDOM = 512
N_LOCAL = 64  # per incumbent and per refined candidate
LOCAL_SCALES = (0.02, 0.08, 0.2)
REFINE_SCALES = (0.01, 0.03)
MIN_FEASIBLE = 0.9  # below this conservative P(feasible) a candidate is taken only when no other is left
CONSERVATIVE_Z = 2.0  # the floor applies to sigmoid(m - 2 s): P(feasible)'s lower 2.3 % posterior quantile
UNLIKELY_PENALTY = 1e3  # ranks every candidate below MIN_FEASIBLE below every other one
NEAR = 0.01  # a candidate this close (max over features) to a known point is a duplicate
_CHUNK = 512


@dataclasses.dataclass(frozen=True)
class Evidence:
    """What the models learn from, as features; ``values`` are to be maximized."""

    feasible_x: np.ndarray  # (n_feasible, F)
    values: np.ndarray  # (n_feasible,)
    infeasible_x: np.ndarray  # (n_infeasible, F)
    pending_x: np.ndarray  # (n_pending, F)
    failed_x: np.ndarray  # (n_failed, F)
    incumbents: np.ndarray  # (k, D) unit vectors of the best feasible trials


@dataclasses.dataclass(frozen=True)
class Choice:
    unit: np.ndarray
    params: dict
    score: float
    log_feasible: float | None
    log_feasible_bound: float | None  # log sigmoid(m - CONSERVATIVE_Z s), what MIN_FEASIBLE is compared with
    by_feasibility_only: bool


def choose(encoding: SpaceEncoding, evidence: Evidence, rng: np.random.Generator, seed: int) -> Choice:
    """The candidate of highest score (see the module's docstring)."""
    score, feasibility, only_feasibility = _score_function(evidence, seed)
    known = np.concatenate([evidence.feasible_x, evidence.infeasible_x, evidence.pending_x, evidence.failed_x])
    units = np.concatenate([rng.random((N_RANDOM, encoding.n_units)), _around(evidence.incumbents, LOCAL_SCALES, rng)])
    best_units, best_scores = _top(encoding, units, known, score, keep=8)
    refined = _around(best_units, REFINE_SCALES, rng)
    units = np.concatenate([best_units, refined])
    best_units, best_scores = _top(encoding, units, known, score, keep=1)
    if len(best_units) == 0:
        raise CannotModel("every candidate lies within 1% of a known trial")
    unit = best_units[0]
    params = encoding.params(unit)
    x = tensor(encoding.features(params)[None, :])
    log_p = log_bound = None
    if feasibility is not None:
        with torch.no_grad():
            log_p, log_bound = (float(v[0]) for v in feasibility.log_probabilities(x, CONSERVATIVE_Z))
    return Choice(unit, params, float(best_scores[0]), log_p, log_bound, only_feasibility)


def _score_function(evidence: Evidence, seed: int):
    feasible_x, infeasible_x = evidence.feasible_x, evidence.infeasible_x
    feasibility = None
    if len(infeasible_x):
        labels = np.r_[np.ones(len(feasible_x), bool), np.zeros(len(infeasible_x), bool)]
        feasibility = FeasibilityModel(np.concatenate([feasible_x, infeasible_x]), labels)
    if len(np.unique(evidence.values)) < 2:
        if feasibility is None:
            raise CannotModel("nothing to model: fewer than two distinct objective values and no diverged trial")
        return feasibility.log_probability, feasibility, True
    model = fit_objective(feasible_x, evidence.values)
    acquisition = qLogNoisyExpectedImprovement(
        model, tensor(feasible_x), sampler=SobolQMCNormalSampler(torch.Size([128]), seed=seed),
        X_pending=tensor(evidence.pending_x) if len(evidence.pending_x) else None,
    )

    def score(x: torch.Tensor) -> torch.Tensor:
        value = acquisition(x.unsqueeze(-2))
        if feasibility is None:
            return value
        log_p, log_bound = feasibility.log_probabilities(x, CONSERVATIVE_Z)
        return value + log_p - UNLIKELY_PENALTY * (log_bound < math.log(MIN_FEASIBLE))

    return score, feasibility, False


def _around(centres: np.ndarray, scales: tuple[float, ...], rng: np.random.Generator) -> np.ndarray:
    if len(centres) == 0:
        return np.zeros((0, centres.shape[1] if centres.ndim == 2 else 0))
    moved = [
        centre + rng.normal(0.0, scale, (N_LOCAL, len(centre)))
        for centre in centres for scale in scales
    ]
    return np.clip(np.concatenate(moved), 0.0, 1.0 - 1e-9)


def _top(encoding: SpaceEncoding, units: np.ndarray, known: np.ndarray, score, keep: int):
    """The ``keep`` best distinct candidates that are not near a known point, and their scores."""
    features = encoding.features_of_units(units)
    features, first = np.unique(features, axis=0, return_index=True)
    units = units[first]
    if len(known):
        far = np.ones(len(features), bool)
        for start in range(0, len(known), 256):
            gaps = np.abs(features[:, None, :] - known[None, start:start + 256, :]).max(axis=2)
            far &= gaps.min(axis=1) >= NEAR
        features, units = features[far], units[far]
    if len(features) == 0:
        return units, np.zeros(0)
    with torch.no_grad():
        scores = torch.cat([score(tensor(features[i:i + _CHUNK])) for i in range(0, len(features), _CHUNK)])
    scores = scores.numpy()
    order = np.argsort(-scores, kind="stable")[:keep]
    return units[order], scores[order]
