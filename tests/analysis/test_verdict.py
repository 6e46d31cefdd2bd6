"""The verdict on labelled cases: synthetic experiments with a known truth, and the verdict a reader should get."""

from __future__ import annotations

import json
import math
import shlex

import numpy as np
import pytest

from tests.analysis import synthetic
from tests.analysis.test_check_sampled_enough import two_studies
from tunebook.analysis.best import ranked
from tunebook.analysis.checklist import run_checklist
from tunebook.analysis.findings import Finding, Severity
from tunebook.analysis.verdict import CASES, decide

STORE = "sqlite:////tmp/some where/tunebook.db"  # a space: commands must quote it
SPEC = "specs/my spec.yaml"


def verdict_of(data, **where):
    return decide(data, run_checklist(data), **({"store": STORE, "spec": SPEC} | where))


def commands(verdict) -> list[list[str]]:
    return [shlex.split(s.command) for s in verdict.next_steps if s.command]


def best_name(data, study: str) -> str:
    return data.trial_name(int(ranked(data, study)["trial_id"].iloc[0]))


def test_a_clear_winner_is_named_with_its_objective_and_trial_and_the_evidence_supports_it():
    data = two_studies(offset=1.0)
    v = verdict_of(data)
    assert v.case == "clear" and v.supported and v.concerns == ()
    assert v.best["group"] == "width=2" and v.runner_up["group"] == "width=1"
    assert v.best["trial"] == best_name(data, "width=2") and v.best["trial"] in v.text
    assert v.best["objective"] == pytest.approx(ranked(data, "width=2")["objective"].iloc[0])
    assert f"{v.best['objective']:.4g}" in v.text and "loss" in v.text
    assert v.gap > 2 * v.spread and "evidence supports it" in v.text
    assert v.headline == "width=2 is best, and the evidence supports it"
    [note] = commands(v)  # the decision, recorded; then the playbook's retrain variance, in words
    assert "trial variance" in v.next_steps[-1].what and v.next_steps[-1].command is None
    assert note[:3] == ["tunebook", "note", "synthetic"] and v.best["trial"] in note[3]
    assert note[-2:] == ["--store", STORE]


def test_a_gap_within_the_sampling_spread_is_not_yet_distinguishable_and_more_trials_are_offered():
    v = verdict_of(two_studies(offset=0.0, noise=0.2, seed=2))
    assert v.case == "not_distinguishable" and not v.supported
    assert v.gap <= v.spread and "not yet distinguishable" in v.text and "not yet distinguishable" in v.headline
    # no repeats and a small gap: first retrain both best trials (trial_variance), then compare, then sample more
    retrain = [["tunebook", "retrain", f"synthetic/{v.best['trial']}", "-n", "5", "--store", STORE],
               ["tunebook", "retrain", f"synthetic/{v.runner_up['trial']}", "-n", "5", "--store", STORE]]
    assert commands(v)[:2] == retrain and commands(v)[2][:2] == ["tunebook", "compare"]
    assert commands(v)[3] == ["tunebook", "run", SPEC, "--trials", "40", "--store", STORE]  # 20 per study, doubled


def test_commands_that_run_trials_put_them_in_the_experiments_runs_folder():
    v = verdict_of(two_studies(offset=0.0, noise=0.2, seed=2), runs="my runs")
    running = [c for c in commands(v) if c[1] in ("run", "retrain")]
    assert [c[1] for c in running] == ["retrain", "retrain", "run"]
    assert all(c[c.index("--runs") + 1] == "my runs" for c in running)


def test_an_exact_tie_is_called_a_tie():
    data = two_studies(offset=0.0, noise=0.2, seed=2)
    trials = data.trials.copy()
    best = {s: ranked(data, s)["objective"].iloc[0] for s in ("width=1", "width=2")}
    trials.loc[trials["study"] == "width=2", "objective"] += best["width=1"] - best["width=2"]
    v = verdict_of(type(data)(data.experiment, trials, data.curves))
    assert v.case == "not_distinguishable" and v.gap == 0
    assert v.headline == "width=1 and width=2 tie: not yet distinguishable" and "tie for the best" in v.text


def test_a_gap_between_one_and_two_spreads_is_a_lead_not_yet_settled():
    data = two_studies(offset=0.0, noise=0.2, seed=2)
    spread = verdict_of(data).spread
    best = {s: ranked(data, s)["objective"].iloc[0] for s in ("width=1", "width=2")}
    trials = data.trials.copy()
    trials.loc[trials["study"] == "width=2", "objective"] -= best["width=2"] - best["width=1"] + 1.5 * spread
    v = verdict_of(type(data)(data.experiment, trials, data.curves))
    assert v.case == "leaning" and not v.supported and v.best["group"] == "width=2"
    assert spread < v.gap < 2 * spread and "not yet settled" in v.text


def test_too_few_trials_to_tell():
    v = verdict_of(two_studies(offset=1.0, trials=3))
    assert v.case == "too_few" and not v.supported and "Too few trials to tell" in v.text
    assert commands(v)[0][:5] == ["tunebook", "run", SPEC, "--trials", "6"]


def test_a_boundary_the_checklist_could_not_judge_withholds_support():
    """4 complete trials: sampled_enough can judge, search_space_boundary cannot (it needs 8): no support."""
    data = synthetic.sweep(synthetic.experiment(trials=4), synthetic.quadratic(0.5))
    v = verdict_of(data)
    assert v.case == "no_scientific" and not v.supported
    assert any(c.startswith("search_space_boundary (default): too few complete trials") for c in v.concerns)
    assert ["run", SPEC, "--trials", "8"] == commands(v)[0][1:5]


def test_identical_values_are_rarely_supported_and_real_gaps_usually_are():
    # the verdict inherits sampled_enough's rule: over 20 seeds, noise alone almost never makes a supported winner
    # (measured: 1 of 20 supported; a real gap: 20 of 20). Only the check that decides is run, to stay fast.
    def judged(data):
        return decide(data, run_checklist(data, only=["sampled_enough"]))

    same = [judged(two_studies(offset=0.0, noise=0.2, seed=s)) for s in range(20)]
    real = [judged(two_studies(offset=0.1, noise=0.02, seed=s)) for s in range(20)]
    assert sum(v.supported for v in same) <= 2
    assert sum(v.supported and v.best["group"] == "width=2" for v in real) >= 15


def test_the_best_of_a_max_objective_is_the_largest():
    exp = synthetic.experiment(scientific={"width": [1, 2]}, objective="accuracy:max", trials=12)
    data = synthetic.sweep(exp, lambda p: 0.5 + 0.4 * (p["width"] == 1) - 0.01 * synthetic.quadratic(0.5)(p))
    v = verdict_of(data)
    assert v.best["group"] == "width=1" and v.best["objective"] > v.runner_up["objective"]
    assert "accuracy (maximized)" in v.text


def test_no_scientific_hyperparameter_names_the_best_configuration():
    data = synthetic.sweep(synthetic.experiment(trials=16), synthetic.quadratic(0.5))
    v = verdict_of(data)
    assert v.case == "no_scientific" and v.supported and v.runner_up is None
    assert v.best["trial"] == best_name(data, "default") and v.best["trial"] in v.headline
    assert "no scientific hyperparameter" in v.text and "interquartile range" in v.text
    [note] = commands(v)
    assert note[:3] == ["tunebook", "note", "synthetic"] and v.best["trial"] in note[3]


def test_one_scientific_value_only_has_nothing_to_compare():
    exp = synthetic.experiment(scientific={"width": [1, 2]}, trials=8)
    data = synthetic.sweep(exp, lambda p: None if p["width"] == 2 else synthetic.quadratic(0.5)(p))
    v = verdict_of(data)
    assert v.case == "one_value" and not v.supported and v.best["group"] == "width=1"
    assert "nothing to compare" in v.text and "width=2 has no complete trial (8 infeasible)" in v.text
    assert ["tunebook", "trials", "synthetic", "--store", STORE] in commands(v)


def test_all_trials_infeasible_and_no_trials_at_all():
    exp = synthetic.experiment(scientific={"width": [1, 2]}, trials=4)
    v = verdict_of(synthetic.sweep(exp, lambda p: None))
    assert v.case == "all_infeasible" and v.best is None and "All 8 trials are infeasible" in v.text
    assert ["tunebook", "trials", "synthetic", "--store", STORE] in commands(v)
    v = verdict_of(synthetic.frames(exp, []))
    assert v.case == "no_trials" and commands(v) == [["tunebook", "run", SPEC, "--store", STORE]]
    failed = verdict_of(synthetic.sweep(exp, lambda p: "failed"))
    assert failed.case == "no_complete" and "8 failed" in failed.text


def test_the_best_trials_at_a_range_edge_stop_a_clear_winner_from_being_supported():
    exp = synthetic.experiment(scientific={"width": [1, 2]}, trials=20)
    v = verdict_of(synthetic.sweep(exp, lambda p: synthetic.quadratic(1.3)(p) - 2 * (p["width"] == 2)))
    assert v.case == "clear" and not v.supported and "does not yet support it" in v.text
    assert any("crowd the high edge of lr" in c for c in v.concerns)
    assert any(s.what.startswith("widen lr above 1") and s.command is None for s in v.next_steps)


def test_the_edge_of_an_infeasible_learning_rate_region_offers_the_instability_plan():
    lr = {"low": 1e-4, "high": 1.0, "scale": "log"}
    exp = synthetic.experiment(nuisance={"learning_rate": lr}, scientific={"width": [1, 2]}, trials=24)
    data = synthetic.sweep(exp, lambda p: None if p["learning_rate"] > 0.1
                           else -0.1 * math.log10(p["learning_rate"]) + 0.01 * p["width"])
    v = verdict_of(data)
    assert not v.supported and any("infeasible region learning_rate" in c for c in v.concerns)
    plan = [c for c in commands(v) if c[1] == "plan"]
    assert plan == [["tunebook", "plan", "instability", f"synthetic/{v.best['trial']}", "--store", STORE]]


def test_a_problem_on_the_best_trials_stops_support_and_names_the_check():
    data = two_studies(offset=1.0)
    problem = Finding("overfitting", Severity.PROBLEM, "Problematic overfitting in the best trial. More words.",
                      {}, "Add regularization. Or not.", "section", study="width=2")
    v = decide(data, [*run_checklist(data), problem], store=STORE, spec=SPEC)
    assert v.case == "clear" and not v.supported
    assert v.concerns == ("overfitting (width=2): Problematic overfitting in the best trial",)
    assert "overfitting (width=2): Add regularization" in [s.what for s in v.next_steps]


def test_without_a_spec_or_store_no_run_is_offered_and_no_store_is_named():
    v = decide(two_studies(offset=0.0, noise=0.2, seed=2), run_checklist(two_studies(offset=0.0, noise=0.2, seed=2)))
    assert v.case == "not_distinguishable" and all("run" not in c[1] for c in commands(v))
    assert all("--store" not in c for c in commands(v))


def test_unfinished_trials_stop_support():
    data = two_studies(offset=1.0)
    trials = data.trials.copy()
    worst = trials.index[trials["objective"] == trials["objective"].max()][0]
    trials.loc[worst, ["state", "objective"]] = ["running", np.nan]
    v = verdict_of(type(data)(data.experiment, trials, data.curves))
    assert v.case == "clear" and not v.supported and "1 trial(s) have not finished yet" in v.concerns
    assert ["tunebook", "run", SPEC, "--store", STORE] in commands(v)


@pytest.mark.parametrize("data", [two_studies(offset=1.0), two_studies(offset=1.0, trials=3)])
def test_the_verdict_is_plain_json(data):
    v = verdict_of(data)
    out = json.loads(json.dumps(v.to_dict()))
    assert out["case"] in CASES and out["best"]["trial"] == v.best["trial"]
    assert all(set(s) == {"what", "command"} for s in out["next_steps"])


def _bayesian(data):
    """The same trials, as if a model chose every one after the first 4 of each study (Bayesian optimization)."""
    trials = data.trials.copy()
    trials["suggested_by"] = np.where(trials["number"] < 4, "initial", "model")
    return type(data)(data.experiment, trials, data.curves)


@pytest.mark.parametrize("offset", [0.0, 0.1])  # no difference, and a gap the bootstrap would call clear
def test_a_bayesian_search_never_claims_a_gap_it_cannot_measure_and_asks_for_seeds(offset):
    plain = verdict_of(two_studies(offset=offset, noise=0.02, seed=1))
    v = verdict_of(_bayesian(two_studies(offset=offset, noise=0.02, seed=1)))
    if offset:
        assert plain.case == "clear"  # uniform draws: the bootstrap judges the gap
    assert v.case == "unmeasured" and not v.supported and "unmeasured" in v.headline
    assert "cannot be bootstrapped" in v.text and "Bootstrapped" not in v.text
    retrain = [c for c in commands(v) if c[1] == "retrain"]
    assert len(retrain) == 2 and commands(v)[2][1] == "compare"  # seeds first, then the comparison
