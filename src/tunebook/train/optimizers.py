"""The playbook's update rules, exactly as its FAQ writes them, as ``torch.optim.Optimizer``s.

From "What are the update rules for all the popular optimization
algorithms?". ``g`` is the gradient at the current parameters, ``t`` counts
updates from 0, and ``lr`` (``eta_t``, ``alpha_t`` in the FAQ) is read from
each param group at every step, so a scheduler (``tunebook.train.lr_scheduler``)
drives it. The docstrings say where torch's built-in optimizer of the same name
computes something different. Every optimizer keeps ``step`` (updates taken)
and its buffers in ``optimizer.state[p]``, so ``state_dict()`` resumes exactly.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from tunebook.core.errors import SpecError
from tunebook.core.imports import require

torch = require("torch", "train", "tunebook.train's optimizers")

__all__ = ["OPTIMIZER_NAMES", "Adam", "Momentum", "NAdam", "Nesterov", "OptimizerError", "RMSProp", "SGD",
           "optimizer_from_params"]


class OptimizerError(SpecError):
    """An optimizer hyperparameter is invalid; fix the named field."""

    subject = "invalid optimizer hyperparameters"


# The allowed [low, high) of each hyperparameter; lr may be 0 (a warmup starts there).
_RANGES = {"lr": (0.0, math.inf), "momentum": (0.0, 1.0), "rho": (0.0, 1.0),
           "beta1": (0.0, 1.0), "beta2": (0.0, 1.0), "eps": (0.0, math.inf)}


def _check(hyperparameters: Mapping[str, Any]) -> None:
    problems = []
    for name, value in hyperparameters.items():
        low, high = _RANGES[name]
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and low <= value < high
        if not ok:
            problems.append((name, f"must be a number in [{low:g}, {high:g}), got {value!r}"))
    if problems:
        raise OptimizerError(problems)


class _PlaybookOptimizer(torch.optim.Optimizer):
    """Runs ``_update(p, g, state, group)`` for each parameter with a gradient, under no_grad."""

    def __init__(self, params: Iterable, **defaults: Any) -> None:
        _check(defaults)
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        _check({k: v for k, v in param_group.items() if k in _RANGES})
        super().add_param_group(param_group)

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                state = self.state[p]
                self._update(p, p.grad, state, group)
                state["step"] = state.get("step", 0) + 1
        return loss

    def _update(self, p, g, state: dict, group: dict) -> None:
        raise NotImplementedError


def _buffer(state: dict, name: str, new: Any, p) -> Any:
    """``state[name]``, made by ``new(p)`` (``torch.zeros_like``, ``torch.ones_like``) at the first update only.

    Not ``state.setdefault(name, new(p))``: that would allocate and fill a
    parameter-sized tensor at every update just to throw it away.
    """
    if name not in state:
        state[name] = new(p)
    return state[name]


class SGD(_PlaybookOptimizer):
    """``theta <- theta - lr * g``. The same as ``torch.optim.SGD(params, lr)``."""

    def __init__(self, params: Iterable, lr: float) -> None:
        super().__init__(params, lr=lr)

    def _update(self, p, g, state, group):
        p.add_(g, alpha=-group["lr"])


class Momentum(_PlaybookOptimizer):
    """``v <- momentum * v + g`` (``v_0 = 0``); ``theta <- theta - lr * v``.

    The velocity accumulates raw gradients, not ``lr``-scaled steps, so a
    change of ``lr`` applies at once to the whole velocity. This is what
    ``torch.optim.SGD(params, lr, momentum=momentum)`` computes (dampening 0);
    frameworks whose velocity holds ``lr * g`` instead differ under a schedule.
    """

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.9) -> None:
        super().__init__(params, lr=lr, momentum=momentum)

    def _update(self, p, g, state, group):
        v = _buffer(state, "velocity", torch.zeros_like, p)
        v.mul_(group["momentum"]).add_(g)
        p.add_(v, alpha=-group["lr"])


class Nesterov(_PlaybookOptimizer):
    """``v <- momentum * v + g`` (``v_0 = 0``); ``theta <- theta - lr * (momentum * v + g)``.

    The same as ``torch.optim.SGD(params, lr, momentum=momentum, nesterov=True)``.
    """

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.9) -> None:
        super().__init__(params, lr=lr, momentum=momentum)

    def _update(self, p, g, state, group):
        v = _buffer(state, "velocity", torch.zeros_like, p)
        v.mul_(group["momentum"]).add_(g)
        p.add_(v, alpha=-group["lr"] * group["momentum"]).add_(g, alpha=-group["lr"])


class RMSProp(_PlaybookOptimizer):
    """``v <- rho * v + (1 - rho) * g**2`` with ``v_0 = 1``;
    ``m <- momentum * m + lr / sqrt(v + eps) * g`` with ``m_0 = 0``; ``theta <- theta - m``.

    Differs from ``torch.optim.RMSprop(params, lr, alpha=rho, eps, momentum)``:
    torch starts ``v`` at 0 (so its first step divides by ``sqrt((1 - rho) g**2)``,
    about ``3 * lr * sign(g)`` for ``rho=0.9``, where this one is about
    ``lr * g``), adds ``eps`` outside the square root (``sqrt(v) + eps``), and
    keeps ``lr`` out of its momentum buffer (``theta -= lr * buf``), whereas
    here ``m`` holds ``lr``-scaled steps, so a new ``lr`` only affects new steps.
    """

    def __init__(self, params: Iterable, lr: float, rho: float = 0.9, momentum: float = 0.0,
                 eps: float = 1e-8) -> None:
        super().__init__(params, lr=lr, rho=rho, momentum=momentum, eps=eps)

    def _update(self, p, g, state, group):
        v = _buffer(state, "v", torch.ones_like, p)
        m = _buffer(state, "m", torch.zeros_like, p)
        v.mul_(group["rho"]).addcmul_(g, g, value=1.0 - group["rho"])
        m.mul_(group["momentum"]).addcdiv_(g, (v + group["eps"]).sqrt_(), value=group["lr"])
        p.sub_(m)


def _adam_moments(p, g, state, group) -> tuple[Any, Any, float]:
    """Updates ``m`` and ``v`` and returns them with the FAQ's factor ``b_{t+1}``."""
    beta1, beta2 = group["beta1"], group["beta2"]
    m = _buffer(state, "m", torch.zeros_like, p)
    v = _buffer(state, "v", torch.zeros_like, p)
    m.mul_(beta1).add_(g, alpha=1.0 - beta1)
    v.mul_(beta2).addcmul_(g, g, value=1.0 - beta2)
    t = state.get("step", 0) + 1
    return m, v, math.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)


class Adam(_PlaybookOptimizer):
    """``m <- beta1 m + (1 - beta1) g``; ``v <- beta2 v + (1 - beta2) g**2`` (both from 0);
    ``b = sqrt(1 - beta2**(t+1)) / (1 - beta1**(t+1))``;
    ``theta <- theta - lr * m / (sqrt(v) + eps) * b``.

    ``eps`` is added to ``sqrt(v)`` before the bias factor. ``torch.optim.Adam``
    adds it after bias correction (``m_hat / (sqrt(v_hat) + eps)``), which is
    this rule with ``eps * sqrt(1 - beta2**(t+1))`` in place of ``eps``: the two
    coincide exactly when ``eps = 0`` and differ most in the first steps.
    """

    def __init__(self, params: Iterable, lr: float, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        super().__init__(params, lr=lr, beta1=beta1, beta2=beta2, eps=eps)

    def _update(self, p, g, state, group):
        m, v, b = _adam_moments(p, g, state, group)
        p.addcdiv_(m, v.sqrt().add_(group["eps"]), value=-group["lr"] * b)


class NAdam(_PlaybookOptimizer):
    """Adam's ``m``, ``v`` and ``b``, with the Nesterov numerator:
    ``theta <- theta - lr * (beta1 m + (1 - beta1) g) / (sqrt(v) + eps) * b``.

    Differs from ``torch.optim.NAdam``, which follows Dozat's paper with a
    momentum schedule (``momentum_decay``, ``mu_t = beta1 (1 - 0.5 * 0.96**(t psi))``),
    separate bias corrections of the two numerator terms, and ``eps`` after
    bias correction. No setting of torch's NAdam gives this rule.
    """

    def __init__(self, params: Iterable, lr: float, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        super().__init__(params, lr=lr, beta1=beta1, beta2=beta2, eps=eps)

    def _update(self, p, g, state, group):
        m, v, b = _adam_moments(p, g, state, group)
        numerator = m.mul(group["beta1"]).add_(g, alpha=1.0 - group["beta1"])
        p.addcdiv_(numerator, v.sqrt().add_(group["eps"]), value=-group["lr"] * b)


OPTIMIZER_NAMES = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "rmsprop": RMSProp, "adam": Adam,
                   "nadam": NAdam}
# Which trial params each optimizer reads besides learning_rate (the shared vocabulary).
_PARAM_NAMES = {"sgd": (), "momentum": ("momentum",), "nesterov": ("momentum",),
                "rmsprop": ("rho", "momentum", "eps"), "adam": ("beta1", "beta2", "eps"),
                "nadam": ("beta1", "beta2", "eps")}


def optimizer_from_params(parameters: Iterable, params: Mapping[str, Any]) -> _PlaybookOptimizer:
    """The optimizer named by a trial's ``optimizer`` param, with its hyperparameters from ``params``.

    Reads ``optimizer`` (sgd | momentum | nesterov | rmsprop | adam | nadam),
    ``learning_rate`` and that optimizer's ``momentum``, ``rho``, ``beta1``,
    ``beta2``, ``eps`` (absent or None: the defaults above). Other keys are ignored.
    """
    name = params.get("optimizer")
    if name not in OPTIMIZER_NAMES:
        raise OptimizerError([("optimizer", f"must be one of {', '.join(OPTIMIZER_NAMES)}, got {name!r}")])
    if params.get("learning_rate") is None:
        raise OptimizerError([("learning_rate", "is required to build an optimizer")])
    given = {key: params[key] for key in _PARAM_NAMES[name] if params.get(key) is not None}
    try:
        return OPTIMIZER_NAMES[name](parameters, params["learning_rate"], **given)
    except OptimizerError as exc:  # name the trial param, not the group key
        raise OptimizerError([("learning_rate" if field == "lr" else field, message)
                              for field, message in exc.problems]) from None
