import pytest

from tests.analysis import synthetic as syn
from tunebook.analysis.checks.sampled_enough import bootstrap_best_of_k, budgets_for
from tunebook.plots.bootstrap import get_bootstrap_info


def test_boxes_per_budget_per_study(two_studies):
    info = get_bootstrap_info(two_studies)
    assert [s.group for s in info.series] == ["act=relu", "act=gelu"] and info.skipped == ()
    for s in info.series:
        values = two_studies.trials.loc[(two_studies.trials.study == s.study)
                                        & (two_studies.trials.state == "complete"), "objective"]
        assert s.n == len(values) and s.best == values.min()
        assert tuple(b.k for b in s.boxes) == budgets_for(len(values))
        boot = bootstrap_best_of_k(values, "min")
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
