"""plan adam: which of Adam's hyperparameters the playbook tunes for a budget, over what ranges."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunebook.core import Experiment, Range
from tunebook.core.domains import Choice, Fixed
from tunebook.core.errors import SpecError
from tunebook.plans import PlanInputError, adam, write_plan
from tunebook.plans.adam import MANY_TRIALS, tuned_for

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits" / "spec.yaml"


@pytest.mark.parametrize("trials, tuned", [
    (1, ("learning_rate",)), (9, ("learning_rate",)),
    (10, ("learning_rate", "beta1")), (24, ("learning_rate", "beta1")),
    (25, ("learning_rate", "beta1", "eps")), (49, ("learning_rate", "beta1", "eps")),
    (50, ("learning_rate", "beta1", "eps", "beta2")), (200, ("learning_rate", "beta1", "eps", "beta2")),
])
def test_the_playbooks_budgets_decide_what_is_tuned(trials, tuned):
    assert tuned_for(trials) == tuned
    assert MANY_TRIALS == 50


def _written(plan, tmp_path: Path) -> Experiment:
    return Experiment.from_yaml(str(write_plan(plan, tmp_path / "adam.yaml")))


def test_what_is_not_tuned_is_fixed_at_adams_defaults(tmp_path: Path):
    experiment = _written(adam(trials=12), tmp_path)
    space = {hp.name: hp for hp in experiment.space}
    assert space["learning_rate"].role == space["beta1"].role == "nuisance"
    assert space["learning_rate"].domain == Range(1e-5, 1e-1, "log")
    assert space["beta1"].domain == Range(0.8, 0.99)
    assert space["beta2"].domain == Fixed(0.999) and space["eps"].domain == Fixed(1e-8)
    assert space["optimizer"].domain == Fixed("adam")
    assert experiment.search.algorithm == "quasi_random" and experiment.search.trials == 12
    assert experiment.run["function"] == "train:train"


def test_with_many_trials_eps_is_log_scaled_and_beta2_spans_orders_of_magnitude_of_one_minus_beta2(tmp_path: Path):
    space = {hp.name: hp for hp in _written(adam(trials=60), tmp_path).space}
    assert space["eps"].domain.scale == "log"
    assert space["beta2"].domain == Choice((0.9, 0.99, 0.999, 0.9999))


def test_from_a_spec_choosing_optimizers_keeps_its_science_and_narrows_to_adam(tmp_path: Path):
    plan = adam(trials=30, spec=DIGITS)
    experiment = _written(plan, tmp_path)
    space = {hp.id: hp for hp in experiment.space}
    assert space["num_layers"].role == "scientific"
    assert space["optimizer"].domain == Fixed("adam")
    assert "momentum" not in {hp.name for hp in experiment.space}  # the sgd branch is gone
    assert space["learning_rate"].domain == Range(1e-4, 10.0, "log")  # the spec's own range is kept
    assert {"beta1", "eps"} <= set(space) and space["beta2"].domain == Fixed(0.999)
    assert experiment.objective.metric == "valid/error"
    assert any("spec's range" in r.text for r in plan.reasons)


def test_the_written_spec_runs_the_same_program_from_another_folder(tmp_path: Path):
    path = write_plan(adam(trials=5, spec=DIGITS), tmp_path / "plans" / "adam.yaml")
    workdir = Experiment.from_yaml(str(path)).run["workdir"]
    assert (path.parent / workdir).resolve() == DIGITS.parent


def test_a_spec_without_adam_is_refused_naming_the_field(tmp_path: Path):
    spec = tmp_path / "sgd.yaml"
    spec.write_text("name: s\nobjective: loss\nnuisance: {optimizer: [sgd, momentum]}\n"
                    "search: {trials: 3}\n")
    with pytest.raises(SpecError, match="nuisance.optimizer: the adam plan tunes Adam alone"):
        adam(trials=5, spec=spec)


@pytest.mark.parametrize("trials", [0, -3, 2.5, True])
def test_a_bad_budget_is_refused(trials):
    with pytest.raises(PlanInputError, match="trials: must be an integer >= 1"):
        adam(trials=trials)
