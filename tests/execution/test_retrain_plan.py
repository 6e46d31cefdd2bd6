"""The retrain study's plan: which seed each repeat gets, and which seed parameters are refused."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tunebook.core.experiment import Experiment
from tunebook.core.records import StudyRecord, Trial
from tunebook.core.states import TrialState
from tunebook.execution.retrain import (
    RetrainError, repeat_seeds, retrain_study, seed_notice, seed_slot, source_seed, study_key,
)

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def experiment(**roles) -> Experiment:
    spec = {"name": "exp", "objective": {"metric": "loss", "mode": "min"},
            "nuisance": {"lr": {"low": 0.01, "high": 1.0, "scale": "log"}},
            "search": {"trials": 3}, "run": {"command": "python train.py"}}
    for role, values in roles.items():
        spec.setdefault(role, {}).update(values)
    return Experiment.from_dict(spec)


def trial(params: dict, number: int = 5) -> Trial:
    return Trial(id=42, study_id=7, number=number, params=params, state=TrialState.COMPLETE, attempt=0,
                 worker="w", created_at=NOW, started_at=NOW, finished_at=NOW, heartbeat_at=NOW, objective=0.5,
                 best_step=3, reason=None)


def seeds_for(exp: Experiment, params: dict, n: int) -> list[int]:
    slot = seed_slot(exp, trial(params), "seed")
    return repeat_seeds(slot, source_seed(slot, trial(params)), n)


def test_an_unbounded_seed_takes_the_next_integers_after_the_source_seed():
    exp = experiment(fixed={"seed": 3})
    assert seeds_for(exp, {"lr": 0.1, "seed": 3}, 4) == [4, 5, 6, 7]
    assert seeds_for(experiment(), {"lr": 0.1}, 3) == [1, 2, 3]  # no seed: the source ran with a program default


def test_an_integer_range_wraps_around_and_never_repeats_the_source_seed():
    exp = experiment(nuisance={"seed": {"low": 0, "high": 4, "type": "int"}})
    seeds = seeds_for(exp, {"lr": 0.1, "seed": 2}, 4)
    assert seeds == [3, 4, 0, 1]
    with pytest.raises(RetrainError, match=r"-n 5: hyperparameter 'seed' .* has 5 values, so at most 4 repeats"):
        seeds_for(exp, {"lr": 0.1, "seed": 2}, 5)


def test_a_choice_of_integers_takes_the_other_values_in_order():
    exp = experiment(nuisance={"seed": [10, 20, 30, 40]})
    assert seeds_for(exp, {"lr": 0.1, "seed": 30}, 3) == [40, 10, 20]


def test_a_larger_n_extends_the_same_sequence():
    exp = experiment(nuisance={"seed": {"low": 0, "high": 10**6, "type": "int"}})
    params = {"lr": 0.1, "seed": 999_998}
    assert seeds_for(exp, params, 7)[:3] == seeds_for(exp, params, 3) == [999_999, 1_000_000, 0]


@pytest.mark.parametrize("domain, shown", [
    ({"low": 0.0, "high": 5.0}, "float range"),
    (["a", "b"], "not an integer"),
    (1.5, "not an integer"),
])
def test_a_seed_that_is_not_an_integer_is_refused(domain, shown):
    role = "fixed" if not isinstance(domain, (dict, list)) else "nuisance"
    exp = experiment(**{role: {"seed": domain}})
    with pytest.raises(RetrainError, match=f"--seed-param seed: hyperparameter 'seed' is .*{shown}"):
        seed_slot(exp, trial({"lr": 0.1}), "seed")


def test_a_named_seed_parameter_must_exist_but_the_default_may_be_absent():
    exp = experiment()
    assert seed_slot(exp, trial({"lr": 0.1}), "seed").domain is None
    with pytest.raises(RetrainError, match="no hyperparameter 'rng'; its hyperparameters: lr"):
        seed_slot(exp, trial({"lr": 0.1}), "rng", required=True)


def test_the_study_reruns_the_source_params_with_only_the_seed_changed():
    exp = experiment(fixed={"seed": 0}, scientific={"width": [4, 16]})
    source = trial({"lr": 0.1, "width": 16, "seed": 0})
    study = StudyRecord(id=7, experiment_id=1, key="width=16", scientific={"width": 16}, budget=3, created_at=NOW)
    slot = seed_slot(exp, source, "seed")
    plan = retrain_study("retrain", source, study, slot, n=3)
    assert (plan.key, plan.budget, plan.source_trial_id, dict(plan.scientific)) == ("retrain:width=16:5", 3, 42,
                                                                                    {"width": 16})
    assert [plan.sampler.params(i) for i in range(3)] == [{"lr": 0.1, "width": 16, "seed": s} for s in (1, 2, 3)]
    assert retrain_study("retrain", source, study, slot, n=2, had=4).budget == 4  # a budget never shrinks
    assert "fixed at 0 in the spec; each repeat overrides it" in seed_notice(slot)
    assert study_key("rerun", "default", 0) == "rerun:default:0"


def test_no_seed_in_the_spec_warns_that_the_program_s_own_noise_is_the_variance():
    notice = seed_notice(seed_slot(experiment(), trial({"lr": 0.1}), "seed"))
    assert notice.startswith("warning: the experiment has no hyperparameter 'seed'")
    assert "its own non-determinism, which is then the trial variance" in notice
    exp = experiment(nuisance={"seed": {"low": 0, "high": 9, "type": "int"}})
    assert seed_notice(seed_slot(exp, trial({"lr": 0.1, "seed": 1}), "seed")) is None
