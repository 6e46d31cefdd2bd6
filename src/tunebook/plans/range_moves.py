"""How a range moves between rounds: expanded past a crowded edge, cut at an infeasible region, narrowed.

All three work on the range's own scale (log ranges in log space), as the
search samples it:

* ``expand``: past the crowded edge by ``factor``. A log range's edge is
  multiplied (``high * factor``) or divided (``low / factor``); a linear
  range grows by ``factor - 1`` times its width on that side. A linear range
  that starts at or above 0 is not taken below 0, and the usual unit-interval
  hyperparameters (momentum, Adam's betas, dropout, label smoothing) are not
  taken to 1 or beyond: there the new edge is halfway to the limit.
* ``cut``: the range ends where an infeasible region starts (its nearest
  feasible value).
* ``narrowed``: the playbook's "narrow our search spaces around the optimal
  value", only where the sampling supports it. The top ``k`` trials span a
  part ``s`` of the range (on its scale). Were the hyperparameter without
  effect, they would be ``k`` uniform draws, whose span is at most ``s`` with
  probability ``k s^(k-1) - (k-1) s^k``; the range is narrowed only when that
  is below ``NARROW_P`` = 0.01, ``k`` >= ``NARROW_MIN_TOP`` = 5, and the new
  range (the span padded on each side by ``PAD`` = half of itself, at least
  ``MIN_PAD`` = 5 % of the old range, so the next round still sees the
  good region's edges) is at most ``NARROW_MAX`` = 70 % of the old one
  (narrowing by less is not worth a changed space).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np

from tunebook.analysis.checks.boundary import unit_position
from tunebook.core.domains import Range

UNIT_INTERVAL = ("momentum", "beta1", "beta2", "dropout", "label_smoothing", "rho")
NARROW_P, NARROW_MIN_TOP, PAD, MIN_PAD, NARROW_MAX = 0.01, 5, 0.5, 0.05, 0.70

__all__ = ["Narrowing", "cut", "expand", "narrowed", "span_p_value"]


@dataclasses.dataclass(frozen=True)
class Narrowing:
    """The top ``k`` trials' span (share of the old range on its scale), its p-value, and the new range."""

    k: int
    span: float
    p_value: float
    domain: Range | None  # None: not narrowed (see ``why``)
    why: str


def _from_unit(domain: Range, u: float) -> float:
    if domain.scale == "log":
        lo, hi = math.log(domain.low), math.log(domain.high)
        return math.exp(lo + u * (hi - lo))
    return domain.low + u * (domain.high - domain.low)


def _rounded(domain: Range, low: float, high: float) -> Range:
    if domain.type == "int":
        low, high = math.floor(low), math.ceil(high)
        high = max(high, low + 1)
    else:
        low, high = float(f"{low:.4g}"), float(f"{high:.4g}")
    return Range(low, high, domain.scale, domain.type)


def expand(domain: Range, side: str, factor: float, name: str) -> tuple[Range, str]:
    """``domain`` expanded past its ``side`` ('low'/'high') edge by ``factor`` (> 1), and a note when limited."""
    low, high, note = domain.low, domain.high, ""
    if domain.scale == "log":
        low, high = (low / factor, high) if side == "low" else (low, high * factor)
    else:
        grow = (factor - 1) * (high - low)
        low, high = (low - grow, high) if side == "low" else (low, high + grow)
        if side == "low" and domain.low >= 0 > low:
            low, note = domain.low / 2, " (halfway to 0: it stays non-negative)"
    if name in UNIT_INTERVAL and high >= 1 > domain.high:
        high, note = (1 + domain.high) / 2, " (halfway to 1: it stays below 1)"
    return _rounded(domain, low, high), note


def cut(domain: Range, side: str, nearest_ok: float) -> Range:
    """``domain`` ending at ``nearest_ok`` on ``side`` ('above': its high end; 'below': its low end)."""
    if side == "above":
        return _rounded(domain, domain.low, nearest_ok)
    return _rounded(domain, nearest_ok, domain.high)


def span_p_value(k: int, span: float) -> float:
    """P(the span of ``k`` uniform draws on [0, 1] is <= ``span``) = k s^(k-1) - (k-1) s^k."""
    s = min(max(span, 0.0), 1.0)
    return float(k * s ** (k - 1) - (k - 1) * s ** k)


def narrowed(domain: Range, top_values: Sequence[float]) -> Narrowing:
    """Whether and how to narrow ``domain`` around ``top_values`` (the best trials' values), by the module's rule."""
    position = unit_position(domain, np.asarray(top_values, dtype=float))
    k = len(position)
    if k < NARROW_MIN_TOP:
        return Narrowing(k, 1.0, 1.0, None, f"too few trials to tell: {k} top trials, {NARROW_MIN_TOP} needed")
    low_u, high_u = float(position.min()), float(position.max())
    span = high_u - low_u
    p = span_p_value(k, span)
    pad = max(PAD * span, MIN_PAD)
    new_low, new_high = max(0.0, low_u - pad), min(1.0, high_u + pad)
    if p >= NARROW_P:
        return Narrowing(k, span, p, None, f"the top {k} span {span:.0%} of the range: as wide as chance "
                                           f"(p = {p:.2g} >= {NARROW_P})")
    if new_high - new_low > NARROW_MAX:
        return Narrowing(k, span, p, None, f"the top {k} span {span:.0%} of the range; padded, narrowing would "
                                           f"keep {new_high - new_low:.0%} of it (not worth a change)")
    new = _rounded(domain, _from_unit(domain, new_low), _from_unit(domain, new_high))
    return Narrowing(k, span, p, new, f"the top {k} trials span {span:.0%} of the range (p = {p:.2g} that "
                                      f"{k} draws of a hyperparameter without effect span so little)")
