"""Trials as points of the unit cube, one axis per searched hyperparameter, for fANOVA.

fANOVA measures variance under the uniform distribution on the cube, so each
axis is laid out the way the search samples it:

* a range: its position on its own scale (``checks.boundary.unit_position``:
  log ranges in log space), 0 at ``low``, 1 at ``high``;
* a choice of K values: value k owns the cell [k/K, (k+1)/K) and sits at its
  middle (an ordinal code: a tree reaches any subset of values in several
  splits);
* a conditional hyperparameter (one that exists only in some branches),
  or any with trials that lack it: "inactive" is a value of its own. A range
  keeps its first quarter [0, 0.25) for it and maps its values into
  [0.25, 1]; a choice gets one more cell. Its "inactive" marks the other
  branches exactly as its parent does, so a parent's effect is shared
  between the parent and its branch hyperparameters: read them together.

Only searched (scientific and nuisance) hyperparameters that take two or more
values among the trials get an axis.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from tunebook.analysis.checks.boundary import unit_position
from tunebook.core.domains import Choice, Range, same_value

if TYPE_CHECKING:
    import pandas as pd

    from tunebook.core.space import Hyperparameter, SearchSpace

INACTIVE_SHARE = 0.25

__all__ = ["Axes", "axes", "restrict"]


@dataclasses.dataclass(frozen=True)
class Axes:
    """``points`` (n x d) in [0, 1]^d, the hyperparameter id of each column (``names``) and its number of
    cells (``cells``: a choice's K, one more with "inactive"; 0 for a range)."""

    points: np.ndarray
    names: tuple[str, ...]
    cells: tuple[int, ...]


def axes(space: "SearchSpace", trials: "pd.DataFrame") -> Axes:
    """The unit-cube coordinates of ``trials`` (rows as ``ExperimentData.trials``)."""
    columns, names, cells = [], [], []
    for hp in space:
        if hp.role == "fixed" or hp.id not in trials.columns or not isinstance(hp.domain, (Range, Choice)):
            continue
        raw = trials[hp.id]
        if raw.dropna().nunique() < 2 and not (raw.notna().any() and raw.isna().any()):
            continue
        inactive = raw.isna().to_numpy()
        conditional = bool(hp.condition) or bool(inactive.any())
        if isinstance(hp.domain, Range):
            columns.append(_range_axis(hp, raw, inactive, conditional))
            cells.append(0)
        else:
            columns.append(_choice_axis(hp.domain, raw, inactive, conditional))
            cells.append(len(hp.domain.values) + int(conditional))
        names.append(hp.id)
    points = np.column_stack(columns) if columns else np.zeros((len(trials), 0))
    return Axes(points, tuple(names), tuple(cells))


def _range_axis(hp: "Hyperparameter", raw: "pd.Series", inactive: np.ndarray, conditional: bool) -> np.ndarray:
    values = raw.to_numpy(dtype=float, na_value=np.nan)
    position = unit_position(hp.domain, np.where(inactive, hp.domain.low, values))
    if not conditional:
        return position
    return np.where(inactive, INACTIVE_SHARE / 2, INACTIVE_SHARE + (1 - INACTIVE_SHARE) * position)


def _choice_axis(domain: Choice, raw: "pd.Series", inactive: np.ndarray, conditional: bool) -> np.ndarray:
    count = len(domain.values) + int(conditional)
    codes = np.array([
        count - 1 if off else next((k for k, v in enumerate(domain.values) if same_value(value, v)), count - 1)
        for value, off in zip(raw.tolist(), inactive)
    ], dtype=float)
    return (codes + 0.5) / count


def restrict(found: Axes, rows: np.ndarray) -> Axes:
    """The axes of the trials ``rows`` (a boolean mask), each axis rescaled to the box those trials span.

    A range's box runs from the smallest to the largest position seen; a
    choice's covers the cells of the values seen. An axis the trials hold
    constant keeps its (single) value at 0.5: nothing varies along it.
    """
    points = found.points[rows]
    scaled = np.empty_like(points)
    for column, count in enumerate(found.cells):
        x = points[:, column]
        low, high = (float(x.min()), float(x.max())) if len(x) else (0.0, 1.0)
        if count:  # a choice: whole cells, 1 / K wide around each code
            low, high = low - 0.5 / count, high + 0.5 / count
        scaled[:, column] = (x - low) / (high - low) if high > low else 0.5
    return Axes(scaled, found.names, found.cells)
