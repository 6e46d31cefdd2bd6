"""``sampled_enough``: bootstrap best-of-k (Figure 3) and whether luck could explain the comparison."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from tunebook.analysis.checks.sampled_enough import (
    SECTION, bootstrap_best_of_k, budgets_for, check_sampled_enough,
)
from tunebook.analysis.findings import Severity

from . import synthetic

VALUES = np.random.default_rng(7).normal(size=40)


def test_budgets_double_up_to_the_number_of_trials_and_include_half():
    assert budgets_for(20) == (1, 2, 4, 8, 10, 16, 20)
    assert budgets_for(16) == (1, 2, 4, 8, 16)
    assert budgets_for(1) == (1,)


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others():
    a, b = bootstrap_best_of_k(VALUES, seed=3), bootstrap_best_of_k(VALUES, seed=3)
    assert a.budgets == b.budgets and np.array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, bootstrap_best_of_k(VALUES, seed=4).samples)
    assert a.samples.shape == (len(budgets_for(40)), 2000)


def test_best_of_k_matches_a_naive_bootstrap():
    rng = np.random.default_rng(0)
    for k in (1, 3, 20):
        naive = VALUES[rng.integers(0, len(VALUES), size=(4000, k))].min(axis=1)
        fast = bootstrap_best_of_k(VALUES, budgets=[k], resamples=4000, seed=1).samples[0]
        assert stats.ks_2samp(naive, fast).pvalue > 0.001
        assert np.isin(fast, VALUES).all()


def test_best_of_one_is_any_trial_and_more_trials_do_better():
    boot = bootstrap_best_of_k(VALUES, budgets=[1, 5, 40], resamples=5000)
    counts = [np.sum(boot.samples[0] == v) for v in VALUES]  # each trial equally likely
    assert stats.chisquare(counts).pvalue > 0.001
    assert boot.median[0] > boot.median[1] > boot.median[2]
    assert boot.iqr[0] > boot.iqr[2]  # Figure 3: wide boxes for few trials
    assert boot.samples.min() == VALUES.min()


def test_max_mode_takes_the_largest_and_non_finite_values_are_dropped():
    boot = bootstrap_best_of_k([1.0, np.nan, 3.0, np.inf, 2.0], mode="max", budgets=[1, 50])
    assert boot.samples.max() == 3.0 and boot.median[1] == 3.0
    summary = boot.summary()
    assert summary[1] == {"k": 50, "median": 3.0, "q1": 3.0, "q3": 3.0}
    with pytest.raises(ValueError, match="at least one finite value"):
        bootstrap_best_of_k([np.nan])
    with pytest.raises(ValueError, match="budgets must be whole numbers >= 1"):
        bootstrap_best_of_k([1.0], budgets=[0])


def two_studies(offset: float, trials: int = 20, noise: float = 0.05, seed: int = 0):
    """Two studies tuned on the same lr landscape with seeded noise; width=2 is better by ``offset``."""
    exp = synthetic.experiment(scientific={"width": [1, 2]}, trials=trials, seed=seed)
    rng = np.random.default_rng(seed)
    return synthetic.sweep(exp, lambda p: synthetic.quadratic(0.5)(p) - offset * (p["width"] == 2)
                           + noise * rng.normal())


def severities(offset: float, noise: float, seeds: range = range(20)) -> list[Severity]:
    return [check_sampled_enough(two_studies(offset, noise=noise, seed=s))[0].severity for s in seeds]


def test_a_gap_far_larger_than_the_spread_is_trustworthy():
    [finding] = check_sampled_enough(two_studies(offset=1.0))
    assert finding.severity is Severity.INFO and finding.section == SECTION and finding.study is None
    [pair] = finding.evidence["pairs"]
    assert (pair["a"], pair["b"], pair["verdict"]) == ("width=2", "width=1", "clear")
    assert pair["gap"] > 2 * pair["spread"]
    json.dumps(finding.to_dict())


def test_a_gap_within_the_spread_is_not_yet_trustworthy():
    [finding] = check_sampled_enough(two_studies(offset=0.0, noise=0.2, seed=2))
    assert finding.severity is Severity.PROBLEM
    assert "not yet trustworthy" in finding.message and "more trials" in finding.action
    [pair] = finding.evidence["pairs"]
    assert pair["verdict"] == "in doubt" and pair["gap"] <= pair["spread"]
    assert f"gap {pair['gap']:.3g}, spread {pair['spread']:.3g}" in finding.message


def test_identical_scientific_values_are_rarely_called_clear_and_real_gaps_usually_are():
    # measured over 200 seeds: identical values 84 % problem, 1 % info; a real gap 91 % info
    same = severities(offset=0.0, noise=0.2)
    assert same.count(Severity.PROBLEM) >= 12 and same.count(Severity.INFO) <= 2
    assert severities(offset=0.1, noise=0.02).count(Severity.INFO) >= 15


def test_the_spread_is_the_iqr_of_the_bootstrapped_best_of_half_the_trials():
    data = two_studies(offset=0.0, noise=0.2, seed=2)
    [finding] = check_sampled_enough(data)
    for group in finding.evidence["groups"]:
        values = data.trials.loc[data.trials["study"] == group["study"], "objective"]
        boot = bootstrap_best_of_k(values, budgets=[10])
        assert group["n"] == 20 and group["half"] == 10
        assert group["iqr_half"] == pytest.approx(float(boot.iqr[0]))
        assert group["best"] == values.min()
        assert [row["k"] for row in group["best_of_k"]] == list(budgets_for(20))


def test_a_gap_comparable_to_the_spread_is_a_warning():
    data = two_studies(offset=0.0, noise=0.2, seed=2)
    [finding] = check_sampled_enough(data)
    spread = finding.evidence["pairs"][0]["spread"]
    # shift width=2 so its best beats width=1's by 1.5 spreads
    bests = {g["study"]: g["best"] for g in finding.evidence["groups"]}
    shift = bests["width=2"] - bests["width=1"] + 1.5 * spread
    trials = data.trials.copy()
    trials.loc[trials["study"] == "width=2", "objective"] -= shift
    [finding] = check_sampled_enough(type(data)(data.experiment, trials, data.curves))
    assert finding.severity is Severity.WARNING and "comparable" in finding.message
    assert finding.evidence["pairs"][0]["verdict"] == "comparable"


def test_too_few_trials_cannot_be_judged():
    [finding] = check_sampled_enough(two_studies(offset=1.0, trials=3))
    assert finding.severity is Severity.PROBLEM and finding.evidence["too_few"] == ["width=2", "width=1"]
    assert "too few complete trials" in finding.message


def test_a_single_study_reports_its_best_of_k_without_a_comparison():
    data = synthetic.sweep(synthetic.experiment(trials=16), synthetic.quadratic(0.5))
    [finding] = check_sampled_enough(data)
    assert finding.severity is Severity.INFO and "no scientific values to compare" in finding.message
    assert finding.evidence["pairs"] == [] and finding.evidence["groups"][0]["half"] == 8
    lonely = synthetic.sweep(synthetic.experiment(trials=2), synthetic.quadratic(0.5))
    assert check_sampled_enough(lonely)[0].severity is Severity.WARNING


def test_a_joint_study_compares_its_scientific_values():
    exp = synthetic.experiment(scientific={"act": ["relu", "tanh"]}, studies="joint", trials=40)
    data = synthetic.sweep(exp, lambda p: synthetic.quadratic(0.5)(p) + (p["act"] == "tanh"))
    [finding] = check_sampled_enough(data)
    assert [g["group"] for g in finding.evidence["groups"]] == ["act=relu", "act=tanh"]
    assert finding.severity is Severity.INFO


def test_a_scientific_value_without_a_complete_trial_makes_the_comparison_untrustworthy():
    exp = synthetic.experiment(scientific={"width": [1, 2]}, trials=10)
    data = synthetic.sweep(exp, lambda p: None if p["width"] == 2 else synthetic.quadratic(0.5)(p))
    [finding] = check_sampled_enough(data)
    assert finding.severity is Severity.PROBLEM and finding.evidence["too_few"] == ["width=2"]
    assert finding.evidence["groups"][-1]["n"] == 0
    json.dumps(finding.to_dict())


def test_a_bayesian_experiment_is_skipped_with_its_reason():
    data = synthetic.sweep(synthetic.experiment(trials=12), synthetic.quadratic(0.5))
    data.trials["suggested_by"] = ["initial"] * 6 + ["model"] * 6
    (finding,) = check_sampled_enough(data)
    assert finding.severity is Severity.INFO and finding.message.startswith("Skipped: Bayesian optimization chose 6")
    assert finding.evidence == {"skipped": "bayesian", "studies": ["default"], "model_trials": 6}
    assert "retrain" in finding.action
