"""``infeasible_fraction``: the share of infeasible and failed trials per study, and where they sit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tunebook.analysis.checks.infeasible import SECTION, bad_region, check_infeasible_fraction
from tunebook.analysis.findings import Severity

from . import synthetic


def planted(n_bad: int, n: int = 20, state: str = "infeasible"):
    """``n`` trials at lr = 1e-4 ... 1e-2, ``n_bad`` of them bad and spread out (never the two extremes)."""
    exp = synthetic.experiment()
    bad = set(np.round(np.linspace(1, n - 2, n_bad)).astype(int)) if n_bad else set()
    assert len(bad) == n_bad
    rows = [("default", {"lr": 1e-4 * 100 ** (i / n)}, state if i in bad else 1.0) for i in range(n)]
    return synthetic.frames(exp, rows)


def test_a_study_without_infeasible_or_failed_trials_is_silent():
    assert check_infeasible_fraction(planted(0)) == []


@pytest.mark.parametrize(("n_bad", "severity"), [(1, Severity.INFO), (3, Severity.INFO), (4, Severity.WARNING),
                                                 (9, Severity.WARNING), (10, Severity.PROBLEM)])
def test_severity_grows_with_the_share(n_bad, severity):
    [finding] = check_infeasible_fraction(planted(n_bad))
    assert finding.severity is severity and finding.section == SECTION and finding.study == "default"
    assert finding.evidence["kind"] == "infeasible" and finding.evidence["n"] == n_bad
    assert finding.evidence["share"] == pytest.approx(n_bad / 20)
    data = planted(n_bad)
    bad = data.trials.query("state == 'infeasible'")
    assert finding.evidence["trials"] == [data.trial_name(t) for t in bad["trial_id"]]  # names, never store ids
    assert f"{n_bad} of 20 finished trials ({n_bad / 20:.0%})" in finding.message and "infeasible" in finding.message


def test_a_large_share_spread_over_the_range_points_at_the_search_space_and_at_bugs():
    [finding] = check_infeasible_fraction(planted(10))
    assert finding.evidence["regions"] == []
    assert "No single range hyperparameter separates them" in finding.message
    assert "adjust the search space" in finding.action and "bug in the training code" in finding.action


def test_infeasible_trials_above_a_threshold_are_located():
    exp = synthetic.experiment(nuisance={"lr": synthetic.LR, "wd": {"low": 1e-6, "high": 1e-2, "scale": "log"}},
                               scientific={"width": [1, 2]}, trials=30)
    data = synthetic.sweep(exp, lambda p: None if p["lr"] > 0.05 else 1.0)
    findings = check_infeasible_fraction(data)
    assert [f.study for f in findings] == ["width=1", "width=2"]
    for finding in findings:
        trials = data.trials[data.trials["study"] == finding.study]
        infeasible = trials[trials["state"] == "infeasible"]
        [region] = finding.evidence["regions"]  # lr only: wd does not separate them
        assert region["param"] == "lr" and region["side"] == "above"
        assert region["threshold"] == infeasible["lr"].min()
        assert region["nearest_ok"] == trials.loc[trials["state"] == "complete", "lr"].max()
        # both studies saw the same quasi-random nuisance points: the region is judged over both
        assert finding.evidence["pooled_studies"] == [finding.study, *({"width=1", "width=2"} - {finding.study})]
        pooled = data.trials[data.trials["state"] == "infeasible"]
        assert sorted(region["trials"]) == sorted(data.trial_name(t) for t in pooled["trial_id"])
        assert region["p_value"] < 0.01
        assert f"lr ≥ {region['threshold']:.3g}" in finding.message and "concentrate" in finding.message
        assert f"keep lr below {region['threshold']:.3g}" in finding.action


def test_a_region_below_a_threshold_is_found_too():
    data = synthetic.sweep(synthetic.experiment(trials=30), lambda p: "infeasible" if p["lr"] < 1e-3 else 1.0)
    [finding] = check_infeasible_fraction(data)
    [region] = finding.evidence["regions"]
    assert region["side"] == "below" and "lr ≤" in finding.message


def test_randomly_placed_infeasible_trials_make_no_region():
    regions = 0
    for seed in range(50):
        exp = synthetic.experiment(nuisance={"lr": synthetic.LR, "momentum": {"low": 0.0, "high": 0.99}},
                                   trials=30, seed=seed)
        rng = np.random.default_rng(seed)
        data = synthetic.sweep(exp, lambda p: None if rng.random() < 0.3 else 1.0)
        regions += sum(len(f.evidence["regions"]) for f in check_infeasible_fraction(data))
    assert regions <= 3  # 200 chances (50 studies x 2 parameters x 2 sides), each < 1 %


def test_failed_trials_get_their_own_finding():
    exp = synthetic.experiment(trials=20)
    data = synthetic.sweep(exp, lambda p: "failed" if p["lr"] > 0.1 else (None if p["lr"] < 2e-4 else 1.0))
    failed, infeasible = sorted(check_infeasible_fraction(data), key=lambda f: f.evidence["kind"])
    assert failed.evidence["kind"] == "failed" and infeasible.evidence["kind"] == "infeasible"
    assert "crashed and ran out of retries" in failed.message and "never evaluated" in failed.message
    assert failed.evidence["reasons"] == {"exit code 1": failed.evidence["n"]}
    assert failed.evidence["regions"][0]["side"] == "above"
    # an infeasible share counts all finished trials, failed ones included
    assert infeasible.evidence["n_finished"] == 20


def test_running_and_waiting_trials_are_not_counted():
    data = planted(2)
    trials = data.trials.copy()
    trials.loc[trials.index[:5], "state"] = ["running", "waiting", "running", "waiting", "running"]
    [finding] = check_infeasible_fraction(type(data)(data.experiment, trials, data.curves))
    assert finding.evidence["n_finished"] == 15


def test_a_region_stops_at_a_value_shared_by_a_feasible_trial():
    values = pd.Series([*range(1, 17), 16, 17, 18, 19], dtype=float)  # 16 is shared by a good and a bad trial
    bad = pd.Series([False] * 16 + [True] * 4)
    ids = pd.Series(range(1, 21))
    region = bad_region(values, bad, ids, "depth", "above")
    assert region is not None and region.trial_ids == (20, 19, 18)
    assert (region.threshold, region.nearest_ok, region.n_bad, region.n) == (17, 16, 4, 20)
    assert region.p_value == pytest.approx(4 / 1140)  # C(4, 3) / C(20, 3)
    assert bad_region(values, pd.Series([True] * 20), ids, "depth", "above") is None  # all bad: no threshold
    assert bad_region(values, bad, ids, "depth", "below") is None


def test_two_bad_trials_at_the_top_of_ten_could_be_chance():
    values, ids = pd.Series(range(10), dtype=float), pd.Series(range(10))
    bad = pd.Series([False] * 8 + [True] * 2)
    assert bad_region(values, bad, ids, "lr", "above") is None  # C(2, 2) / C(10, 2) = 1/45 >= 1 %
    many = pd.Series(range(40), dtype=float)
    assert bad_region(many, pd.Series([False] * 38 + [True] * 2), pd.Series(range(40)), "lr", "above") is not None


def issue13_study(studies: int = 1):
    """Issue 13's case: 8 trials per study, infeasible at lr 1.58 and 6.67, feasible at 0.375 and below."""
    exp = synthetic.experiment(nuisance={"lr": {"low": 1e-3, "high": 10.0, "scale": "log"}},
                               scientific={"width": list(range(1, studies + 1))} if studies > 1 else None, trials=8)
    lrs = [0.002, 0.0058, 0.0112, 0.021, 0.089, 0.375, 1.58, 6.67]
    keys = [f"width={w}" for w in range(1, studies + 1)] if studies > 1 else ["default"]
    rows = [(key, {"lr": lr}, "infeasible" if lr > 1 else 1.0) for key in keys for lr in lrs]
    return synthetic.frames(exp, rows)


def test_eight_trials_are_too_few_to_tell_not_evidence_of_no_region():
    # the learning rate separates them perfectly, but with 2 bad of 8 even that has p = 1/28: the honest
    # statement is "too few trials to tell", not "no single range hyperparameter separates them"
    [finding] = check_infeasible_fraction(issue13_study())
    assert finding.severity is Severity.WARNING and finding.evidence["regions"] == []
    assert "Too few trials to tell" in finding.message and "No single range" not in finding.message
    assert finding.evidence["needed_trials"] == 15 and not finding.evidence["can_tell"]


def test_studies_that_saw_the_same_nuisance_points_are_pooled():
    findings = check_infeasible_fraction(issue13_study(studies=3))
    assert len(findings) == 3
    for finding in findings:
        [region] = finding.evidence["regions"]
        assert region["param"] == "lr" and region["side"] == "above" and region["threshold"] == 1.58
        assert len(finding.evidence["pooled_studies"]) == 3 and "pooled with" in finding.message


@pytest.mark.parametrize("n, n_bad", [(10_000, 800), (9_000, 4_500), (1_200, 600)])
def test_can_tell_holds_at_thousands_of_trials_where_1_over_c_n_k_underflows(n, n_bad):
    """C(10000, 800) is far past 1e308: the rule 1 / C(n, b) < 0.01 must still read True, not raise
    OverflowError (the 10,000-trial report benchmark crashed on it)."""
    from tunebook.analysis.checks.infeasible import can_tell, needed_trials

    assert can_tell(n, n_bad)
    assert needed_trials(n_bad) == n_bad + 1  # C(b + 1, b) = b + 1 > 100 already
    assert not can_tell(n_bad, n_bad) and not can_tell(5, 3)  # C(5, 3) = 10: too few to tell
