"""Which trials' curves the report reads, beyond the objective's curve of every trial.

``report_reads(data)`` names them for ``analysis.load(..., chooser=report_reads)``
(see ``analysis.curves_read``): the complete trials the checks examine
(``checks.curves.examined_trials``: all of them up to 200, else the best
five of each scientific value and a spread over the ranking), the best
trial of each scientific value, and the trials the curves plot draws
(``plots.curves.drawn_trials``). The gradient-norm check and plot read the
examined trials too. Every other curve the report shows is the objective's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tunebook.analysis.checks.curves import best_trials, examined_trials
from tunebook.plots.curves import drawn_trials

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

__all__ = ["report_reads"]


def report_reads(data: "ExperimentData") -> set[int]:
    """The trials whose training-loss (and gradient-norm) curves the checklist and the report's plots read."""
    return set(examined_trials(data)) | set(best_trials(data).values()) | drawn_trials(data)
