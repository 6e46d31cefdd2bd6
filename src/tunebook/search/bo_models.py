"""The two Gaussian-process models of Bayesian optimization with unknown constraints (Gelbart et al. 2014).

- the **objective model**: a BoTorch ``SingleTaskGP`` (its default kernel with
  one lengthscale per feature and dimension-scaled priors; outcomes
  standardized) fitted on the feasible trials only: a diverged trial has no
  objective value and none is made up;
- the **feasibility model**: a classifier fitted on every finished trial
  (diverged = infeasible). It is Gaussian-process classification by Dirichlet
  regression (Milios et al. 2018): each class's label becomes a regression
  target with a known, label-dependent noise, so an exact GP (one output per
  class) is fitted by marginal likelihood like the objective model.
  ``P(feasible)`` is ``E[sigmoid(f_feasible - f_infeasible)]`` under the
  posterior, with the probit approximation
  ``sigmoid(m / sqrt(1 + pi s^2 / 8))`` (MacKay 1992) for ``m, s^2`` the
  mean and variance of that difference.

Imports torch, gpytorch and botorch: only ``search.bayesian`` imports this module.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from gpytorch.mlls import ExactMarginalLogLikelihood

DTYPE = torch.float64
_DIRICHLET_ALPHA = 0.01  # Milios et al.'s alpha_epsilon: the pseudo-count of the class a trial is not in
_FIT_OPTIONS = {"maxiter": 40}  # L-BFGS-B iterations: enough for these few hyperparameters (speed: bo_speed.py)


def tensor(values: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float64), dtype=DTYPE)


def _fit(model: SingleTaskGP) -> SingleTaskGP:
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # botorch's optimization warnings; a failed fit raises
        fit_gpytorch_mll(mll, optimizer_kwargs={"options": _FIT_OPTIONS})
    model.eval()
    return model


def fit_objective(features: np.ndarray, values: np.ndarray) -> SingleTaskGP:
    """A GP of ``values`` (to maximize; finite; at least two distinct) at ``features``."""
    return _fit(SingleTaskGP(tensor(features), tensor(values).unsqueeze(-1)))


class FeasibilityModel:
    """P(feasible) at any features, from a Dirichlet-regression GP classifier."""

    def __init__(self, features: np.ndarray, feasible: np.ndarray):
        onehot = np.stack([feasible, ~feasible], axis=1).astype(np.float64)
        alpha = onehot + _DIRICHLET_ALPHA
        noise = np.log(1.0 / alpha + 1.0)
        targets = np.log(alpha) - noise / 2.0
        self.model = _fit(SingleTaskGP(tensor(features), tensor(targets), tensor(noise)))

    def log_probability(self, X: torch.Tensor) -> torch.Tensor:
        """log P(feasible) at each row of ``X`` (n, features)."""
        posterior = self.model.posterior(X)
        mean, variance = posterior.mean, posterior.variance  # (n, 2): feasible, infeasible
        difference = mean[..., 0] - mean[..., 1]
        spread = variance[..., 0] + variance[..., 1]
        return torch.nn.functional.logsigmoid(difference / torch.sqrt(1.0 + math.pi * spread / 8.0))
