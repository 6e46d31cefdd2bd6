"""The whole checklist on an experiment: ordering and selection."""

from __future__ import annotations

import pytest

from tunebook.analysis.checklist import CHECKS, run_checklist
from tunebook.analysis.findings import Severity

from tests.analysis.synthetic import experiment, quadratic, sweep


def _data():
    # the optimum lies past the top of the lr range: the boundary check fires
    return sweep(experiment(fixed={"batch_size": 64}, trials=24), quadratic(1.3, noise=0.01))


def test_problems_come_first_then_the_checklist_order():
    findings = run_checklist(_data())
    ranks = [{Severity.PROBLEM: 0, Severity.WARNING: 1, Severity.INFO: 2}[f.severity] for f in findings]
    assert ranks == sorted(ranks)
    assert findings[-1].id == "fixed_caveats"
    assert any(f.id == "search_space_boundary" and f.severity is not Severity.INFO for f in findings)


def test_only_runs_the_named_checks_and_rejects_unknown_ones():
    findings = run_checklist(_data(), only=["fixed_caveats"])
    assert [f.id for f in findings] == ["fixed_caveats"]
    with pytest.raises(ValueError, match="overfiting"):
        run_checklist(_data(), only=["overfiting"])


def test_every_finding_is_plain_data():
    import json

    for finding in run_checklist(_data()):
        json.dumps(finding.to_dict())
    assert len(CHECKS) == 12
