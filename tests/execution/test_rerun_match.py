"""Whether a rerun reproduced its source: exactly, within floating-point noise, or not (with the numbers)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from tunebook.core.records import StudyRecord, Trial
from tunebook.core.states import TrialState
from tunebook.execution.rerun import CLOSE, outcome_match, rerun_study

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
SOURCE = Trial(id=3, study_id=1, number=4, params={"lr": 0.1, "seed": 7}, state=TrialState.COMPLETE, attempt=0,
               worker="w", created_at=NOW, started_at=NOW, finished_at=NOW, heartbeat_at=NOW, objective=0.25,
               best_step=40, reason=None)


def rerun(**changes) -> Trial:
    return dataclasses.replace(SOURCE, id=9, **changes)


def test_equal_objectives_and_steps_match_exactly():
    assert outcome_match(SOURCE, rerun()) == (True, "matches exactly (objective 0.25, bit for bit)")


def test_a_difference_below_the_relative_tolerance_is_floating_point_noise_and_says_so():
    matched, words = outcome_match(SOURCE, rerun(objective=0.25 * (1 + CLOSE / 2)))
    assert matched and words.startswith("matches within floating-point noise: rerun - source = 1.25e-07")


def test_a_larger_difference_or_another_state_does_not_match():
    matched, words = outcome_match(SOURCE, rerun(objective=0.3))
    assert not matched and "rerun - source = 0.05 (16.667% of the larger)" in words
    matched, words = outcome_match(SOURCE, rerun(state=TrialState.INFEASIBLE, objective=None))
    assert not matched and words == "does not match: the source ended complete, the rerun infeasible"
    matched, words = outcome_match(SOURCE, rerun(best_step=30))
    assert not matched and words.endswith("; best step 40 -> 30")
    diverged = dataclasses.replace(SOURCE, state=TrialState.INFEASIBLE, objective=None)
    assert outcome_match(diverged, rerun(state=TrialState.INFEASIBLE, objective=None)) == (
        True, "matches: both ended infeasible")


def test_each_rerun_adds_one_trial_unless_one_is_unfinished():
    study = StudyRecord(id=1, experiment_id=1, key="default", scientific={}, budget=8, created_at=NOW)
    assert rerun_study(SOURCE, study, []).budget == 1
    plan = rerun_study(SOURCE, study, [rerun()])
    assert (plan.key, plan.budget, plan.source_trial_id) == ("rerun:default:4", 2, 3)
    assert plan.sampler.params(1) == {"lr": 0.1, "seed": 7}  # the source's params, seed included
    assert rerun_study(SOURCE, study, [rerun(), rerun(state=TrialState.WAITING)]).budget == 2  # resumed, not added
