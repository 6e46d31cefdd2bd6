"""Rolling medians in numpy, with pandas' ``Series.rolling(...).median()`` semantics, several times faster.

The curve checks take a few running medians of each of hundreds of curves;
pandas spends most of that time per call, not per point. ``rolling_median``
gives the same numbers (a median is an order statistic, so they are equal to
the bit) for the same arguments, and ``rolling_medians`` those of many
curves in one call:

- the window ending at each point (``center=False``) or centred on it
  (``center=True``: it ends ``(window - 1) // 2`` points after it, as in pandas);
- NaN and infinite points are skipped (pandas reads an infinity as NaN); a window with fewer than ``min_periods`` non-NaN
  points (default: ``window``) gives NaN;
- an even count takes the mean of the two middle points, ``(a + b) / 2``.

Windows wholly inside a run of finite points (nearly all of them on a
training curve) are read with scipy's one-dimensional rank filter (n log
window), one call over the whole array; the rest (the partial windows at
the ends, windows holding a NaN) sort each window (memory and time rows x window), and past ``DIRECT_CELLS``
such cells pandas' own skiplist computes the whole median instead.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["DIRECT_CELLS", "rolling_median", "rolling_medians"]

DIRECT_CELLS = 4_000_000  # sorted cells (rows x window) above which pandas computes the median instead


def rolling_medians(arrays: Sequence[np.ndarray], window: int, min_periods: int | None = None,
                    center: bool = False) -> list[np.ndarray]:
    """``rolling_median`` of each array, in one call over them all (its fixed cost paid once, not per curve).

    The arrays are laid end to end with ``window`` NaNs between them: a
    window labelled with a point of one array reaches at most ``window - 1``
    points past it, into the NaNs and never into the next array, and a NaN
    counts as no point, as a point beyond an array's end does. Each array's
    medians are therefore those of ``rolling_median`` on it alone, to the bit.
    """
    if not arrays:
        return []
    gap = np.full(window, np.nan)
    starts = np.cumsum([0] + [len(a) + window for a in arrays[:-1]])
    joined = np.concatenate([piece for a in arrays for piece in (np.asarray(a, dtype=float), gap)])
    medians = rolling_median(joined, window, min_periods, center)
    return [medians[start:start + len(a)] for start, a in zip(starts.tolist(), arrays)]


def rolling_median(values: np.ndarray, window: int, min_periods: int | None = None,
                   center: bool = False) -> np.ndarray:
    """``pd.Series(values).rolling(window, min_periods, center).median().to_numpy()``, in numpy (float64)."""
    values = np.asarray(values, dtype=float)
    values = np.where(np.isinf(values), np.nan, values)
    n = len(values)
    min_periods = window if min_periods is None else min_periods
    if n == 0:
        return values.copy()
    lead = (window - 1) // 2 if center else 0  # points after the one a centred window is labelled with
    median = np.full(n, np.nan)
    first = window - 1 - lead  # the row a window starting at point 0 is labelled with
    full = _full_window_medians(values, window)  # by the window's first point; NaN where a NaN lies inside
    median[first:first + len(full)] = full
    rest = np.flatnonzero(np.isnan(median))
    in_range = np.minimum(rest + lead, n - 1) - np.maximum(rest + lead - window + 1, 0) + 1
    rest = rest[in_range >= max(min_periods, 1)]  # the others cannot hold min_periods points: NaN unsorted
    if len(rest) * window > DIRECT_CELLS:
        import pandas as pd

        return pd.Series(values).rolling(window, min_periods=min_periods, center=center).median().to_numpy()
    if len(rest):
        median[rest] = _sorted_medians(values, window, lead, rest, min_periods)
    return median


def _full_window_medians(values: np.ndarray, window: int) -> np.ndarray:
    """The median of ``values[j:j + window]`` for each j whose window holds no NaN (NaN for the others).

    One rank filter over the whole array, its NaNs read as 0 (a window
    holding one is NaN here whatever the filter made of it): a window wholly
    of finite points holds the same points, so the same order statistic.
    """
    count = len(values) - window + 1
    out = np.full(max(count, 0), np.nan)
    if count <= 0:
        return out
    from scipy.ndimage import rank_filter

    finite = np.isfinite(values)
    if not finite.any():
        return out
    filled, half = np.where(finite, values, 0.0), window // 2
    low = rank_filter(filled, (window - 1) // 2, size=window, mode="nearest")
    if window % 2 == 0:
        low = (low + rank_filter(filled, window // 2, size=window, mode="nearest")) / 2
    gaps = np.concatenate([[0], np.cumsum(~finite)])  # non-finite points before each index
    whole = gaps[window:] - gaps[:count] == 0
    out[whole] = low[half:half + count][whole]
    return out


def _sorted_medians(values: np.ndarray, window: int, lead: int, rows: np.ndarray, min_periods: int) -> np.ndarray:
    """The medians of the windows labelled ``rows``, each sorted (NaN points skipped; NaN under ``min_periods``)."""
    n = len(values)
    padded = np.concatenate([np.full(window - 1, np.nan), values, np.full(lead, np.nan)])
    windows = np.sort(sliding_window_view(padded, window)[lead:lead + n][rows], axis=1)  # NaN sort last
    counts = window - np.isnan(windows).sum(axis=1)
    low, high = np.maximum(counts - 1, 0) // 2, np.minimum(counts // 2, window - 1)
    picked = np.arange(len(rows))
    median = (windows[picked, high] + windows[picked, low]) / 2
    median[counts < max(min_periods, 1)] = np.nan
    return median
