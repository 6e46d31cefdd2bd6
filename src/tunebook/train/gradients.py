"""Gradient clipping as the playbook writes it, returning the unclipped norm to log.

"If the norm of the gradient ||g|| is greater than the gradient clipping
threshold lambda, then do g' = lambda * g / ||g||" and "Log the unclipped
gradient norm during training"::

    grad_norm = clip_grad_norm(model.parameters(), params.get("grad_clip_norm"))
    trial.log(step, {"grad_norm": grad_norm})

The norm is the global L2 norm over every gradient, computed in float64 (a
float16/float32 sum of squares would overflow to inf for large but finite
gradients). Unlike ``torch.nn.utils.clip_grad_norm_``, which scales by
``max_norm / (norm + 1e-6)``, the clipped gradient has norm ``max_norm`` exactly.

Non-finite norms: when some gradient holds NaN or inf the norm is NaN or inf;
it is returned as is and the gradients are left untouched. Clipping cannot
repair such a gradient (scaling by ``max_norm / inf`` would silently zero it,
and NaN stays NaN), so nothing is hidden: the caller sees the value, logs it,
and may skip the update or end the trial as diverged.
"""

from __future__ import annotations

import math
from typing import Iterable

from tunebook.core.errors import SpecError
from tunebook.core.imports import require

torch = require("torch", "train", "tunebook.train.clip_grad_norm")

__all__ = ["ClippingError", "clip_grad_norm"]


class ClippingError(SpecError):
    """The gradient clipping threshold is invalid; fix ``grad_clip_norm``."""

    subject = "invalid gradient clipping threshold"


def _check_threshold(max_norm: float | None) -> float | None:
    """None or 0 means no clipping (the shared ``grad_clip_norm`` vocabulary); else a finite number > 0."""
    if max_norm is None:
        return None
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)) or not math.isfinite(max_norm) \
            or max_norm < 0:
        raise ClippingError([("grad_clip_norm", f"must be a finite number >= 0 (0: no clipping), got {max_norm!r}")])
    return float(max_norm) or None


def clip_grad_norm(parameters: "torch.Tensor | Iterable[torch.Tensor]", max_norm: float | None = None) -> float:
    """The unclipped global L2 norm of the gradients, after clipping them in place to ``max_norm`` if above it.

    ``parameters`` is a tensor or an iterable of tensors; those without a
    gradient are skipped (no gradient at all gives 0.0). ``max_norm`` None or
    0 only measures. A non-finite norm is returned with the gradients left as
    they are (see the module docstring). Raises ClippingError naming
    ``grad_clip_norm`` for a negative or non-finite threshold.
    """
    threshold = _check_threshold(max_norm)
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    norms = [torch.linalg.vector_norm(g.detach(), dtype=torch.float64) for g in grads]
    norm = float(torch.linalg.vector_norm(torch.stack([n.to(norms[0].device) for n in norms])))
    if threshold is not None and math.isfinite(norm) and norm > threshold:
        scale = threshold / norm
        for g in grads:
            g.detach().mul_(scale)
    return norm
