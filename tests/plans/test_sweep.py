"""plan lr-sweep and advise max-steps: an initial max_train_steps from a constant learning rate sweep."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tunebook.core import Experiment
from tunebook.core.errors import SpecError
from tunebook.plans import PlanInputError, lr_sweep, max_steps, write_plan
from tunebook.plans.sweep import default_points

from .stored import falling, spec, store_experiment, trial

HERE = Path(__file__).resolve().parent

SPEC = """
name: base
objective: {metric: valid/loss, mode: min}
scientific: {num_layers: [2, 3]}
nuisance:
  learning_rate: {low: 1e-3, high: 1.0, scale: log}
  dropout: {low: 0.1, high: 0.5}
  optimizer: [momentum, adam]
  optimizer=momentum:
    momentum: {low: 0.5, high: 0.99}
    weight_decay: {low: 1e-5, high: 1e-3, scale: log}
fixed: {max_train_steps: 400, label_smoothing: 0.1, schedule: linear, decay_steps: 100}
search: {trials: 10}
run: {function: toy_train:train}
"""


@pytest.fixture
def base(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    return path


def test_a_constant_learning_rate_grid_without_regularization(base: Path, tmp_path: Path):
    plan = lr_sweep(base)
    experiment = Experiment.from_yaml(str(write_plan(plan, tmp_path / "out.yaml")))
    fixed = {hp.name: hp.domain.value for hp in experiment.caveats}
    assert experiment.search.algorithm == "grid" and experiment.search.resolution == 7  # 3 decades: 2 x 3 + 1
    assert [hp.name for hp in experiment.space.varied] == ["learning_rate"]
    assert experiment.space["learning_rate"].domain.scale == "log"
    assert fixed["dropout"] == fixed["weight_decay"] == fixed["label_smoothing"] == 0
    assert fixed["schedule"] == "constant" and fixed["warmup_steps"] == 0 and "decay_steps" not in fixed
    assert fixed["max_train_steps"] == 400
    assert fixed["num_layers"] == 2 and fixed["optimizer"] == "momentum" and fixed["momentum"] == 0.9
    assert experiment.objective.metric == "train/loss" and experiment.objective.mode == "min"
    off = next(r.text for r in plan.reasons if r.text.startswith("regularization off"))
    assert "dropout" in off and "weight_decay" in off and "label_smoothing" in off


def test_the_range_points_steps_and_pins_can_be_given(base: Path):
    plan = lr_sweep(base, low=1e-4, high=1e-1, points=4, max_train_steps=1000,
                    pins={"optimizer": "adam", "num_layers": 3})
    spec_data = plan.spec
    assert spec_data["nuisance"]["learning_rate"] == {"low": 1e-4, "high": 1e-1, "scale": "log"}
    assert spec_data["search"]["resolution"] == 4
    assert spec_data["fixed"]["max_train_steps"] == 1000 and spec_data["fixed"]["num_layers"] == 3
    assert "momentum" not in spec_data["fixed"] and "weight_decay" not in spec_data["fixed"]


def test_default_points_are_half_a_decade_apart():
    assert default_points(1e-3, 1.0) == 7
    assert default_points(1e-4, 10.0) == 11
    assert default_points(0.1, 0.3) == 5


def test_bad_input_names_the_field(base: Path, tmp_path: Path):
    with pytest.raises(PlanInputError, match="pin nope: is not a hyperparameter"):
        lr_sweep(base, pins={"nope": 1})
    with pytest.raises(PlanInputError, match="0 < low < high"):
        lr_sweep(base, low=1.0, high=0.1)
    bare = tmp_path / "bare.yaml"
    bare.write_text("name: b\nobjective: loss\nfixed: {learning_rate: 0.1}\nsearch: {algorithm: grid}\n")
    with pytest.raises(SpecError, match="give --low and --high"):
        lr_sweep(bare)
    with pytest.raises(SpecError, match="give --max-steps N"):
        lr_sweep(bare, low=0.01, high=1.0)


def _sweep(tmp_path: Path, outcomes: dict[float, object]) -> str:
    """A stored sweep: per learning rate, a loss decay rate (higher: fits sooner) or 'infeasible'."""
    url = f"sqlite:///{tmp_path / 'tunebook.db'}"
    rows = []
    for lr, outcome in outcomes.items():
        if outcome == "infeasible":
            rows.append(trial({"learning_rate": lr, "max_train_steps": 300}, {"train/loss": falling(3)},
                              state="infeasible", reason="loss is nan at step 3"))
        else:
            rows.append(trial({"learning_rate": lr, "max_train_steps": 300}, {"train/loss": falling(300, rate=outcome)}))
    sweep_spec = spec("sweep", nuisance={"learning_rate": {"low": min(outcomes), "high": max(outcomes), "scale": "log"}},
                      fixed={"max_train_steps": 300})
    store_experiment(url, sweep_spec, rows)
    return url


def test_the_fastest_trial_to_fit_gives_max_train_steps(tmp_path: Path):
    # loss 2 x exp(-rate x step) <= 0.02 from step ceil(ln(100) / rate)
    url = _sweep(tmp_path, {0.001: 0.005, 0.01: 0.02, 0.1: 0.05, 1.0: 0.03})
    advice = max_steps("sweep", "train/loss<=0.02", url)
    assert advice.numbers["max_train_steps"] == 93 and advice.numbers["fastest"]["learning_rate"] == 0.1
    assert advice.warnings == () and advice.numbers["edge"] is None
    assert any("Initial max_train_steps: 93" in line for line in advice.lines)
    assert any("not within 300 steps" in line for line in advice.lines)


def test_the_fastest_rate_at_the_edge_of_the_sweep_cannot_be_trusted(tmp_path: Path):
    url = _sweep(tmp_path, {0.001: 0.02, 0.01: 0.03, 0.1: 0.04, 1.0: 0.05})
    advice = max_steps("sweep", "train/loss<=0.02", url)
    assert advice.numbers["edge"] == "high"
    assert "cannot be trusted" in advice.warnings[0] and "extend the range above 1" in advice.warnings[0]


def test_the_fastest_rate_next_to_diverged_ones_points_to_instability(tmp_path: Path):
    url = _sweep(tmp_path, {0.001: 0.02, 0.01: 0.03, 0.1: 0.05, 1.0: "infeasible"})
    advice = max_steps("sweep", "train/loss<=0.02", url)
    assert advice.numbers["edge"] == "feasible"
    assert "stability issues" in advice.warnings[0] and "plan instability" in advice.warnings[0]


def test_no_trial_fitting_says_to_train_longer(tmp_path: Path):
    url = _sweep(tmp_path, {0.001: 0.001, 0.01: 0.002, 0.1: 0.003})
    advice = max_steps("sweep", "train/loss<=0.02", url)
    assert "max_train_steps" not in advice.numbers
    assert "more steps than 300" in advice.warnings[0]


def test_a_fit_on_a_metric_never_logged_lists_the_logged_ones(tmp_path: Path):
    url = _sweep(tmp_path, {0.01: 0.02, 0.1: 0.05})
    with pytest.raises(PlanInputError, match="no trial of 'sweep' logged 'train/error'; logged metrics: train/loss"):
        max_steps("sweep", "train/error<=0", url)
    with pytest.raises(PlanInputError, match="METRIC<=VALUE"):
        max_steps("sweep", "train/loss<0.1", url)


@pytest.mark.slow
def test_the_planned_sweep_really_runs_and_gives_max_train_steps(base: Path, tmp_path: Path):
    from tests.execution.harness import run_here

    shutil.copy(HERE / "toy_train.py", tmp_path / "toy_train.py")
    path = write_plan(lr_sweep(base, low=0.01, high=1.0, points=5, max_train_steps=600), tmp_path / "plans" / "s.yaml")
    url = f"sqlite:///{tmp_path / 'tunebook.db'}"
    run_here(path, url, tmp_path / "runs")
    advice = max_steps("base-lr-sweep", "train/error<=0", url)
    # the toy fits at loss < 0.02, falling by exp(-0.05 lr) per step; 1.0 diverges at once
    fastest = advice.numbers["fastest"]
    assert fastest["learning_rate"] == pytest.approx(0.316228, rel=1e-4)
    assert 300 < advice.numbers["max_train_steps"] < 400
    assert advice.numbers["edge"] == "feasible"
