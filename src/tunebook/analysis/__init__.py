"""Analysis: pure functions from an experiment's frames to results and findings.

``load`` reads an experiment from a store once; everything else takes the
``ExperimentData`` it returns and never touches the store.
"""

from tunebook.analysis.data import ExperimentData, latest_points, load
from tunebook.analysis.findings import Finding, Severity

__all__ = ["ExperimentData", "Finding", "Severity", "latest_points", "load"]
