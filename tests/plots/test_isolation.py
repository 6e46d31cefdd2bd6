import math

import numpy as np
import pytest

from tests.analysis import synthetic as syn
from tunebook.analysis.best import best_per_scientific_value
from tunebook.analysis.checks.sampled_enough import bootstrap_best_of_k
from tunebook.plots.isolation import NOISE_SPANS, get_isolation_info, get_isolation_infos, render_isolation


def test_per_study_best_per_value(two_studies):
    (info,) = get_isolation_infos(two_studies)
    best = best_per_scientific_value(two_studies)
    assert info.param == "act" and info.categories == ("relu", "gelu")
    assert [p.x for p in info.points] == ["relu", "gelu"]
    assert [p.trial_id for p in info.points] == list(best["trial_id"])
    assert [p.best for p in info.points] == pytest.approx(list(best["objective"]))
    assert info.points[0].best > info.points[1].best  # relu is worse by 0.05
    assert not info.has_error_bars and all(p.repeats == 1 and p.std is None for p in info.points)


def test_no_scientific_no_plot():
    data = syn.sweep(syn.experiment(trials=4), lambda p: 1.0)
    assert get_isolation_infos(data) == []


def test_joint_continuous_buckets():
    exp = syn.experiment(scientific={"wd": {"low": 1e-5, "high": 1e-1, "scale": "log"}}, studies="joint", trials=40)
    data = syn.sweep(exp, lambda p: math.log10(p["wd"]) ** 2 + p["lr"])
    info = get_isolation_info(data, "wd", buckets=4)
    assert info.log_x and len(info.points) == 4
    for p in info.points:
        low, high = p.x_range
        assert low <= p.x <= high and p.x == pytest.approx(math.sqrt(low * high))
        rows = data.trials[(data.trials.wd >= low) & (data.trials.wd <= high)]
        assert p.best == rows["objective"].min() and p.n_complete == len(rows)
    assert [p.x for p in info.points] == sorted(p.x for p in info.points)


def test_retrains_give_error_bars():
    exp = syn.experiment(scientific={"act": ["relu", "gelu"]}, trials=3)
    rows = [("act=relu", {"act": "relu", "lr": 0.01}, v) for v in (0.30, 0.34, 0.38)]
    rows += [("act=relu", {"act": "relu", "lr": 0.1}, 0.5)]
    rows += [("act=gelu", {"act": "gelu", "lr": 0.01}, 0.2), ("act=gelu", {"act": "gelu", "lr": 0.1}, 0.25)]
    info = get_isolation_info(syn.frames(exp, rows), "act")
    relu, gelu = info.points
    assert info.has_error_bars
    assert relu.best == 0.30 and relu.trial_id == 1 and relu.repeats == 3
    assert relu.mean == pytest.approx(0.34) and relu.std == pytest.approx(np.std([0.30, 0.34, 0.38], ddof=1))
    assert gelu.repeats == 1 and gelu.std is None and gelu.mean == 0.2 and gelu.n_complete == 2


def test_points_carry_the_checklists_bootstrap_spread(two_studies):
    (info,) = get_isolation_infos(two_studies)
    trials = two_studies.trials
    for p in info.points:
        values = trials.loc[(trials.study == p.group) & (trials.state == "complete"), "objective"].to_numpy(float)
        boot = bootstrap_best_of_k(values, "min", budgets=(len(values) // 2,))
        assert p.spread_k == len(values) // 2
        assert p.spread == pytest.approx(tuple(float(boot.quantile(q)[0]) for q in (0.25, 0.5, 0.75)))
        assert p.best <= p.spread[0] <= p.spread[2]  # the best of all n is at least as good as half of them
        assert p.name == f"{p.group}/{int(trials.set_index('trial_id').at[p.trial_id, 'number'])}"


def test_axis_is_never_tighter_than_the_noise():
    """Two values 0.001 apart whose trials spread over 0.5: the gap must not fill the plot."""
    exp = syn.experiment(scientific={"act": ["relu", "gelu"]}, trials=8)
    spread = np.linspace(0.0, 0.5, 8)
    rows = [("act=relu", {"act": "relu", "lr": 10.0 ** -i}, 1.0 + v) for i, v in enumerate(spread, 1)]
    rows += [("act=gelu", {"act": "gelu", "lr": 10.0 ** -i}, 1.001 + v) for i, v in enumerate(spread, 1)]
    info = get_isolation_info(syn.frames(exp, rows), "act")
    low, high = info.y_range
    noise = max(p.spread_size for p in info.points)
    assert noise > 0.05 and high - low >= NOISE_SPANS * noise
    gap = abs(info.points[0].best - info.points[1].best)
    assert gap / (high - low) < 0.01  # a gap within noise looks like one
    assert all(low <= v <= high for p in info.points for v in (p.best, *p.spread))


def test_axis_takes_in_clear_gaps_and_too_few_trials_get_no_spread():
    exp = syn.experiment(scientific={"act": ["relu", "gelu"]}, trials=6)
    rows = [("act=relu", {"act": "relu", "lr": 10.0 ** -i}, 1.0 + 0.01 * i) for i in range(1, 7)]
    rows += [("act=gelu", {"act": "gelu", "lr": 10.0 ** -i}, 5.0 + 0.01 * i) for i in range(1, 4)]
    relu, gelu = (info := get_isolation_info(syn.frames(exp, rows), "act")).points
    assert relu.spread is not None and gelu.spread is None and gelu.spread_size is None  # 3 < MIN_TRIALS
    low, high = info.y_range
    assert low < relu.best and gelu.best < high and high - low < 1.5 * (gelu.best - relu.best)


def test_a_best_with_retrains_shows_its_seeds_mean_and_std_named_in_the_hover():
    """A retrain study's trials (any study) are the best's repeats; the diverged ones are named, not averaged."""
    from tests.analysis.variance_cases import planted

    data = planted(0.3, 0.1, seed=4, lost=2)
    info = get_isolation_info(data, "depth")
    by_group = {p.group: p for p in info.points}
    two, three = by_group["depth=2"], by_group["depth=3"]
    assert [len(p.repeat_names) for p in (two, three)] == [4, 6] and len(two.repeats_lost) == 2
    assert two.name in two.repeat_names and all(n.startswith("retrain:depth=2:") for n in two.repeat_names[1:])
    values = data.trials.set_index("trial_id")["objective"]
    names = {data.trial_name(t): t for t in data.trials["trial_id"]}
    seeds = [values[names[n]] for n in three.repeat_names]
    assert three.mean == pytest.approx(np.mean(seeds)) and three.std == pytest.approx(np.std(seeds, ddof=1))
    assert three.n_complete == 12  # the search trials only: retrains are not search points
    low, high = info.y_range
    assert all(low <= p.mean - p.std and p.mean + p.std <= high for p in info.points)
    fig = render_isolation(info)
    [trace] = [t for t in fig.data if "trial variance" in t.name]
    assert trace.name == "trial variance, 4–6 seeds (mean ± 1 std)"
    assert list(trace.error_y.array) == pytest.approx([p.std for p in info.points])
    hover = {row[0]: row[3] for row in trace.customdata}
    assert all(n in hover["depth=2"] for n in two.repeats_lost) and two.repeat_names[-1] in hover["depth=2"]
