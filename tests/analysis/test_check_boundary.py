"""``search_space_boundary``: fires when the best trials crowd an edge, stays silent otherwise.

Truths are planted with a quadratic in the log-position of ``lr`` (0 at
1e-4, 1 at 1): an optimum at 1.3 lies above the range, at 0.5 inside it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tunebook.analysis.best import ranked
from tunebook.analysis.checks.boundary import (
    INSTABILITY_SECTION, SECTION, check_search_space_boundary, top_count, unit_position,
)
from tunebook.analysis.findings import Severity
from tunebook.core.domains import Range

from . import synthetic

NOISE_DIMS = {"lr": synthetic.LR, "wd": {"low": 1e-6, "high": 1e-2, "scale": "log"},
              "momentum": {"low": 0.0, "high": 0.99}}


def warnings(data):
    return [f for f in check_search_space_boundary(data) if f.severity is Severity.WARNING]


def test_unit_position_is_on_the_range_own_scale():
    log = Range(1e-4, 1.0, "log")
    assert unit_position(log, [1e-4, 1e-2, 1.0]) == pytest.approx([0.0, 0.5, 1.0])
    assert unit_position(Range(0.0, 10.0), [2.5, 12.0, -1.0]) == pytest.approx([0.25, 1.0, 0.0])


def test_top_count_is_at_least_three_and_a_tenth():
    assert [top_count(n) for n in (7, 30, 31, 100)] == [3, 3, 4, 10]


@pytest.mark.parametrize(("optimum", "side"), [(1.3, "high"), (-0.3, "low")])
def test_an_optimum_outside_the_range_says_expand_it(optimum, side):
    data = synthetic.sweep(synthetic.experiment(scientific={"width": [1, 2]}), synthetic.quadratic(optimum))
    found = warnings(data)
    assert {(f.study, f.evidence["param"], f.evidence["side"]) for f in found} == {
        ("width=1", "lr", side), ("width=2", "lr", side)}
    finding = found[0]
    assert finding.section == SECTION and finding.id == "search_space_boundary"
    assert "not wide enough" in finding.message and "expanded" in finding.action
    assert ("above 1" if side == "high" else "below 0.0001") in finding.action
    best = ranked(data, finding.study).iloc[0]
    assert finding.evidence["best"]["trial"] == data.trial_name(best["trial_id"])
    assert data.trial_name(best["trial_id"]) in finding.message
    assert finding.evidence["k"] == 3 and len(finding.evidence["top"]) == 3
    assert finding.evidence["region"] is None and finding.evidence["p_value"] < 0.05


def test_an_optimum_just_inside_the_edge_still_crowds_it():
    data = synthetic.sweep(synthetic.experiment(), synthetic.quadratic(0.97))
    [finding] = warnings(data)
    assert finding.evidence["side"] == "high"


@pytest.mark.parametrize("seed", range(5))
def test_an_interior_optimum_is_silent(seed):
    exp = synthetic.experiment(nuisance=NOISE_DIMS, trials=40, seed=seed)
    assert check_search_space_boundary(synthetic.sweep(exp, synthetic.quadratic(0.5, noise=0.01, seed=seed))) == []


def test_a_log_range_is_judged_in_log_space():
    # lr = 0.01 is the middle of [1e-4, 1] in log space but 1 % of the way on a linear scale
    exp = synthetic.experiment(trials=30)
    assert check_search_space_boundary(synthetic.sweep(exp, lambda p: abs(math.log10(p["lr"]) + 2))) == []


def test_only_the_dimension_that_matters_is_flagged():
    exp = synthetic.experiment(nuisance=NOISE_DIMS, trials=40)
    rng = np.random.default_rng(1)
    data = synthetic.sweep(exp, lambda p: (synthetic.log_position(p["lr"]) - 1.3) ** 2 + 0.01 * rng.normal())
    assert [f.evidence["param"] for f in warnings(data)] == ["lr"]


def test_noise_in_every_dimension_rarely_cries_wolf():
    fired = 0
    for seed in range(100):
        exp = synthetic.experiment(nuisance=NOISE_DIMS, trials=30, seed=seed)
        rng = np.random.default_rng(seed)
        fired += len(warnings(synthetic.sweep(exp, lambda p: float(rng.normal()))))
    # 300 dimensions judged; measured about 1.5 % per dimension over 300 seeds
    assert fired <= 9


def test_the_best_at_the_edge_of_an_infeasible_region_is_a_sign_of_instability():
    def outcome(p):  # better and better towards lr = 1, but everything above 0.1 diverges
        return None if p["lr"] > 0.1 else (synthetic.log_position(p["lr"]) - 1.3) ** 2
    data = synthetic.sweep(synthetic.experiment(trials=30), outcome)
    [finding] = check_search_space_boundary(data)
    assert finding.severity is Severity.WARNING and finding.section == INSTABILITY_SECTION
    assert finding.evidence["side"] == "high"
    region = finding.evidence["region"]
    infeasible = data.trials[data.trials["state"] == "infeasible"]
    assert sorted(region["trials"]) == sorted(data.trial_name(t) for t in infeasible["trial_id"])
    assert region["threshold"] == infeasible["lr"].min() and region["threshold"] > 0.1
    assert "stability issues" in finding.message and "infeasible" in finding.message
    assert "not wide enough" not in finding.message and "warmup" in finding.action


def test_an_infeasible_region_far_from_an_interior_optimum_is_silent():
    def outcome(p):
        return None if p["lr"] > 0.1 else synthetic.quadratic(0.4)(p)
    assert check_search_space_boundary(synthetic.sweep(synthetic.experiment(trials=30), outcome)) == []


def test_choices_and_scientific_ranges_are_not_judged():
    exp = synthetic.experiment(
        nuisance={"lr": synthetic.LR, "act": ["relu", "gelu", "tanh"]},
        scientific={"wd": {"low": 1e-6, "high": 1e-2, "scale": "log"}}, studies="joint", trials=40)
    # best at the top of the scientific wd range and at the first activation: neither is a boundary to expand
    data = synthetic.sweep(exp, lambda p: -math.log10(p["wd"]) + (p["act"] != "relu") + synthetic.quadratic(0.5)(p))
    assert check_search_space_boundary(data) == []


def test_a_conditional_range_is_judged_on_its_branch_only():
    exp = synthetic.experiment(
        nuisance={"opt": ["adam", "sgd"], "opt=adam": {"beta": {"low": 0.5, "high": 0.99}}, "lr": synthetic.LR},
        trials=60)
    data = synthetic.sweep(exp, lambda p: 10 * (p.get("beta[opt=adam]", 0.9) - 1.05) ** 2
                           + synthetic.quadratic(0.5)(p) + (0.0 if p["opt"] == "adam" else 0.5))
    [finding] = warnings(data)
    assert finding.evidence["param"] == "beta[opt=adam]" and finding.evidence["side"] == "high"
    assert finding.evidence["n"] == data.trials["beta[opt=adam]"].notna().sum()


def test_a_study_too_small_to_judge_says_so():
    data = synthetic.sweep(synthetic.experiment(trials=6), synthetic.quadratic(1.3))
    assert warnings(synthetic.sweep(synthetic.experiment(trials=8), synthetic.quadratic(1.3)))  # 8 are enough
    [finding] = check_search_space_boundary(data)
    assert finding.severity is Severity.INFO and "too few" in finding.message
    assert finding.evidence == {"study": "default", "trials": {"lr": 6}, "needed": 8}
    assert "lr (6)" in finding.message


def test_a_maximised_objective_crowds_the_edge_where_it_is_highest():
    exp = synthetic.experiment(objective="accuracy:max", trials=20)
    data = synthetic.sweep(exp, lambda p: -synthetic.quadratic(-0.3)(p))
    [finding] = warnings(data)
    assert finding.evidence["side"] == "low"


def with_model_trials(data, model_rows):
    """``data`` plus Bayesian ``model_rows`` (study, params, outcome), all marked ``suggested_by = "model"``."""
    rows = [(s, {k: v for k, v in r.items() if k in data.param_ids()}, o)
            for s, r, o in zip(data.trials["study"], data.trials.to_dict("records"), data.trials["objective"])]
    out = synthetic.frames(data.experiment, rows + model_rows)
    out.trials["suggested_by"] = ["initial"] * len(rows) + ["model"] * len(model_rows)
    return out


def test_a_bayesian_study_is_judged_on_its_quasi_random_trials_only():
    """Model trials crowding an edge (where the model went looking) do not fire the check; they would if uniform."""
    exp = synthetic.experiment(trials=20)
    uniform = synthetic.sweep(exp, synthetic.quadratic(0.5))  # optimum inside: silent
    assert warnings(uniform) == []
    crowd = [("default", {"lr": 0.9 - 0.01 * i}, -1.0 + 0.01 * i) for i in range(12)]  # the best values, at the high edge
    data = with_model_trials(uniform, crowd)
    findings = check_search_space_boundary(data)
    assert [f for f in findings if f.severity is Severity.WARNING] == []
    (info,) = [f for f in findings if "Bayesian" in f.message]
    assert info.evidence == {"study": "default", "model_trials": 12, "judged_trials": 20}
    as_if_uniform = with_model_trials(uniform, crowd)
    as_if_uniform.trials["suggested_by"] = None
    assert warnings(as_if_uniform)  # the same points read as a uniform sample would fire
