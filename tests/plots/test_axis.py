from tests.analysis import synthetic as syn
from tunebook.plots.axis import get_axis_info, get_axis_infos


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
    assert all(x > 0.5 for s in info.infeasible for x in s.x)
    worst = trials["objective"].max()
    assert info.infeasible_y > worst and all(y == info.infeasible_y for s in info.infeasible for y in s.y)


def test_scale_edges_and_categories(two_studies):
    lr, wd, act = (get_axis_info(two_studies, p) for p in ("lr", "wd", "act"))
    assert lr.log_x and lr.edges == (1e-4, 1.0) and lr.categories is None
    assert not wd.log_x and wd.edges == (0.0, 0.1)
    assert act.categories == ("relu", "gelu") and act.edges is None and not act.log_x
    assert set(act.series[0].x) == {"relu"}


def test_infeasible_below_worst_for_max_and_no_complete():
    exp = syn.experiment(objective="acc:max", trials=6)
    data = syn.sweep(exp, lambda p: None if p["lr"] > 0.1 else 1.0 - p["lr"])
    info = get_axis_info(data, "lr")
    assert info.mode == "max" and info.infeasible_y < min(y for s in info.series for y in s.y)
    none = syn.sweep(exp, lambda p: None)
    info = get_axis_info(none, "lr")
    assert info.series == () and info.infeasible_y == 0.0 and len(info.infeasible[0].trial_ids) == 6


def test_failed_trials_are_left_out():
    exp = syn.experiment(trials=4)
    data = syn.sweep(exp, lambda p: "failed" if p["lr"] > 0.1 else 1.0)
    info = get_axis_info(data, "lr")
    failed = set(data.trials.loc[data.trials.state == "failed", "trial_id"])
    shown = {t for s in info.series + info.infeasible for t in s.trial_ids}
    assert failed and not failed & shown
