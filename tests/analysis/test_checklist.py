"""The whole checklist on an experiment: ordering and selection."""

from __future__ import annotations

import numpy as np
import pytest

from tunebook.analysis.checklist import CHECKS, run_checklist
from tunebook.analysis.findings import Severity

from tests.analysis import curve_cases as cc
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
    assert len(CHECKS) == 14 and "periodicity" in CHECKS and "trial_variance" in CHECKS  # issue 13, issue 10


def _big_sweep(n_per_depth: int, unstable_every: int = 0):
    """Two depths x n trials; every ``unstable_every``-th trial's training loss jumps back up mid-training."""
    rng = np.random.default_rng(1)
    trials = []
    for depth in (1, 2):
        for j in range(n_per_depth):
            train = cc.noisy(cc.decay(200, floor=0.2 + 0.001 * j), 0.005, rng)
            if unstable_every and j % unstable_every == unstable_every - 1:
                train[120:] += 1.0
            trials.append({"depth": depth, "lr": 10 ** -(1 + j / n_per_depth),
                           "curves": {"train/loss": train, "valid/loss": cc.decay(20, floor=0.3 + 0.001 * j)}})
    return cc.make_data(trials)


def test_checks_over_every_trial_read_a_bounded_spread_of_large_sweeps():
    from tunebook.analysis.checks.curves import EXAMINED, TOP_EXAMINED, best_trials, examined_trials

    small = _big_sweep(10)
    assert examined_trials(small) == sorted(small.trials.trial_id.tolist())
    big = _big_sweep(300)
    chosen = examined_trials(big, limit=100)
    assert len(chosen) <= 100 and set(best_trials(big).values()) <= set(chosen)
    ranks = big.trials.set_index("trial_id")["objective"].rank()
    assert ranks[chosen].min() <= 2 and ranks[chosen].max() >= 0.95 * len(big.trials)  # best to worst
    for depth_first in (1, 301):  # the best TOP_EXAMINED of each scientific value are in
        assert set(range(depth_first, depth_first + TOP_EXAMINED)) <= set(chosen)
    assert len(examined_trials(big)) == EXAMINED


def test_instability_share_is_estimated_from_the_spread_and_said_so():
    big = _big_sweep(300, unstable_every=4)  # a quarter of the trials are unstable
    (finding,) = run_checklist(big, only=["instability"])
    share = len(finding.evidence["trials"]) / finding.evidence["checked_trials"]
    assert 0.15 < share < 0.35
    assert "a spread of 200 of the 600 complete trials was examined" in finding.message
