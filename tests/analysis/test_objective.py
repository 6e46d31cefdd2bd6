"""Changing the objective after the fact, and every check of this folder on a real store.

``with_objective`` recomputes from stored curves; the last test runs
``tunebook run`` on a tiny program and checks that what analysis recomputes
agrees with what the executor stored, then runs each check on that store.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tunebook.analysis import load
from tunebook.analysis.checks.best_step import check_best_step
from tunebook.analysis.checks.boundary import check_search_space_boundary
from tunebook.analysis.checks.caveats import check_fixed_caveats
from tunebook.analysis.checks.infeasible import check_infeasible_fraction
from tunebook.analysis.checks.sampled_enough import check_sampled_enough
from tunebook.analysis.findings import Finding, Severity
from tunebook.analysis.objective import parse_objective, with_objective
from tunebook.core.errors import SpecError
from tunebook.core.experiment import Objective

from ..execution.harness import run_cli, store_url, write_program, write_spec
from . import synthetic

# valid/loss dips at step 20 then rises (overfits); accuracy rises to step 30, then dips.
CURVES = {
    "valid/loss": [(0, 3.0), (10, 2.0), (20, 1.0), (30, 1.5), (40, 2.5)],
    "valid/acc": [(0, 0.1), (10, 0.5), (20, 0.7), (30, 0.8), (40, 0.6)],
}


def curve_data():
    exp = synthetic.experiment(objective="valid/loss:min")
    rows = [
        ("default", {"lr": 0.01}, CURVES),
        ("default", {"lr": 0.02}, {"valid/loss": [(0, 2.0), (10, 0.5)]}),  # never logged accuracy
        ("default", {"lr": 0.5}, None),  # infeasible
        ("default", {"lr": 0.03}, {"valid/loss": [(0, math.nan), (10, math.inf)]}),  # no finite value
    ]
    return synthetic.frames(exp, rows)


def by_id(data, column):
    return dict(zip(data.trials["trial_id"], data.trials[column]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("valid/loss", Objective("valid/loss", "min", "best")),
        ("valid/loss:min", Objective("valid/loss", "min", "best")),
        ("accuracy:max", Objective("accuracy", "max", "best")),
        ("accuracy:max:final", Objective("accuracy", "max", "final")),
        ("accuracy:final:max", Objective("accuracy", "max", "final")),
        ("loss:final", Objective("loss", "min", "final")),
        ("eval:loss:max", Objective("eval:loss", "max", "best")),  # a metric may hold ':'
        (" valid/loss : max ", Objective("valid/loss", "max", "best")),
    ],
)
def test_parse_objective_reads_metric_mode_and_reduce(text, expected):
    assert parse_objective(text) == expected


@pytest.mark.parametrize("text", ["", "   ", ":min", "loss:min:max", "loss:best:final", "loss:min:min"])
def test_parse_objective_rejects_malformed_text_naming_it(text):
    with pytest.raises(SpecError, match="objective"):
        parse_objective(text)


@given(
    metric=st.from_regex(r"[A-Za-z_][A-Za-z0-9_/.-]{0,20}", fullmatch=True).filter(
        lambda m: m not in ("min", "max", "best", "final")),
    mode=st.sampled_from(["min", "max"]),
    reduce=st.sampled_from(["best", "final"]),
)
def test_parse_objective_round_trips_any_metric_name(metric, mode, reduce):
    assert parse_objective(f"{metric}:{mode}:{reduce}") == Objective(metric, mode, reduce)
    assert parse_objective(f"{metric}:{reduce}") == Objective(metric, "min", reduce)


def test_best_over_training_is_the_default_and_finds_the_best_step():
    data = with_objective(curve_data())
    assert data.objective == Objective("valid/loss", "min", "best")
    assert by_id(data, "objective")[1] == 1.0 and by_id(data, "best_step")[1] == 20
    assert by_id(data, "objective")[2] == 0.5 and by_id(data, "best_step")[2] == 10


def test_final_takes_the_last_logged_value():
    data = with_objective(curve_data(), reduce="final")
    assert data.objective.reduce == "final"
    assert by_id(data, "objective")[1] == 2.5 and by_id(data, "best_step")[1] == 40


def test_another_metric_in_the_other_direction():
    data = with_objective(curve_data(), metric="valid/acc", mode="max")
    assert data.objective == Objective("valid/acc", "max", "best")
    assert by_id(data, "objective")[1] == 0.8 and by_id(data, "best_step")[1] == 30
    final = with_objective(curve_data(), metric="valid/acc", mode="max", reduce="final")
    assert by_id(final, "objective")[1] == 0.6


def test_min_and_max_pick_opposite_ends_of_the_same_curve():
    lowest = with_objective(curve_data(), mode="min")
    highest = with_objective(curve_data(), mode="max")
    assert by_id(lowest, "objective")[1] == 1.0 and by_id(highest, "objective")[1] == 3.0
    assert by_id(highest, "best_step")[1] == 0


def test_trials_without_the_metric_or_not_complete_get_nan():
    data = with_objective(curve_data(), metric="valid/acc", mode="max")
    objective, best_step = by_id(data, "objective"), by_id(data, "best_step")
    assert math.isnan(objective[2]) and math.isnan(best_step[2])  # never logged valid/acc
    assert math.isnan(objective[3])  # infeasible
    assert math.isnan(by_id(with_objective(curve_data()), "objective")[4])  # only NaN and inf logged


def test_the_input_is_left_unchanged():
    original = curve_data()
    before = original.trials.copy()
    with_objective(original, metric="valid/acc", mode="max")
    assert original.trials.equals(before) and original.objective.metric == "valid/loss"


def test_unknown_words_and_metrics_are_named_in_the_error():
    with pytest.raises(SpecError, match="objective.mode.*'lowest'"):
        with_objective(curve_data(), mode="lowest")
    with pytest.raises(SpecError, match="objective.reduce.*'last'"):
        with_objective(curve_data(), reduce="last")
    with pytest.raises(SpecError, match=r"valid/los'.*valid/acc, valid/loss"):
        with_objective(curve_data(), metric="valid/los")


# A tiny training program: JSON lines; the loss turns NaN (diverges) above lr 0.3.
PROGRAM = """
import json, math, sys
lr, width = float(sys.argv[1]), int(sys.argv[2])
for step in range(0, 50, 10):
    loss = (math.log10(lr) + 1.2) ** 2 + 1.0 / width + 2.0 / (step + 1) + 0.004 * step
    if lr > 0.3 and step >= 20:
        loss = float("nan")
    print(json.dumps({"step": step, "train_loss": loss, "valid_loss": loss + 0.1, "valid_acc": 1 / (1 + loss)}))
"""


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real")
    write_program(folder, "train.py", PROGRAM)
    spec = write_spec(folder, {"command": "python train.py {lr} {width}", "parallel": 4}, trials=8,
                      nuisance={"lr": {"low": 0.001, "high": 1.0, "scale": "log"}},
                      scientific={"width": [1, 2]}, fixed={"max_train_steps": 40})
    done = run_cli("run", str(spec), "--store", store_url(folder), "--runs", str(folder / "runs"), cwd=folder)
    assert done.returncode == 0, done.stderr
    return load("exp", store_url(folder))


def test_recomputing_the_objective_agrees_with_what_the_executor_stored(real_store):
    assert set(real_store.trials["state"]) == {"complete", "infeasible"}
    again = with_objective(real_store)
    complete = real_store.trials["state"] == "complete"
    assert again.trials.loc[complete, "objective"].tolist() == real_store.trials.loc[complete, "objective"].tolist()
    assert again.trials.loc[complete, "best_step"].tolist() == real_store.trials.loc[complete, "best_step"].tolist()
    accuracy = with_objective(real_store, metric="valid_acc", mode="max", reduce="final")
    assert (accuracy.trials.loc[complete, "best_step"] == 40).all()


def test_every_check_runs_on_a_real_store_and_says_what_it_saw(real_store):
    checks = [check_search_space_boundary, check_infeasible_fraction, check_sampled_enough, check_best_step,
              check_fixed_caveats]
    found = {check.__name__: check(real_store) for check in checks}
    for findings in found.values():
        for finding in findings:
            assert isinstance(finding, Finding) and finding.message and finding.action and finding.section
            json.dumps(finding.to_dict())  # evidence is plain data
    infeasible = found["check_infeasible_fraction"]
    assert {f.study for f in infeasible} == {"width=1", "width=2"}
    assert all(f.evidence["kind"] == "infeasible" and f.evidence["n"] >= 1 for f in infeasible)
    assert all(f.severity is not Severity.PROBLEM for f in infeasible)
    [caveat] = found["check_fixed_caveats"]
    assert caveat.evidence["fixed"] == {"max_train_steps": 40}
    [sampled] = found["check_sampled_enough"]
    assert [g["group"] for g in sampled.evidence["groups"]] == ["width=2", "width=1"]  # wider is better here
    assert {f.study for f in found["check_best_step"]} == {"width=1", "width=2"}
