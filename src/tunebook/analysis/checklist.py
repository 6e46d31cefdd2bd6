"""The playbook's checklist: every check, in the order a reader should meet them."""

from __future__ import annotations

from typing import Callable

from tunebook.analysis.checks.best_step import check_best_step
from tunebook.analysis.checks.boundary import check_search_space_boundary
from tunebook.analysis.checks.caveats import check_fixed_caveats
from tunebook.analysis.checks.compute import check_saturated_early, check_still_improving
from tunebook.analysis.checks.curves import TRAIN_LOSS_METRICS
from tunebook.analysis.checks.grad_norm import GRAD_NORM_METRICS, check_grad_norm
from tunebook.analysis.checks.infeasible import check_infeasible_fraction
from tunebook.analysis.checks.late_variance import check_late_variance
from tunebook.analysis.checks.overfitting import check_overfitting
from tunebook.analysis.checks.periodicity import check_periodicity
from tunebook.analysis.checks.sampled_enough import check_sampled_enough
from tunebook.analysis.checks.training_loss import check_instability, check_training_loss_increasing
from tunebook.analysis.checks.trial_variance import check_trial_variance
from tunebook.analysis.data import ExperimentData
from tunebook.analysis.findings import Finding, Severity

Check = Callable[[ExperimentData], list[Finding]]

# The playbook's questions, in its order: is the search space large enough, did
# we sample enough (and is the gap beyond trial variance), how many trials are infeasible, optimization issues, what
# the training curves of the best trials say; then the caveats.
CHECKS: dict[str, Check] = {
    "search_space_boundary": check_search_space_boundary,
    "sampled_enough": check_sampled_enough,
    "trial_variance": check_trial_variance,
    "infeasible_fraction": check_infeasible_fraction,
    "training_loss_increasing": check_training_loss_increasing,
    "instability": check_instability,
    "overfitting": check_overfitting,
    "late_variance": check_late_variance,
    "periodicity": check_periodicity,
    "still_improving": check_still_improving,
    "saturated_early": check_saturated_early,
    "best_step": check_best_step,
    "grad_norm": check_grad_norm,
    "fixed_caveats": check_fixed_caveats,
}

_RANK = {Severity.PROBLEM: 0, Severity.WARNING: 1, Severity.INFO: 2}


def metrics_read(objective_metric: str) -> tuple[str, ...]:
    """The curves the checklist and the report's plots read: the objective's, the training loss, grad norms.

    ``load(name, store, metrics=metrics_read(...))`` leaves every other
    logged curve on disk.
    """
    return tuple(dict.fromkeys((objective_metric, *TRAIN_LOSS_METRICS, *GRAD_NORM_METRICS)))


def run_checklist(data: ExperimentData, only: list[str] | None = None) -> list[Finding]:
    """Every check's findings, problems first, then in the checklist's order."""
    unknown = sorted(set(only or ()) - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    findings = [f for name, check in CHECKS.items() if not only or name in only for f in check(data)]
    order = {name: i for i, name in enumerate(CHECKS)}
    return sorted(findings, key=lambda f: (_RANK[f.severity], order.get(f.id, len(order))))
