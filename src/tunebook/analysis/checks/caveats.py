"""Check ``fixed_caveats``: the fixed hyperparameters, as caveats on any conclusion.

Playbook ("Identifying scientific, nuisance, and fixed hyperparameters"): "By
fixing certain hyperparameters for a set of experiments, we must accept that
conclusions derived from the experiments might not be valid for other
settings of the fixed hyperparameters. In other words, fixed hyperparameters
create caveats for any conclusions we draw from the experiments."

Always exactly one INFO finding for the experiment, listing each fixed
hyperparameter (by id, so a branch's own value is told apart) and its value,
or saying there are none. Scientific values fixed per study are not caveats:
they are what is being compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tunebook.analysis.findings import Finding, Severity
from tunebook.core.space import format_value

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

ID = "fixed_caveats"
SECTION = "Identifying scientific, nuisance, and fixed hyperparameters"

__all__ = ["check_fixed_caveats"]


def check_fixed_caveats(data: "ExperimentData") -> list[Finding]:
    """One INFO finding: the fixed hyperparameters and their values, or that there are none."""
    fixed = [(hp.id, hp.domain.value) for hp in data.experiment.caveats]
    evidence = {"fixed": {name: value for name, value in fixed}}
    if not fixed:
        message = ("No hyperparameter is fixed in the spec: the conclusions carry no caveats from fixed values "
                   "(beyond whatever the training program itself hard-codes).")
        action = "Nothing to do; keep in mind what the training program hard-codes."
        return [Finding(ID, Severity.INFO, message, evidence, action, SECTION)]
    listed = ", ".join(f"{name}={format_value(value)}" for name, value in fixed)
    message = (f"Conclusions hold for these fixed hyperparameters only: {listed}. They might not be valid for "
               "other settings of them.")
    action = ("State these caveats with any conclusion. If one of them may interact with the scientific "
              "hyperparameters, consider making it a nuisance hyperparameter: the more it interacts, the more "
              "damaging it is to fix its value.")
    return [Finding(ID, Severity.INFO, message, evidence, action, SECTION)]
