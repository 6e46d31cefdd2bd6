import pytest

from tests.analysis import synthetic as syn
from tunebook.analysis.checks.sampled_enough import bootstrap_best_of_k
from tunebook.plots.bootstrap import EVERY_K, common_budgets, get_bootstrap_info


def test_boxes_per_budget_per_study(two_studies):
    info = get_bootstrap_info(two_studies)
    assert [s.group for s in info.series] == ["act=relu", "act=gelu"] and info.skipped == ()
    assert info.budgets == common_budgets(max(s.n for s in info.series))
    for s in info.series:
        values = two_studies.trials.loc[(two_studies.trials.study == s.study)
                                        & (two_studies.trials.state == "complete"), "objective"]
        assert s.n == len(values) and s.best == values.min()
        assert tuple(b.k for b in s.boxes) == tuple(k for k in info.budgets if k <= len(values))
        boot = bootstrap_best_of_k(values, "min", budgets=[b.k for b in s.boxes])
        for box, row in zip(s.boxes, boot.summary()):
            assert (box.q1, box.median, box.q3) == pytest.approx((row["q1"], row["median"], row["q3"]))
            assert box.lower <= box.q1 <= box.median <= box.q3 <= box.upper
        assert s.boxes[-1].median <= s.boxes[0].median  # more trials, better best
        assert s.boxes[-1].q3 - s.boxes[-1].q1 < s.boxes[0].q3 - s.boxes[0].q1  # and less luck


def test_too_few_trials_are_skipped():
    exp = syn.experiment(scientific={"act": ["relu", "gelu"]}, trials=3)
    rows = [("act=relu", {"act": "relu", "lr": 10.0 ** -i}, float(i)) for i in range(1, 6)]
    rows += [("act=gelu", {"act": "gelu", "lr": 0.1}, 1.0)]
    info = get_bootstrap_info(syn.frames(exp, rows))
    assert [s.group for s in info.series] == ["act=relu"] and info.skipped == ("act=gelu",)


def test_max_mode_boxes_rise():
    data = syn.sweep(syn.experiment(objective="acc:max", trials=16), lambda p: p["lr"])
    (s,) = get_bootstrap_info(data).series
    assert s.boxes[-1].median >= s.boxes[0].median and s.best == data.trials["objective"].max()


def test_one_k_axis_for_every_group():
    """Groups of 5 and 9 trials: both on the axis 1..9; the smaller one's boxes stop at its own n."""
    exp = syn.experiment(scientific={"act": ["relu", "gelu"]}, trials=9)
    rows = [("act=relu", {"act": "relu", "lr": 10.0 ** -i}, 0.1 * i) for i in range(1, 10)]
    rows += [("act=gelu", {"act": "gelu", "lr": 10.0 ** -i}, 0.1 * i + 0.05) for i in range(1, 6)]
    info = get_bootstrap_info(syn.frames(exp, rows))
    assert info.budgets == tuple(range(1, 10))
    relu, gelu = info.series
    assert tuple(b.k for b in relu.boxes) == info.budgets
    assert tuple(b.k for b in gelu.boxes) == (1, 2, 3, 4, 5)


def test_large_groups_share_a_log_grid():
    budgets = common_budgets(5000)
    assert budgets[0] == 1 and budgets[-1] == 5000 and len(budgets) == EVERY_K
    ratios = [b / a for a, b in zip(budgets[5:], budgets[6:])]
    assert max(ratios) / min(ratios) < 1.1  # evenly spaced on a log scale (beyond the rounding of small k)
    assert common_budgets(EVERY_K) == tuple(range(1, EVERY_K + 1)) and common_budgets(0) == ()
