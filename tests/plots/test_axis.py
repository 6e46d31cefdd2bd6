import math

import numpy as np
import pytest

from tests.analysis import synthetic as syn
from tunebook.plots.axis import DODGE, get_axis_info, get_axis_infos, render_axis


def test_one_plot_per_varied_hyperparameter(two_studies):
    assert [i.param for i in get_axis_infos(two_studies)] == ["act", "lr", "wd"]


def test_points_complete_and_infeasible(two_studies):
    info = get_axis_info(two_studies, "lr")
    trials = two_studies.trials
    assert [s.study for s in info.series] == ["act=relu", "act=gelu"]
    complete = {t for s in info.series for t in s.trial_ids}
    infeasible = {t for s in info.infeasible for t in s.trial_ids}
    assert complete == set(trials.loc[trials.state == "complete", "trial_id"])
    assert infeasible == set(trials.loc[trials.state == "infeasible", "trial_id"]) and infeasible
    for s in info.series:
        rows = trials.set_index("trial_id").loc[list(s.trial_ids)]
        assert s.x == tuple(rows["lr"]) and s.y == tuple(rows["objective"])
        assert s.names == tuple(f"{s.study}/{n}" for n in rows["number"])  # as `tunebook trials` names them
    assert all(x > 0.5 for s in info.infeasible for x in s.x)
    # infeasible trials carry no objective: they are drawn in the strip above, not on the value axis
    assert all(math.isnan(y) for s in info.infeasible for y in s.y)


def test_studies_sharing_points_are_drawn_apart(two_studies):
    """The studies share their quasi-random lr values; each study's markers move by its own offset."""
    info = get_axis_info(two_studies, "lr")
    relu, gelu = info.series
    shared = set(relu.x) & set(gelu.x)
    assert len(shared) >= 5  # the sweep does share points: the case the offsets are for
    low, high = info.x_range
    decades = math.log10(high / low)
    for s, sign in ((relu, -1), (gelu, 1)):
        moved = [math.log10(p / x) / decades for x, p in zip(s.x, s.positions)]
        assert np.allclose(moved, sign * DODGE / 2)  # half a dodge either side, the same for every point
    at = {x: p for x, p in zip(gelu.x, gelu.positions)}
    assert all(at[x] > p for x, p in zip(relu.x, relu.positions) if x in shared)


def test_range_edges_sit_inside_the_axis(two_studies):
    lr, wd, act = (get_axis_info(two_studies, p) for p in ("lr", "wd", "act"))
    assert lr.log_x and lr.edges == (1e-4, 1.0) and lr.categories is None
    assert lr.x_range[0] < 1e-4 and lr.x_range[1] > 1.0  # the dashed edges never sit on the tick labels
    assert not wd.log_x and wd.edges == (0.0, 0.1) and wd.x_range[0] < 0.0 < 0.1 < wd.x_range[1]
    assert act.categories == ("relu", "gelu") and act.edges is None and not act.log_x
    assert set(act.series[0].x) == {"relu"}
    all_positions = [p for s in lr.series + lr.infeasible for p in s.positions]
    assert lr.x_range[0] < min(all_positions) and max(all_positions) < lr.x_range[1]


def test_choice_points_spread_within_their_slot(two_studies):
    info = get_axis_info(two_studies, "act")
    relu, gelu = info.series
    # one study per value: the value's trials spread evenly around its slot, in the order of their numbers
    for s, slot in ((relu, 0.0), (gelu, 1.0)):
        assert all(abs(p - slot) < 0.25 for p in s.positions)
        assert list(s.positions) == sorted(s.positions) and len(set(s.positions)) == len(s.positions)
        assert abs(np.mean(s.positions) - slot) < 1e-9


def test_choice_shared_by_studies_gets_one_offset_per_study():
    exp = syn.experiment(nuisance={"opt": ["sgd", "adam"], "lr": syn.LR}, scientific={"act": ["relu", "gelu"]},
                         trials=4)
    data = syn.sweep(exp, lambda p: p["lr"])
    info = get_axis_info(data, "opt")
    by_study = {s.study: s for s in info.series}
    for value, slot in (("sgd", 0), ("adam", 1)):
        centres = [np.mean([p for x, p in zip(s.x, s.positions) if x == value]) for s in by_study.values()
                   if value in s.x]
        assert len(centres) == 2 and centres[0] < slot < centres[1]


def test_max_mode_and_no_complete_trial():
    exp = syn.experiment(objective="acc:max", trials=6)
    data = syn.sweep(exp, lambda p: None if p["lr"] > 0.1 else 1.0 - p["lr"])
    info = get_axis_info(data, "lr")
    assert info.mode == "max" and info.series and info.infeasible
    none = syn.sweep(exp, lambda p: None)
    info = get_axis_info(none, "lr")
    assert info.series == () and len(info.infeasible[0].trial_ids) == 6


def test_failed_trials_are_left_out():
    exp = syn.experiment(trials=4)
    data = syn.sweep(exp, lambda p: "failed" if p["lr"] > 0.1 else 1.0)
    info = get_axis_info(data, "lr")
    failed = set(data.trials.loc[data.trials.state == "failed", "trial_id"])
    shown = {t for s in info.series + info.infeasible for t in s.trial_ids}
    assert failed and not failed & shown


def _stuck_runs(mode: str = "min"):
    """The digits demo's shape: most trials near 0.02 error, the lowest learning rates stuck at 0.5-0.9."""
    exp = syn.experiment(objective=f"error:{mode}", trials=24)
    sign = 1.0 if mode == "min" else -1.0

    def outcome(p):
        good = 0.02 + 0.01 * abs(math.log10(p["lr"]) + 2) / 2
        return sign * (0.5 + 0.4 * (-math.log10(p["lr"]) - 3.4) if p["lr"] < 4e-4 else good)

    return syn.sweep(exp, outcome)


def test_trials_far_worse_than_the_good_cluster_go_to_the_edge_and_keep_its_scale():
    data = _stuck_runs()
    info = get_axis_info(data, "lr")
    ys = sorted(y for s in info.series for y in s.y)
    stuck = [y for y in ys if y > 0.3]
    assert stuck and info.outside == len(stuck)  # every stuck run, and only those, is off the axis
    low, high = info.y_range
    assert low < ys[0] and max(y for y in ys if y < 0.3) < high < 0.1  # the good cluster fills the axis
    fig = render_axis(info)
    edge = [t for t in fig.data if t.legendgroup == "outside"]
    assert [t.marker.symbol for t in edge] == ["triangle-up"] * len(edge)
    assert sum(len(t.y) for t in edge) == len(stuck) and all(y == high for t in edge for y in t.y)
    # the hover still tells the true value of a point drawn on the edge
    assert sorted(v for t in edge for v in t.customdata[:, 2]) == pytest.approx(stuck, rel=1e-6)
    assert sum(len(t.y) for t in fig.data if t.legendgroup not in ("outside", "infeasible")) == len(ys) - len(stuck)


def test_a_maximized_objective_is_focused_from_below():
    info = get_axis_info(_stuck_runs("max"), "lr")
    ys = [y for s in info.series for y in s.y]
    assert info.outside == sum(y < -0.3 for y in ys) > 0 and info.y_range[0] > -0.1


def test_a_u_shaped_sweep_keeps_both_arms_on_the_axis(two_studies):
    """The learning rate's U is what the axis plot is for: no arm of it counts as far out."""
    info = get_axis_info(two_studies, "lr")
    ys = [y for s in info.series for y in s.y]
    assert info.outside == 0 and info.y_range[0] < min(ys) and max(ys) < info.y_range[1]


def test_bayesian_trials_are_marked_apart_from_initial_points():
    exp = syn.experiment(nuisance={"lr": syn.LR}, trials=12)
    data = syn.sweep(exp, lambda p: None if p["lr"] > 0.5 else syn.quadratic(0.6)(p))
    by = ["initial"] * 6 + ["model"] * 5 + ["fallback"]
    data.trials["suggested_by"] = by
    info = get_axis_info(data, "lr")
    drawn = {t: b for s in info.series + info.infeasible for t, b in zip(s.trial_ids, s.by)}
    assert drawn == dict(zip(data.trials["trial_id"], by))
    fig = render_axis(info)
    symbols = {}
    for trace in fig.data:
        if trace.customdata is not None and trace.marker.symbol is not None and not isinstance(trace.marker.symbol, str):
            names = [f"{n:.0f}" for n in np.asarray(trace.customdata)[:, 0]]
            symbols.update(zip(names, trace.marker.symbol))
    numbers = dict(zip(data.trials["number"].astype(str), by))
    for number, symbol in symbols.items():
        kind = numbers[number]
        assert symbol in {"initial": ("circle", "x"), "model": ("diamond", "diamond-x"),
                          "fallback": ("square", "square-x")}[kind]
    assert len(symbols) == sum(len(s.trial_ids) for s in info.series + info.infeasible) - info.outside
    legend = {trace.name for trace in fig.data}
    assert {"initial point (quasi-random)", "model suggestion (Bayesian)", "fallback to quasi-random"} <= legend


def test_quasi_random_trials_carry_no_marks(two_studies):
    info = get_axis_info(two_studies, "lr")
    assert all(s.by == () for s in info.series + info.infeasible)
    assert not any("Bayesian" in (trace.name or "") for trace in render_axis(info).data)
