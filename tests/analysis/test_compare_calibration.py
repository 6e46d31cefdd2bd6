"""The verdict's calibration claims (issue 10, item 6), each measured on simulated comparisons.

Seeds are normal with sd 1; "effect" is in seed sds, in the candidate's
favour. Each assertion leaves room for the binomial spread of its run count:

- 3 sd better, 10 seeds per side, 200 runs: adopt >= 95 % (the rule's power
  here is > 99.9 %);
- identical configurations, 10 seeds per side: not enough evidence >= 95 %,
  adopt <= 5 %. The rule's false alarms are bounded by the exact rank test's
  size, 4.3 % at 10 vs 10 (both directions together; the bootstrap condition
  trims it further, to about 3 %), so 200 runs would put 95 % within 1.5
  binomial sds of the expectation: 1000 runs (sd 0.6 %) measure it;
- 3 sd worse, 200 runs: keep baseline >= 95 %;
- the seeds-needed estimate: simulated at the recommended n for a true
  effect, the verdict is clear in about 80 % of runs (its power target;
  between 70 % and 92 % in 200 runs), and at half that n clearly less often.
"""

from __future__ import annotations

import pytest

from tunebook.analysis.seed_stats import seeds_needed

from .test_compare import simulate

pytestmark = pytest.mark.slow


def test_three_seed_sd_better_with_ten_seeds_is_adopted_in_at_least_95_percent_of_200():
    assert simulate(10, 3.0, runs=200, seed=101, resamples=1000)["adopt"] >= 190


def test_identical_configurations_are_not_enough_evidence_in_at_least_95_percent():
    decisions = simulate(10, 0.0, runs=1000, seed=102, resamples=500)
    assert decisions["not enough evidence"] >= 950, decisions
    assert decisions["adopt"] <= 50, decisions


def test_three_seed_sd_worse_keeps_the_baseline_in_at_least_95_percent_of_200():
    assert simulate(10, -3.0, runs=200, seed=103, resamples=1000)["keep baseline"] >= 190


@pytest.mark.parametrize("effect_sd", [0.8, 1.5])
def test_at_the_recommended_seeds_the_verdict_is_clear_in_most_runs(effect_sd):
    n = seeds_needed(effect_sd)
    clear = simulate(n, effect_sd, runs=200, seed=104, resamples=500)["adopt"] / 200
    assert 0.70 <= clear <= 0.92, (n, clear)
    half = simulate(max(2, n // 2), effect_sd, runs=200, seed=105, resamples=500)["adopt"] / 200
    assert half < clear - 0.15, (n, half, clear)
