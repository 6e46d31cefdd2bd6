"""A Bayesian-optimization study run by the Runner with 4 workers: no duplicate points, suggestions recorded."""

from __future__ import annotations

import itertools

import pytest
import yaml

from tunebook.core.errors import NotFoundError
from tunebook.core.states import TrialState
from tunebook.storage import SQLStore

from .harness import all_trials, run_here, store_url, write_program, write_spec

# the synthetic problem of tests/search/bo_cases.py, as a training program; NaN (diverged) past the boundary
PROGRAM = """
import math, time

def train(params, trial):
    time.sleep(0.3)
    lr, momentum, wd = params["learning_rate"], params["momentum"], params["weight_decay"]
    if lr / (1 - momentum) > 0.3:
        trial.log(0, {"loss": float("nan")})
    value = (math.log10(lr) + 2) ** 2 / 4 + (momentum - 0.9) ** 2 * 4 + (wd - 0.03) ** 2 * 100
    trial.log(0, {"loss": value})
"""

SPACE = {
    "learning_rate": {"low": 1e-4, "high": 1.0, "scale": "log"},
    "momentum": {"low": 0.0, "high": 0.99},
    "weight_decay": {"low": 0.0, "high": 0.1},
}


@pytest.mark.slow
def test_four_workers_never_get_the_same_point_and_each_trial_records_what_it_saw(tmp_path):
    write_program(tmp_path, "program.py", PROGRAM)
    spec = write_spec(tmp_path, {"function": "program:train"}, trials=14, nuisance=SPACE,
                      objective={"metric": "loss", "mode": "min"})
    text = spec.read_text().replace("search:\n  trials: 14", "search:\n  trials: 14\n  algorithm: bayesian\n  initial: 4")
    spec.write_text(text)
    (progress,) = run_here(spec, store_url(tmp_path), tmp_path / "runs", parallel=4)
    trials = sorted(all_trials(store_url(tmp_path)), key=lambda t: t.number)
    assert progress.finished == 14 and len(trials) == 14
    by = [t.suggestion["by"] for t in trials]
    assert by[:4] == ["initial"] * 4 and set(by[4:]) <= {"model", "fallback"} and "model" in by
    for a, b in itertools.combinations(trials, 2):  # no two trials within 1 % of the range in every parameter
        gaps = [abs(a.params[k] - b.params[k]) / (SPACE[k]["high"] - SPACE[k]["low"]) for k in ("momentum", "weight_decay")]
        assert max(gaps) >= 0.01 or abs(a.params["learning_rate"] / b.params["learning_rate"] - 1) > 0.05
    later = [t for t in trials if t.suggestion["by"] != "initial"]
    assert any(t.suggestion["pending"] for t in later)  # 4 workers: suggestions were made beside running trials
    for t in later:
        assert t.number not in t.suggestion["conditioned_on"] + t.suggestion["pending"]
        assert set(t.suggestion["conditioned_on"]) | set(t.suggestion["pending"]) <= set(range(t.number))
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.INFEASIBLE}


def bayesian_spec(tmp_path, name, trials, **search):
    spec = write_spec(tmp_path, {"function": "program:train"}, name=name, trials=trials, nuisance=SPACE,
                      objective={"metric": "loss", "mode": "min"}, filename=f"{name}.yaml")
    data = yaml.safe_load(spec.read_text())
    data["search"].update(search)
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    return spec


def test_a_warm_start_naming_an_absent_experiment_stops_before_writing(tmp_path):
    write_program(tmp_path, "program.py", PROGRAM)
    spec = bayesian_spec(tmp_path, "exploit", 4, algorithm="bayesian", warm_start=["explor"])
    with pytest.raises(NotFoundError, match="no experiment named 'explor'"):
        run_here(spec, store_url(tmp_path), tmp_path / "runs")
    with SQLStore(store_url(tmp_path)) as store:
        assert store.list_experiments() == []


@pytest.mark.slow
def test_warm_start_from_an_exploration_round(tmp_path):
    write_program(tmp_path, "program.py", PROGRAM)
    run_here(bayesian_spec(tmp_path, "explore", 8), store_url(tmp_path), tmp_path / "runs", parallel=2)
    spec = bayesian_spec(tmp_path, "exploit", 3, algorithm="bayesian", initial=5, warm_start=["explore"])
    run_here(spec, store_url(tmp_path), tmp_path / "runs", parallel=1)
    trials = sorted(all_trials(store_url(tmp_path), "exploit"), key=lambda t: t.number)
    # the 8 exploration trials count toward the initial design of 5: the model suggests from trial 0
    assert [t.suggestion["by"] for t in trials] == ["model"] * 3
    assert [t.suggestion["warm_start"] for t in trials] == [8] * 3
    assert [t.suggestion["conditioned_on"] for t in trials] == [[], [0], [0, 1]]
