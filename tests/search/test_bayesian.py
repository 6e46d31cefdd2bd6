"""Bayesian optimization: initial design, infeasible-aware model suggestions, fallbacks, purity, warm start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tunebook.core.errors import MissingExtraError
from tunebook.core.experiment import Experiment
from tunebook.core.states import TrialState
from tunebook.search import Observed, QuasiRandomSampler, sample
from tunebook.search.bayesian import default_initial

from .bo_cases import diverges, experiment, loss, observe, run_sequentially, sampler_of
from .specs import only_sampler, spec

SRC = Path(__file__).resolve().parents[2] / "src"


def quasi_random_history(n: int, seed: int = 7) -> list[Observed]:
    (plan,) = experiment().studies()
    points = QuasiRandomSampler(plan.space, seed)
    return [observe(i, points.params(i), loss(points.params(i))) for i in range(n)]


def test_initial_design_is_the_quasi_random_sequence_of_the_same_space_and_seed():
    bo = sampler_of(experiment(seed=3, initial=6))
    quasi = sampler_of(experiment("quasi_random", seed=3))
    assert bo.history_free_trials == 6
    for i in range(6):
        suggestion = bo.suggest(i, quasi_random_history(i))
        assert suggestion.params == quasi.params(i) and suggestion.info == {"by": "initial"}


def test_default_initial_design_is_twice_the_dimensions_at_least_five():
    assert sampler_of(experiment()).history_free_trials == default_initial(3) == 6
    assert default_initial(1) == 5
    assert only_sampler(spec(algorithm="bayesian", trials=20)).history_free_trials == default_initial(6) == 12


def test_sample_lists_only_the_initial_design():
    planned = sample(experiment(initial=4, trials=30))
    assert [p.number for p in planned] == [0, 1, 2, 3]


def test_a_model_suggestion_says_what_it_saw_and_avoids_the_infeasible_region():
    history = quasi_random_history(12)
    assert any(o.state is TrialState.INFEASIBLE for o in history)
    history.append(Observed(12, history[0].params, TrialState.RUNNING))
    suggestion = sampler_of(experiment(initial=5)).suggest(13, history)
    info = suggestion.info
    assert info["by"] == "model" and info["pending"] == [12] and info["conditioned_on"] == list(range(12))
    assert "expected improvement" in info["reason"] and 0.5 < info["p_feasible"] <= 1.0
    assert info["p_feasible_bound"] >= 0.9  # the floor holds for the conservative bound
    assert not diverges(suggestion.params)
    assert set(suggestion.params) == {"learning_rate", "momentum", "weight_decay"}


def test_with_no_feasible_trial_it_looks_for_feasibility():
    history = [observe(i, p, None) for i, p in enumerate(
        {"learning_rate": lr, "momentum": m, "weight_decay": 0.05} for lr, m in [(0.9, 0.5), (0.5, 0.9), (0.3, 0.2)]
    )]
    suggestion = sampler_of(experiment(initial=3)).suggest(3, history)
    assert suggestion.info["by"] == "model" and "not to diverge" in suggestion.info["reason"]
    assert not diverges(suggestion.params)


@pytest.mark.parametrize("case, history, reason", [
    ("no finished trial", [Observed(0, {"learning_rate": 0.01, "momentum": 0.5, "weight_decay": 0.0},
                                    TrialState.RUNNING)], "no finished trial"),
    ("one trial", [observe(0, {"learning_rate": 0.01, "momentum": 0.5, "weight_decay": 0.0}, 0.3)], "fewer than two"),
    ("identical values", [observe(i, {"learning_rate": 10 ** -i, "momentum": 0.5, "weight_decay": 0.0}, 0.3)
                          for i in range(1, 4)], "fewer than two distinct"),
    ("only crashes", [Observed(0, {"learning_rate": 0.01, "momentum": 0.5, "weight_decay": 0.0}, TrialState.FAILED)],
     "fewer than two"),
])
def test_degenerate_histories_fall_back_to_quasi_random_with_a_reason(case, history, reason, caplog):
    number = len(history)
    suggestion = sampler_of(experiment(initial=1)).suggest(number, history)
    assert suggestion.info["by"] == "fallback" and reason in suggestion.info["reason"]
    assert suggestion.params == sampler_of(experiment("quasi_random")).params(number)
    assert reason in caplog.text


def test_a_failed_fit_falls_back_with_its_reason(monkeypatch, caplog):
    from tunebook.search import bo_models

    def broken(*args, **kwargs):
        raise RuntimeError("cholesky of a singular matrix")

    monkeypatch.setattr(bo_models, "fit_gpytorch_mll", broken)
    suggestion = sampler_of(experiment(initial=5)).suggest(10, quasi_random_history(10))
    assert suggestion.info["by"] == "fallback"
    assert suggestion.info["reason"] == "the model fit failed (RuntimeError: cholesky of a singular matrix)"
    assert "cholesky" in caplog.text


def test_crashed_points_are_not_suggested_again():
    history = quasi_random_history(10)
    best = min((o for o in history if o.objective is not None), key=lambda o: o.objective)
    history.append(Observed(10, {**best.params, "weight_decay": 0.03}, TrialState.FAILED))
    suggestion = sampler_of(experiment(initial=5)).suggest(11, history)
    gaps = [abs(suggestion.params["weight_decay"] - 0.03) * 10, abs(suggestion.params["momentum"] - best.params["momentum"])]
    assert max(gaps) >= 0.01


def test_the_same_history_and_seed_give_the_same_suggestion_from_a_new_sampler():
    history = quasi_random_history(9)
    first = sampler_of(experiment(seed=5, initial=5)).suggest(9, history)
    again = sampler_of(experiment(seed=5, initial=5)).suggest(9, list(reversed(history)))
    assert first == again


@pytest.mark.slow
def test_the_same_history_and_seed_give_the_same_suggestion_in_a_fresh_process():
    history = quasi_random_history(9) + [Observed(9, quasi_random_history(1)[0].params, TrialState.RUNNING)]
    code = f"""
import json
from tunebook.core.states import TrialState
from tunebook.search import Observed
from tests.search.bo_cases import experiment, sampler_of
rows = json.loads({json.dumps(json.dumps([[o.number, dict(o.params), o.state.value, o.objective] for o in history]))})
history = [Observed(n, p, TrialState(s), v) for n, p, s, v in rows]
print(json.dumps(dict(sampler_of(experiment(seed=5, initial=5)).suggest(10, history).params), sort_keys=True))
"""
    env = {"PYTHONPATH": f"{SRC}:{SRC.parent}", "PATH": "/usr/bin:/bin"}
    runs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert all(r.returncode == 0 for r in runs), outputs[0][1][-2000:]
    assert outputs[0][0] == outputs[1][0]
    here = sampler_of(experiment(seed=5, initial=5)).suggest(10, history).params
    assert json.loads(outputs[0][0]) == pytest.approx(dict(here))
    other_seed = sampler_of(experiment(seed=6, initial=5)).suggest(10, history).params
    assert dict(other_seed) != dict(here)


def test_warm_start_trials_inside_the_space_feed_the_model_and_shorten_the_initial_design():
    prior = [Observed(o.number, o.params, o.state, o.objective, origin=f"explore/default/{o.number}")
             for o in quasi_random_history(8)]
    outside = Observed(0, {"learning_rate": 0.01, "momentum": 0.5}, TrialState.COMPLETE, 0.1, origin="other/default/0")
    wider = Observed(1, {"learning_rate": 3.0, "momentum": 0.5, "weight_decay": 0.0}, TrialState.COMPLETE, 0.1,
                     origin="other/default/1")
    sampler = sampler_of(experiment(initial=6), prior=[*prior, outside, wider])
    assert sampler.history_free_trials == 0
    suggestion = sampler.suggest(0, [])
    assert suggestion.info["by"] == "model" and suggestion.info["warm_start"] == 8
    assert suggestion.info["conditioned_on"] == []


def test_a_missing_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "botorch", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'tunebook\[bo\]'"):
        sampler_of(experiment())


def test_branches_count_only_where_active():
    from tunebook.search.encoding import SpaceEncoding

    (plan,) = Experiment.from_dict(spec(algorithm="bayesian", trials=20)).studies()
    encoding = SpaceEncoding(plan.space)
    sgd = [{"learning_rate": lr, "weight_decay": 0.01, "optimizer": "sgd", "batch_size": 128,
            "momentum[optimizer=sgd]": 0.9} for lr in (0.1, 0.01)]
    adam = {"learning_rate": 0.1, "weight_decay": 0.01, "optimizer": "adam", "batch_size": 128,
            "beta1[optimizer=adam]": 0.9, "eps[optimizer=adam]": 1e-8}
    a, b, c = (encoding.features(p) for p in (*sgd, adam))
    differ = [encoding.dims[d].id for d, _ in (encoding.columns[j] for j in range(len(a)) if a[j] != b[j])]
    assert differ == ["learning_rate"]  # sgd trials: adam's columns are equal, the shared lr separates them
    assert a[0] == c[0]  # the shared learning rate compares across branches
    assert encoding.contains(adam) and not encoding.contains({**adam, "momentum[optimizer=sgd]": 0.9})


def test_conditional_space_suggestions_are_valid_points_of_their_branch():
    sampler = only_sampler(spec(algorithm="bayesian", trials=30, initial=8))
    history = []
    for number in range(11):
        params = dict(sampler.suggest(number, history).params)
        value = abs(params["learning_rate"] - 0.01) + (params["optimizer"] == "sgd") * 0.5
        history.append(observe(number, params, value))
    for o in history[8:]:
        assert sampler.encoding.contains(o.params)


@pytest.mark.slow
def test_bo_beats_quasi_random_and_wastes_fewer_trials_on_divergence():
    """3 seeds x 48 trials (initial 6) on the synthetic problem (bo_cases: optimum at effective learning rate 0.1,
    divergence above 0.3, about a fifth of the space diverges).

    BO reaches loss < NEAR_OPTIMUM sooner than quasi-random in every seed, and sends fewer of its 42 trials after
    the initial design into the divergent region. Measured with the floor on the conservative bound
    sigmoid(m - 2 s) >= 0.9 (search.acquisition): first trial near the optimum 15 / 14 / 18 (BO) against
    49+ / 19 / 49+ (quasi-random), best loss 0.00008 / 0.00014 / 0.00011; diverged 5 of 126 against 28 (0.18x).
    Before: the floor on the expected P(feasible) >= 0.9: 10 (0.36x), first near 13 / 9 / 15; >= 0.8: 18 (0.64x);
    the bound at z = 3 with the safest candidate first below it: 3, but first near 24 / 23 / 27. Asserted loosely:
    at most 0.33x (9 of 28), which the expected-P floor (10) fails.
    """
    from .bo_cases import NEAR_OPTIMUM

    def first_near(history):
        hits = [o.number for o in history if o.objective is not None and o.objective < NEAR_OPTIMUM]
        return hits[0] if hits else len(history) + 1

    wins, bo_diverged, qr_diverged = 0, 0, 0
    for seed in range(3):
        bo = run_sequentially(sampler_of(experiment(seed=seed, initial=6, trials=48)), 48)
        qr = run_sequentially(sampler_of(experiment("quasi_random", seed=seed, trials=48)), 48)
        wins += first_near(bo) < first_near(qr)
        bo_diverged += sum(o.state is TrialState.INFEASIBLE for o in bo[6:])
        qr_diverged += sum(o.state is TrialState.INFEASIBLE for o in qr[6:])
    assert wins == 3
    assert bo_diverged <= 0.33 * qr_diverged, (bo_diverged, qr_diverged)
