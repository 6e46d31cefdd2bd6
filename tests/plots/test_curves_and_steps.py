import math

import numpy as np
import pytest

from tests.analysis import curve_cases as cc
from tests.analysis import synthetic as syn
from tunebook.analysis.checks.grad_norm import clipping_threshold
from tunebook.plots.best_step import get_best_step_info
from tunebook.plots.curves import get_curves_info
from tunebook.plots.grad_norm import get_grad_norm_info


def _with_a_diverged_trial(grad_spike: float | None = None):
    """Two depths x 3 trials of ordinary curves, plus one depth=2 trial whose losses run to 1e30, then NaN.

    The diverged trial's training loss passes 10x its first value at its 21st point (step 5250), its
    validation loss at its 22nd (step 5500); both are NaN later. ``grad_spike``: one norm of a complete
    trial at that value.
    """
    rng = np.random.default_rng(1)
    trials = []
    for depth in (1, 2):
        for j in range(3):
            norms = np.abs(cc.noisy(np.full(40, 1.0 + j), 0.2, rng))
            if grad_spike is not None and depth == 1 and j == 2:
                norms[25] = grad_spike
            trials.append({"depth": depth, "lr": 10.0 ** -(j + 1), "curves": {
                "train/loss": cc.noisy(cc.decay(40, floor=0.2 + 0.05 * j), 0.01, rng),
                "valid/loss": cc.noisy(cc.u_shape(40, floor=0.3 + 0.05 * j), 0.01, rng), "grad_norm": norms}})
    loss, valid = cc.decay(40), cc.decay(40, floor=0.5)
    loss[20:], valid[20:] = np.geomspace(30.0, 1e30, 20), np.geomspace(1.0, 1e30, 20)
    loss[35:], valid[30:] = np.nan, np.nan
    trials.append({"depth": 2, "lr": 0.7, "state": "infeasible", "curves": {"train/loss": loss, "valid/loss": valid}})
    return cc.make_data(trials)


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


def test_curves_y_range_ignores_diverged_values():
    data = _with_a_diverged_trial()
    info = get_curves_info(data)
    (diverged_id,) = data.trials.loc[data.trials.state == "infeasible", "trial_id"]
    for panel in info.panels:
        bright = np.concatenate([ln.values for ln in info.highlighted(panel.metric)])
        low, high = panel.y_range
        assert low <= bright.min() and bright.max() <= high  # every highlighted value is on the axis
        assert high < 3.0 and not panel.log_y  # 1e30 and NaN set nothing: the losses start at 2
        assert high - low < 1.2 * (bright.max() - bright.min())  # no room wasted beyond a small margin
    marks = {ln.metric: ln.diverged_at for ln in info.lines if ln.trial_id == diverged_id}
    steps = cc.steps(40)
    assert marks == {"train/loss": steps[20], "valid/loss": steps[21]}  # past 10x its first value
    assert all(ln.diverged_at is None for ln in info.lines if ln.trial_id != diverged_id)
    assert {ln.name for ln in info.lines if ln.trial_id == diverged_id} == {"depth=2/3"}


def test_curves_use_a_log_axis_when_the_best_curves_span_decades():
    trials = [{"depth": 1, "curves": {"train/loss": cc.decay(40, start=2.0, floor=1e-4, tau=0.1),
                                       "valid/loss": cc.decay(40, floor=0.3)}}]
    info = get_curves_info(cc.make_data(trials))
    train, valid = info.panels
    values = info.highlighted("train/loss")[0].values
    assert train.log_y and train.y_range[0] < min(values) < 1e-3 and train.y_range[1] > max(values)
    assert not valid.log_y


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


def test_best_step_bins_are_common_and_within_training():
    data = _with_a_diverged_trial()
    info = get_best_step_info(data)
    assert info.max_train_steps == cc.MAX_STEPS and info.edges[0] == 0 and info.edges[-1] == cc.MAX_STEPS
    widths = np.diff(info.edges)
    assert np.allclose(widths, widths[0]) and len(widths) == 5  # 6 trials: 5 equal bins
    for s in info.series:
        assert len(s.counts) == len(widths) and sum(s.counts) == len(s.best_steps)
        expected, _ = np.histogram(s.best_steps, bins=info.edges)
        assert list(s.counts) == expected.tolist()
        assert all(name.startswith(s.study + "/") for name in s.names)


def test_best_step_end_falls_back_to_the_last_logged_step():
    data = syn.sweep(syn.experiment(trials=12), lambda p: 1.0)  # no max_train_steps: curves end at syn.STEPS
    info = get_best_step_info(data)
    assert info.max_train_steps == syn.STEPS and info.edges[-1] == syn.STEPS and len(info.edges) == 11
    (s,) = info.series
    assert s.counts[-1] == 12  # every best step is the last one, counted inside the last bin


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
    assert [ln.name for ln in info.lines][-2:] == ["depth=1/0", "depth=2/0"]
    assert (info.below, info.above) == (0, 0) and info.edges[0] == min(norms.value)


def test_grad_norm_leaves_an_exploding_norm_out_of_the_range():
    data = _with_a_diverged_trial(grad_spike=1e30)
    info = get_grad_norm_info(data)
    low, high = info.shown_range
    assert info.above == 1 and high < 10 and info.edges[-1] == high and not info.log
    assert sum(info.counts) == 6 * 40 - 1
    assert info.threshold < high  # the p90 threshold is unmoved by one norm in 240 and always shown


def test_grad_norm_absent():
    assert get_grad_norm_info(syn.sweep(syn.experiment(trials=3), lambda p: 1.0)) is None
