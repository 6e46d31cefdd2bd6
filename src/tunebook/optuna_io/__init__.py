"""tunebook and Optuna, both ways: export an experiment as Optuna studies, import Optuna studies as an experiment.

``export_experiment`` writes each study of an experiment to an Optuna storage
(so ``optuna-dashboard URL`` opens it); ``read_optuna`` reads Optuna studies
into an import plan that ``record_optuna`` writes all or nothing. How
spaces, states and curves map is in ``mapping``. Needs the ``optuna`` extra.
"""

from __future__ import annotations

from tunebook.optuna_io.export import ExportSummary, OptunaExportError, export_experiment
from tunebook.optuna_io.read import OptunaImport, read_optuna
from tunebook.optuna_io.record import record_optuna

__all__ = ["ExportSummary", "OptunaExportError", "OptunaImport", "export_experiment", "read_optuna",
           "record_optuna"]
