"""Rolling medians in numpy, with pandas' ``Series.rolling(...).median()`` semantics, several times faster.

The curve checks take a few running medians of each of hundreds of curves;
pandas spends most of that time per call, not per point. ``rolling_median``
gives the same numbers (a median is an order statistic, so they are equal to
the bit) for the same arguments:

- the window ending at each point (``center=False``) or centred on it
  (``center=True``: it ends ``(window - 1) // 2`` points after it, as in pandas);
- NaN and infinite points are skipped (pandas reads an infinity as NaN); a window with fewer than ``min_periods`` non-NaN
  points (default: ``window``) gives NaN;
- an even count takes the mean of the two middle points, ``(a + b) / 2``.

Windows wholly inside a run of finite points (nearly all of them on a
training curve) are read with scipy's one-dimensional rank filter (n log
window); the rest (the partial windows at the ends, windows holding a NaN)
sort each window (memory and time rows x window), and past ``DIRECT_CELLS``
such cells pandas' own skiplist computes the whole median instead.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["DIRECT_CELLS", "rolling_median"]

DIRECT_CELLS = 4_000_000  # sorted cells (rows x window) above which pandas computes the median instead


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
    """The median of ``values[j:j + window]`` for each j whose window holds no NaN (NaN for the others)."""
    count = len(values) - window + 1
    out = np.full(max(count, 0), np.nan)
    if count <= 0:
        return out
    from scipy.ndimage import rank_filter

    finite = np.isfinite(values)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], finite, [False]]).astype(np.int8)))
    for start, stop in zip(edges[::2].tolist(), edges[1::2].tolist()):  # runs of finite points
        if stop - start < window:
            continue
        run, half = values[start:stop], window // 2
        low = rank_filter(run, (window - 1) // 2, size=window, mode="nearest")
        if window % 2 == 0:
            low = (low + rank_filter(run, window // 2, size=window, mode="nearest")) / 2
        out[start:stop - window + 1] = low[half:half + stop - start - window + 1]
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
