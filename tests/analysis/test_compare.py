"""analysis.compare: the verdict's rule on seeds drawn from known distributions, and its numbers.

Randomness is tested statistically: each claim is checked on many simulated
comparisons with a margin the binomial spread of that many runs allows (the
200-run calibrations of the issue live in test_compare_calibration.py, slow).
"""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from tunebook.analysis.compare import ALPHA, Repeat, Side, StudyPick, compare
from tunebook.analysis.seed_stats import MIN_SEEDS, min_p_value, seeds_needed


def simulate(n: int, effect_sd: float, runs: int, seed: int, m: int | None = None, min_effect: float = 0.0,
             mode: str = "min", resamples: int = 300) -> Counter:
    """Decisions of ``runs`` comparisons: baseline N(0, 1), candidate better by ``effect_sd`` seed sds."""
    rng = np.random.default_rng(seed)
    sign = -1.0 if mode == "min" else 1.0
    decisions: Counter = Counter()
    for i in range(runs):
        base, cand = rng.normal(0, 1, n), rng.normal(sign * effect_sd, 1, m or n)
        result = compare(Side.of("b", base), Side.of("c", cand), mode, min_effect=min_effect, seed=i,
                         resamples=resamples)
        decisions[result.decision] += 1
    return decisions


def test_a_true_effect_of_3_seed_sd_with_10_seeds_is_adopted():
    # the t-test's power here is > 0.999; 60 runs, so one miss is 1.7 %
    assert simulate(10, 3.0, runs=60, seed=1)["adopt"] >= 58


def test_identical_configurations_rarely_get_a_verdict():
    # the exact rank test's size at 10 vs 10 is 4.3 % (both directions); 100 runs: 10 decisions is > 2.5 sd out
    decisions = simulate(10, 0.0, runs=100, seed=2)
    assert decisions["not enough evidence"] >= 90
    assert decisions["adopt"] <= 5


def test_a_worse_candidate_keeps_the_baseline_in_either_mode():
    for mode in ("min", "max"):
        decisions = simulate(10, -3.0, runs=40, seed=3, mode=mode)
        assert decisions["keep baseline"] >= 38, (mode, decisions)


def test_min_effect_rules_out_an_improvement_not_worth_its_complexity():
    rng = np.random.default_rng(4)
    # identical configurations, 30 seeds each: the interval (about +-0.5 sd) excludes an improvement of 1 sd
    same = compare(Side.of("b", rng.normal(0, 1, 30)), Side.of("c", rng.normal(0, 1, 30)), "max", min_effect=1.0)
    assert same.decision == "keep baseline"
    assert same.difference_interval[1] < 1.0
    assert "--min-effect 1" in same.reasons[0]
    # better beyond variance (3 sd), but by about 0.3 metric units when 1.0 is asked for
    small = compare(Side.of("b", rng.normal(0, 0.1, 10)), Side.of("c", rng.normal(0.3, 0.1, 10)), "max", min_effect=1.0)
    assert small.decision == "keep baseline"
    # the same gain clears a smaller min_effect
    assert compare(Side.of("b", rng.normal(0, 0.1, 10)), Side.of("c", rng.normal(0.3, 0.1, 10)), "max",
                   min_effect=0.1).decision == "adopt"


def test_the_rank_tests_smallest_p_values_quoted_in_the_docstring_are_scipys():
    for (n, m), quoted in {(3, 3): 0.100, (4, 3): 0.057, (4, 4): 0.029, (5, 5): 0.008}.items():
        exact = mannwhitneyu(range(n), range(n, n + m), method="exact").pvalue
        assert min_p_value(n, m) == pytest.approx(exact)
        assert round(exact, 3) == quoted
    assert min_p_value(4, 4) == pytest.approx(2 / math.comb(8, 4))


def test_the_false_alarm_bounds_quoted_are_the_exact_tests_size():
    """The largest two-sided p below 0.05 that n vs n seeds can give: the rule's false-alarm rate at most."""
    def size(n: int) -> float:
        base = np.arange(n, dtype=float)
        ps = []
        for u in range(n * n + 1):  # a candidate sample with U = u: u pairs won, spread over its seeds
            cand = np.array([min(n, max(0, u - n * j)) for j in range(n)], dtype=float) - 0.5
            ps.append(mannwhitneyu(cand, base, method="exact").pvalue)
        return max(p for p in ps if p < ALPHA)

    assert round(size(10), 3) == 0.043 and round(size(5), 3) == 0.032


def test_three_seeds_per_side_cannot_be_significant_however_far_apart():
    result = compare(Side.of("b", [1.0, 1.1, 1.2]), Side.of("c", [0.1, 0.2, 0.3]), "min")
    assert result.decision == "not enough evidence"
    assert result.min_p == pytest.approx(0.1)
    assert "too few seeds to tell" in result.reasons[0] and "3 vs 3" in result.reasons[0]
    # four per side can, but only with a perfect separation
    four = compare(Side.of("b", [1.0, 1.1, 1.2, 1.3]), Side.of("c", [0.1, 0.2, 0.3, 0.4]), "min")
    assert four.decision == "adopt" and four.p_value == pytest.approx(2 / 70)
    swapped = compare(Side.of("b", [1.0, 1.1, 1.2, 0.35]), Side.of("c", [0.1, 0.2, 0.3, 1.05]), "min")
    assert swapped.decision == "not enough evidence"


def test_diverged_repeats_count_as_the_worst_outcome_not_dropped():
    base = Side.of("b", [1.00, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06, 1.07, 1.08, 1.09])
    finished = [0.70, 0.71, 0.72, 0.73, 0.74, 0.75]
    dropped = compare(base, Side.of("c", finished), "min")
    counted = compare(base, Side.of("c", finished, diverged=3, failed=1), "min")
    assert dropped.decision == "adopt"  # what a tool that drops diverged runs would say
    assert counted.candidate["diverged"] == 3 and counted.candidate["failed"] == 1 and counted.candidate["n"] == 10
    assert counted.p_better == pytest.approx(0.6)  # 6 of 10 seeds beat every baseline seed, 4 lose to all
    assert counted.decision == "not enough evidence"
    # mean/std over the finished seeds; the median counts the lost ones as the worst
    assert counted.candidate["mean"] == pytest.approx(np.mean(finished))
    assert counted.candidate["median"] == pytest.approx(np.median(finished + [math.inf] * 4))
    states = [r["state"] for r in counted.candidate["repeats"]]
    assert states.count("infeasible") == 3 and states.count("failed") == 1


def test_a_side_that_never_finished_loses_on_ranks():
    base = Side.of("b", [1.0, 1.1, 1.2, 1.3, 1.4, 1.5])
    result = compare(base, Side.of("c", [], diverged=6), "min")
    assert result.decision == "keep baseline" and result.difference is None
    assert result.p_better == 0.0
    assert compare(Side.of("b", [], diverged=6), base, "min").decision == "adopt"


def test_p_better_is_mann_whitney_u_over_nm_with_ties_half():
    base, cand = [0.1, 0.2, 0.2, 0.5, 0.9], [0.2, 0.3, 0.6, 0.9, 1.0, 1.2]
    result = compare(Side.of("b", base), Side.of("c", cand), "max")
    assert result.p_better == pytest.approx(mannwhitneyu(cand, base).statistic / 30)
    assert "permutation" in result.test  # ties: scipy's permutation test, not the untied exact distribution
    low, high = result.p_better_interval
    assert low <= result.p_better <= high


def test_the_effect_in_units_per_cent_and_seed_sd():
    base, cand = [2.0, 2.2, 2.4, 2.6, 2.8], [1.5, 1.7, 1.9, 2.1, 2.3]
    result = compare(Side.of("b", base), Side.of("c", cand), "min")
    pooled = math.sqrt((np.var(base, ddof=1) + np.var(cand, ddof=1)) / 2)
    assert result.difference == pytest.approx(-0.5)
    assert result.percent == pytest.approx(-0.5 / 2.4 * 100)
    assert result.sd_units == pytest.approx(-0.5 / pooled)
    low, high = result.difference_interval
    assert low < -0.5 < high < 0


def test_minimising_and_maximising_mirror_each_other():
    rng = np.random.default_rng(5)
    base, cand = rng.normal(0, 1, 8), rng.normal(-1.5, 1, 8)
    low = compare(Side.of("b", base), Side.of("c", cand), "min", seed=3)
    high = compare(Side.of("b", -base), Side.of("c", -cand), "max", seed=3)
    assert low.decision == high.decision
    assert low.p_better == pytest.approx(high.p_better) and low.p_value == pytest.approx(high.p_value)
    assert low.difference == pytest.approx(-high.difference)


def test_same_inputs_same_numbers():
    rng = np.random.default_rng(6)
    sides = Side.of("b", rng.normal(0, 1, 7)), Side.of("c", rng.normal(0.5, 1, 7), diverged=1)
    assert compare(*sides, "max", seed=11).to_dict() == compare(*sides, "max", seed=11).to_dict()


def test_not_enough_evidence_says_how_many_seeds_would_settle_it():
    base = [0.0, 0.5, 1.0, 1.5, 2.0, 0.8]
    result = compare(Side.of("b", base), Side.of("c", [v + 0.4 for v in base]), "max")
    assert result.decision == "not enough evidence"
    assert result.seeds_needed == seeds_needed(result.difference / result.pooled_sd)
    assert f"about {result.seeds_needed} seeds per side" in " ".join(result.reasons)


def test_seeds_needed_shrinks_with_the_effect_and_never_goes_below_five():
    needed = [seeds_needed(d) for d in (0.25, 0.5, 1.0, 2.0, 4.0)]
    assert needed == sorted(needed, reverse=True) and needed[0] > 200
    assert needed[-1] == MIN_SEEDS
    assert seeds_needed(0.0) is None and seeds_needed(0.001) is None  # beyond 10,000 seeds


def test_a_study_best_without_retrains_gets_the_winners_curse_and_its_study_variance():
    study = tuple(np.linspace(0.30, 0.60, 12))
    pick = StudyPick("lr=0.1", "lr=0.1/4", study)
    cand = Side("exp", (Repeat("lr=0.1/4", 0.30),), study=pick)
    result = compare(Side.of("b", [0.32, 0.33, 0.31, 0.34, 0.32]), cand, "min")
    assert result.decision == "not enough evidence"
    spread = result.candidate["study_variance"]
    assert spread["k"] == 12 and spread["low"] <= spread["median"] <= spread["high"]
    assert spread["low"] == pytest.approx(0.30)  # the best of 12 draws often holds the study's best
    assert any("winner's curse" in w and "not the mean of retrains" in w for w in result.warnings)
    # with retrains beside it, the warning gives the mean of the others instead
    retrained = Side("exp", (Repeat("lr=0.1/4", 0.30), Repeat("r/0", 0.35), Repeat("r/1", 0.37)), study=pick)
    note = compare(Side.of("b", [0.32, 0.33]), retrained, "min").warnings
    assert any("other 2 repeat(s) average 0.36" in w for w in note)


def test_to_dict_is_plain_json_with_every_number():
    result = compare(Side.of("b", [1.0, 1.2, 1.1, 1.3, 1.25]), Side.of("c", [0.9, 1.0, 0.95], diverged=2), "min")
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    for key in ("decision", "difference", "difference_interval", "percent", "sd_units", "p_better",
                "p_better_interval", "p_value", "min_p", "seeds_needed"):
        assert key in data
    last = data["candidate"]["repeats"][-1]
    assert last["state"] == "infeasible" and last["value"] is None
    assert data["alpha"] == ALPHA and data["rule"].startswith("adopt: rank test p < 0.05")


@pytest.mark.parametrize("kwargs, message", [({"mode": "down"}, "mode"), ({"min_effect": -1.0}, "min_effect")])
def test_bad_arguments_name_themselves(kwargs, message):
    arguments = {"mode": "min", **kwargs}
    with pytest.raises(ValueError, match=message):
        compare(Side.of("b", [1.0]), Side.of("c", [2.0]), **arguments)
