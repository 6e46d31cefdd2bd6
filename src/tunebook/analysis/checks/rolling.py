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

It sorts every window (memory and time n x window), so past ``DIRECT_CELLS``
cells it hands over to pandas' own skiplist (n log window), which is then the
faster one anyway.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["DIRECT_CELLS", "rolling_median"]

DIRECT_CELLS = 4_000_000  # points x window above which pandas computes the median instead


def rolling_median(values: np.ndarray, window: int, min_periods: int | None = None,
                   center: bool = False) -> np.ndarray:
    """``pd.Series(values).rolling(window, min_periods, center).median().to_numpy()``, in numpy (float64)."""
    values = np.asarray(values, dtype=float)
    values = np.where(np.isinf(values), np.nan, values)
    n = len(values)
    min_periods = window if min_periods is None else min_periods
    if n == 0:
        return values.copy()
    if n * window > DIRECT_CELLS:
        import pandas as pd

        return pd.Series(values).rolling(window, min_periods=min_periods, center=center).median().to_numpy()
    lead = (window - 1) // 2 if center else 0  # points after the one a centred window is labelled with
    padded = np.concatenate([np.full(window - 1, np.nan), values, np.full(lead, np.nan)])
    windows = np.sort(sliding_window_view(padded, window)[lead:lead + n], axis=1)  # NaN sort last
    counts = window - np.isnan(windows).sum(axis=1)
    low, high = np.maximum(counts - 1, 0) // 2, counts // 2
    rows = np.arange(n)
    high = np.minimum(high, window - 1)
    median = (windows[rows, high] + windows[rows, low]) / 2
    median[(counts < max(min_periods, 1))] = np.nan
    return median
