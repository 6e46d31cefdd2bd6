"""The verdict with trial variance: repeats of the two best trials decide whether the isolation result can pick."""

from __future__ import annotations

import shlex

from tests.analysis.variance_cases import planted
from tunebook.analysis.checklist import run_checklist
from tunebook.analysis.verdict import CASES, decide

STORE = "sqlite:////tmp/some where/tunebook.db"


def verdict_of(data):
    return decide(data, run_checklist(data), store=STORE, spec="spec.yaml")


def commands(verdict) -> list[list[str]]:
    return [shlex.split(s.command) for s in verdict.next_steps if s.command]


def test_a_tie_within_trial_variance_is_not_distinguishable_and_no_number_of_seeds_is_offered():
    data = planted(0.0, 0.1, seed=3)  # the seed means differ by 0.003 with a seed spread of 0.1
    v = verdict_of(data)
    assert v.case == "within_trial_variance" and v.case in CASES and not v.supported
    assert v.headline == "depth=2 and depth=3: not distinguishable beyond trial variance"
    assert "cannot pick a winner" in v.text and "retrain:" in v.text  # the seeds, by name
    assert not any(c[1] in ("retrain", "run") for c in commands(v))  # neither seeds nor nuisance points settle it
    note = commands(v)[0]  # what is left: call them equivalent, choose by other merits, and record it
    assert note[1:3] == ["note", "synthetic"] and "equivalent within trial variance" in note[3]


def test_a_gap_seeds_could_settle_asks_for_that_many_seeds_on_both_then_compare():
    v = verdict_of(planted(0.15, 0.1, seed=303))  # 1.5 seed std apart: 23 seeds per side would settle it
    assert v.case == "within_trial_variance"
    steps = commands(v)
    assert [c[1] for c in steps[:3]] == ["retrain", "retrain", "compare"]
    assert [c[2:5] for c in steps[:2]] == [[f"synthetic/{v.best['trial']}", "-n", "23"],
                                           [f"synthetic/{v.runner_up['trial']}", "-n", "23"]]
    assert not any(c[1] == "run" for c in steps)  # more nuisance points cannot shrink trial variance


def test_a_gap_beyond_trial_variance_keeps_the_study_variance_case_and_says_so():
    v = verdict_of(planted(1.0, 0.1, seed=3))
    assert v.case != "within_trial_variance" and "beyond trial variance" in v.text
    assert not any("run its best trial a few times" in s.what for s in v.next_steps)  # already retrained


def test_without_repeats_and_a_small_gap_the_next_commands_are_the_retrains_then_compare():
    v = verdict_of(planted(0.0, 0.1, retrains=0, seed=1))
    steps = commands(v)
    assert [c[1] for c in steps[:3]] == ["retrain", "retrain", "compare"]
    assert steps[0] == ["tunebook", "retrain", f"synthetic/{v.best['trial']}", "-n", "5", "--store", STORE]
    assert steps[2] == ["tunebook", "compare", f"synthetic/{v.runner_up['trial']}", f"synthetic/{v.best['trial']}",
                        "--store", STORE]


def test_a_running_retrain_is_a_concern_but_not_a_reason_to_run_the_spec_again():
    data = planted(1.0, 0.1, seed=3)
    trials = data.trials.copy()
    last = trials.index[trials["study"].str.startswith("retrain:")][-1]
    trials.loc[last, ["state", "objective"]] = ["running", float("nan")]
    v = verdict_of(type(data)(data.experiment, trials, data.curves, retrain_sources=data.retrain_sources))
    assert "1 retrain trial(s) have not finished yet" in v.concerns and not v.supported
    assert not any(c[1] == "run" for c in commands(v)) and "1 trial(s) have not finished yet" not in v.concerns


def test_a_lucky_best_is_named_and_the_runner_up_becomes_the_candidate_to_compare():
    data = planted(1.0, 0.1, seed=3)  # depth=2 better by 10 seed std; make depth=3's best trial one lucky seed
    trials = data.trials.copy()
    source = data.retrain_sources[next(k for k in data.retrain_sources if k.startswith("retrain:depth=3:"))]
    best2 = trials.loc[trials["study"] == "depth=2", "objective"].min()
    trials.loc[trials["trial_id"] == source, "objective"] = best2 - 0.01
    v = verdict_of(type(data)(data.experiment, trials, data.curves, retrain_sources=data.retrain_sources))
    assert v.best["group"] == "depth=3" and v.case == "within_trial_variance" and not v.supported
    assert v.headline == "depth=2 is better over seeds: depth=3's best was a lucky seed"
    [compare] = [c for c in commands(v) if c[1] == "compare"]
    assert compare[2:4] == [f"synthetic/{v.best['trial']}", f"synthetic/{v.runner_up['trial']}"]
    assert not any(c[1] == "retrain" for c in commands(v))


def test_with_only_the_winner_retrained_the_next_commands_retrain_the_runner_up_then_compare():
    from tests.analysis.test_check_trial_variance import runner_up_retrains

    v = verdict_of(runner_up_retrains(planted(0.0, 0.1, seed=0), kept=0))
    assert v.case == "within_trial_variance" and not v.supported
    steps = commands(v)
    assert [c[1] for c in steps[:2]] == ["retrain", "compare"]
    assert steps[0][2:5] == [f"synthetic/{v.runner_up['trial']}", "-n", "5"]
