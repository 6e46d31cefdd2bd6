import math

import pytest

from tests.analysis import synthetic as syn
from tunebook.analysis.checks.grad_norm import clipping_threshold
from tunebook.plots.best_step import get_best_step_info
from tunebook.plots.curves import get_curves_info
from tunebook.plots.grad_norm import get_grad_norm_info


def test_curves_highlight_best_per_value(curve_data):
    info = get_curves_info(curve_data, top=2)
    assert info.metrics == ("train/loss", "valid/loss") and info.groups == ("depth=1", "depth=2")
    bright = info.highlighted("valid/loss")
    assert {(ln.group, ln.rank, ln.trial_id) for ln in bright} == {
        ("depth=1", 0, 1), ("depth=1", 1, 2), ("depth=2", 0, 5), ("depth=2", 1, 6)}
    assert bright[-1].rank == 0  # the best drawn last
    faint = [ln for ln in info.lines if not ln.highlighted]
    assert {ln.trial_id for ln in faint} == {3, 4, 7, 8, 9}
    (infeasible,) = [ln for ln in info.lines if ln.trial_id == 9]
    assert infeasible.state == "infeasible" and infeasible.values == (5.0, 9.0) and infeasible.metric == "valid/loss"
    line = next(ln for ln in info.lines if ln.trial_id == 1 and ln.metric == "valid/loss")
    raw = curve_data.curves[(curve_data.curves.trial_id == 1) & (curve_data.curves.metric == "valid/loss")]
    assert line.steps == tuple(raw.step) and line.values == pytest.approx(tuple(raw.value))


def test_curves_without_train_loss():
    data = syn.sweep(syn.experiment(trials=3), lambda p: 1.0)
    info = get_curves_info(data)
    assert info.metrics == ("loss",)  # loss is both the train-loss name and the objective
    assert len(info.lines) == 3 and all(ln.highlighted for ln in info.lines)


def test_best_steps(curve_data):
    info = get_best_step_info(curve_data)
    assert info.metric == "valid/loss" and info.max_step == 10_000
    assert [s.study for s in info.series] == ["depth=1", "depth=2"]
    trials = curve_data.trials.set_index("trial_id")
    for s in info.series:
        assert s.trial_ids == tuple(trials.index[(trials.study == s.study) & (trials.state == "complete")])
        assert s.best_steps == tuple(trials.loc[list(s.trial_ids), "best_step"])
        assert all(3000 <= b <= 5000 for b in s.best_steps)  # the U turns at 40 % of training
        assert s.last_steps == (10_000.0,) * 4 and s.fractions == tuple(b / 10_000 for b in s.best_steps)


def test_best_steps_without_curves():
    data = syn.sweep(syn.experiment(trials=3), lambda p: None)
    info = get_best_step_info(data)
    assert info.series == () and math.isnan(info.max_step)


def test_grad_norm(curve_data):
    info = get_grad_norm_info(curve_data)
    assert info.metric == "grad_norm" and info.quantile == 0.9
    complete = curve_data.trials.loc[curve_data.trials.state == "complete", "trial_id"]
    norms = curve_data.curves[(curve_data.curves.metric == "grad_norm") & curve_data.curves.trial_id.isin(complete)]
    assert info.threshold == pytest.approx(clipping_threshold(norms.value))
    assert sum(info.counts) == len(norms) and info.share_above == pytest.approx(0.1, abs=0.02)
    assert [ln.trial_id for ln in info.lines] == [2, 3, 4, 6, 7, 8, 1, 5]
    assert [ln.best_of for ln in info.lines][-2:] == ["depth=1", "depth=2"]


def test_grad_norm_absent():
    assert get_grad_norm_info(syn.sweep(syn.experiment(trials=3), lambda p: 1.0)) is None
