"""What every plot shares: the guarded plotly import, study colours, plain values."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from tunebook.core.imports import require
from tunebook.core.records import trial_name

# D3's category10: one colour per study / scientific value, in order
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf")
INFEASIBLE_COLOR = "red"
FAINT_COLOR = "rgba(150, 150, 150, 0.35)"


def go():
    """``plotly.graph_objects``, or MissingExtraError naming ``tunebook[report]``."""
    require("plotly", "report", "plots")
    return require("plotly.graph_objects", "report", "plots")


def figure():
    """An empty ``go.Figure`` on plotly's "plotly_white" template.

    Given at construction, the template is copied once; a figure made bare
    first copies plotly's default template, then the one set later.
    """
    return go().Figure(layout={"template": white_template()})


def make_subplots(**kwargs: Any):
    """``plotly.subplots.make_subplots`` laid out on ``figure()``."""
    require("plotly", "report", "plots")
    return require("plotly.subplots", "report", "plots").make_subplots(figure=figure(), **kwargs)


# the trace types tunebook's figures draw (and a few a plot may soon): their plotly_white defaults are kept
DRAWN_TRACES = ("scatter", "scattergl", "bar", "box", "histogram", "heatmap")


@lru_cache(maxsize=1)
def white_template():
    """plotly's "plotly_white" template, its trace defaults cut to ``DRAWN_TRACES``; made once, passed as an object.

    Each figure copies its template: the whole one holds defaults for 24
    trace types (7 KB of JSON) and cost ~9 ms a figure; cut, ~4 ms, and the
    same look for the traces drawn (the layout part is whole).
    """
    require("plotly", "report", "plots")
    white = require("plotly.io", "report", "plots").templates["plotly_white"]
    data = {kind: traces for kind, traces in white.data.to_plotly_json().items() if kind in DRAWN_TRACES}
    return go().layout.Template(layout=white.layout, data=data)


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def plain(value: Any) -> Any:
    """numpy scalars as Python ones; NaN stays a float NaN."""
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


def floats(values: Any) -> tuple[float, ...]:
    """The values as a tuple of Python floats (numeric arrays converted in one call)."""
    array = np.asarray(values)
    if array.dtype.kind in "biuf":
        return tuple(array.astype(float).tolist())
    return tuple(float(v) for v in values)



def numbered(study: str, field: str) -> str:
    """A hover-template piece naming a trial of ``study`` from its number in ``field`` (``STUDY/NUMBER``).

    Spelt as ``core.records.trial_name`` does; figures ship numbers, which
    plotly stores compactly, instead of one name string per point.
    """
    return trial_name(study, 0).removesuffix("0") + field
