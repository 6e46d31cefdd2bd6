"""Ghost batch norm: batch norm statistics over virtual batches of a fixed size.

The playbook ("Batch normalization implementation details"): computing the
statistics over ~64 examples often works better, and "decoupling the total
batch size and the number of examples used to calculate batch norm statistics
is particularly useful for batch size comparisons". It warns that
implementations "do not always correctly handle the case where the per-device
batch size > virtual batch size".

What this module does, in training mode, with a (per-device) batch of ``n``
examples and ``virtual_batch_size = v``:

- The batch is split, in order along dim 0, into ``k = max(1, n // v)``
  virtual batches whose sizes differ by at most one (``torch.tensor_split``).
  When ``v`` divides ``n`` each holds exactly ``v`` examples. When it does not,
  the remainder is spread over them, so every virtual batch holds at least
  ``v`` examples and fewer than ``2v`` (no tiny last batch with noisy
  statistics); a batch smaller than ``v`` is one virtual batch of ``n``.
- Each virtual batch is normalized with its own mean and biased variance,
  exactly as ``torch.nn.BatchNorm`` in training mode would normalize it alone.
  So a per-device batch larger than ``v`` is handled: each example sees
  statistics over its own ``v`` examples, never over the whole device batch.
- Running statistics (for eval) move once per forward call, by ``momentum``
  toward the average over the virtual batches of their mean and of their
  unbiased variance. Their horizon is counted in steps, whatever the batch
  size, which keeps batch size comparisons fair.

In eval mode it is ``torch.nn.BatchNorm`` with the running statistics.
Buffers and parameters have BatchNorm's names, so state dicts are
interchangeable. Across devices, average ``running_mean``/``running_var``
before evaluating or checkpointing (the playbook's multi-host advice); this
module does not communicate.
"""

from __future__ import annotations

from tunebook.core.errors import SpecError
from tunebook.core.imports import require

torch = require("torch", "train", "tunebook.train.GhostBatchNorm")
F = torch.nn.functional

__all__ = ["GhostBatchNorm", "GhostBatchNorm1d", "GhostBatchNorm2d", "GhostBatchNormError"]

_INPUT_DIMS = {1: (2, 3), 2: (4,), 3: (5,)}  # spatial dims -> accepted input ranks


class GhostBatchNormError(SpecError):
    """A ghost batch norm setting is invalid; fix the named field."""

    subject = "invalid ghost batch norm"


class GhostBatchNorm(torch.nn.Module):
    """Batch norm over ``(N, C, *spatial)`` inputs with statistics per virtual batch (see the module docstring).

    ``spatial_dims`` is 1 for ``(N, C)`` or ``(N, C, L)`` inputs, 2 for
    ``(N, C, H, W)``, 3 for ``(N, C, D, H, W)``. ``eps``, ``momentum`` and
    ``affine`` mean what they mean for ``torch.nn.BatchNorm``.
    """

    def __init__(self, num_features: int, virtual_batch_size: int, spatial_dims: int = 1, eps: float = 1e-5,
                 momentum: float = 0.1, affine: bool = True) -> None:
        super().__init__()
        _validate(num_features, virtual_batch_size, spatial_dims, momentum)
        self.num_features, self.virtual_batch_size, self.spatial_dims = num_features, virtual_batch_size, spatial_dims
        self.eps, self.momentum = eps, momentum
        self.weight = torch.nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = torch.nn.Parameter(torch.zeros(num_features)) if affine else None
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def extra_repr(self) -> str:
        return (f"{self.num_features}, virtual_batch_size={self.virtual_batch_size}, "
                f"spatial_dims={self.spatial_dims}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.weight is not None}")

    def virtual_batches(self, batch_size: int) -> int:
        """How many virtual batches a batch of ``batch_size`` examples is split into in training."""
        return max(1, batch_size // self.virtual_batch_size)

    def forward(self, x: "torch.Tensor") -> "torch.Tensor":
        ranks = _INPUT_DIMS[self.spatial_dims]
        if x.dim() not in ranks:
            raise ValueError(f"{type(self).__name__} expects inputs with {' or '.join(map(str, ranks))} "
                             f"dimensions, got shape {tuple(x.shape)}")
        if not self.training:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
        chunks = torch.tensor_split(x, self.virtual_batches(x.shape[0]), dim=0)
        out = torch.cat([F.batch_norm(c, None, None, self.weight, self.bias, True, 0.0, self.eps) for c in chunks])
        self._update_running_stats(chunks)
        return out

    @torch.no_grad()
    def _update_running_stats(self, chunks: tuple) -> None:
        reduce = [0, *range(2, chunks[0].dim())]
        means = torch.stack([c.mean(dim=reduce) for c in chunks]).mean(dim=0)
        variances = torch.stack([c.var(dim=reduce, unbiased=True) for c in chunks]).mean(dim=0)
        self.running_mean.lerp_(means.to(self.running_mean.dtype), self.momentum)
        self.running_var.lerp_(variances.to(self.running_var.dtype), self.momentum)
        self.num_batches_tracked.add_(1)


def _validate(num_features: int, virtual_batch_size: int, spatial_dims: int, momentum: float) -> None:
    problems = []
    for name, value, low in (("num_features", num_features, 1), ("virtual_batch_size", virtual_batch_size, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            problems.append((name, f"must be an integer >= {low}, got {value!r}"))
    if spatial_dims not in _INPUT_DIMS:
        problems.append(("spatial_dims", f"must be 1, 2 or 3, got {spatial_dims!r}"))
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0.0 <= momentum <= 1.0:
        problems.append(("momentum", f"must be a number in [0, 1], got {momentum!r}"))
    if problems:
        raise GhostBatchNormError(problems)


class GhostBatchNorm1d(GhostBatchNorm):
    """Ghost batch norm for ``(N, C)`` or ``(N, C, L)`` inputs (like ``torch.nn.BatchNorm1d``)."""

    def __init__(self, num_features: int, virtual_batch_size: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True) -> None:
        super().__init__(num_features, virtual_batch_size, 1, eps, momentum, affine)


class GhostBatchNorm2d(GhostBatchNorm):
    """Ghost batch norm for ``(N, C, H, W)`` inputs (like ``torch.nn.BatchNorm2d``)."""

    def __init__(self, num_features: int, virtual_batch_size: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True) -> None:
        super().__init__(num_features, virtual_batch_size, 2, eps, momentum, affine)
