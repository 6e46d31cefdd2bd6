"""The two Gaussian-process models of Bayesian optimization with unknown constraints (Gelbart et al. 2014).

- the **objective model**: a BoTorch ``SingleTaskGP`` (its default kernel with
  one lengthscale per feature and dimension-scaled priors; outcomes
  standardized) fitted on the feasible trials only: a diverged trial has no
  objective value and none is made up;
- the **feasibility model**: a classifier fitted on every finished trial
  (diverged = infeasible). It is Gaussian-process classification by Dirichlet
  regression (Milios et al. 2018): each class's label becomes a regression
  target with a known noise, so an exact GP is fitted by marginal likelihood
  like the objective model. With two classes only the difference of the two
  latent functions matters (``P(feasible) = sigmoid(f_feasible -
  f_infeasible)``), and the difference of the two targets is ``+D`` for a
  feasible trial and ``-D`` for an infeasible one with noise variance ``V``
  (``D = 6.58``, ``V = 5.30`` for Milios et al.'s alpha 0.01): one GP of that
  difference (its kernel shared by both classes) costs half of two. Then
  ``P(feasible) = E[sigmoid(d)]`` under the posterior of ``d``, with the probit
  approximation ``sigmoid(m / sqrt(1 + pi s^2 / 8))`` (MacKay 1992).

Imports torch, gpytorch and botorch: only ``search.bayesian`` imports this module.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from gpytorch.kernels import MaternKernel, ScaleKernel
from gpytorch.means import ZeroMean
from gpytorch.priors import GammaPrior
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
    """P(feasible) at any features, from a Dirichlet-regression GP classifier (see the module's docstring)."""

    def __init__(self, features: np.ndarray, feasible: np.ndarray):
        targets, noise = dirichlet_difference()
        signs = np.where(feasible, 1.0, -1.0)
        y = tensor(signs * targets).unsqueeze(-1)
        # zero prior mean, targets unscaled: where no trial is near, P(feasible) is 1/2, not the share of
        # feasible trials (a fitted constant mean would call far corners feasible when most trials are)
        # a Matern-5/2 kernel with short lengthscales a priori (Gamma(3, 6): mean 0.5 of the unit range), as a
        # boundary between feasible and diverged is sharper than the objective's trends (the objective model's
        # default prior favours long lengthscales, and left the classifier blind to trials diverging side by side)
        kernel = ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=features.shape[1], lengthscale_prior=GammaPrior(3.0, 6.0)),
                             outputscale_prior=GammaPrior(2.0, 0.15))
        self.model = _fit(SingleTaskGP(tensor(features), y, torch.full_like(y, noise), covar_module=kernel,
                                       mean_module=ZeroMean(), outcome_transform=None))

    def log_probability(self, X: torch.Tensor) -> torch.Tensor:
        """log P(feasible) at each row of ``X`` (n, features)."""
        return self.log_probabilities(X, 0.0)[0]

    def log_probabilities(self, X: torch.Tensor, z: float) -> tuple[torch.Tensor, torch.Tensor]:
        """(log P(feasible), log of its conservative bound) at each row of ``X`` (n, features).

        The bound is ``sigmoid(m - z s)``, the posterior's lower ``Phi(-z)``
        quantile of ``sigmoid(d)``: low where the classifier is unsure (few
        trials near), close to P where trials of both outcomes pin it down.
        """
        posterior = self.model.posterior(X)
        mean, sd = posterior.mean[..., 0], posterior.variance[..., 0].sqrt()
        expected = torch.nn.functional.logsigmoid(mean / torch.sqrt(1.0 + math.pi * sd**2 / 8.0))
        return expected, torch.nn.functional.logsigmoid(mean - z * sd)


def dirichlet_difference(alpha: float = _DIRICHLET_ALPHA) -> tuple[float, float]:
    """(D, V): the feasible-minus-infeasible target of a feasible trial and its noise variance.

    Milios et al.: a trial of class c has, for each class j, pseudo-count
    ``a_j = alpha + [j = c]``, noise ``s_j^2 = log(1 / a_j + 1)`` and target
    ``log a_j - s_j^2 / 2``; D is the difference of the two targets, V the sum
    of the two noises (the same for either class).
    """
    noise_in, noise_out = math.log(1.0 / (1.0 + alpha) + 1.0), math.log(1.0 / alpha + 1.0)
    target_in, target_out = math.log(1.0 + alpha) - noise_in / 2.0, math.log(alpha) - noise_out / 2.0
    return target_in - target_out, noise_in + noise_out
