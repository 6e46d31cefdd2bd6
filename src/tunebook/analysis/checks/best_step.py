"""Check ``best_step``: where in training does retrospective checkpoint selection find the best step?

Playbook ("Determining the number of steps for each training run"): "Never
tune the max_train_steps number in a study. Pick a value and use it for all
trials. From these trials, plot the training step that retrospective
checkpoint selection finds in order to refine the choice of
max_train_steps. For example, if the best step is always during the first
10% of training, then the maximum number of steps is way too high.
Alternatively, if the best step is consistently in the last 25% of training
we might benefit from training longer and re-tuning the decay schedule."

Each complete trial's best step is taken as a fraction of its training
length: its ``max_train_steps`` hyperparameter (the playbook's name, any
role; the spec's fixed value when the trial's params lack it) when the
trial's last logged step of the objective metric lies within [50 %, 100 %]
of it (so a curve logged in other units, e.g. epochs, is not misread), else
that last logged step. Per study, with at least 3 such trials:

* "always" in the first 10 %: at least 90 % of trials at ≤ 0.10 → WARNING,
  far too many steps;
* "consistently" in the last 25 %: at least 75 % of trials at ≥ 0.75 →
  WARNING, train longer and re-tune the decay (compute-bound advice);
* otherwise INFO describing the spread (also when there are too few).

With ``objective.reduce: final`` a trial's objective is its last value, so
its "best step" is its last step by construction: the check then gives one
INFO saying so (never the "train longer" WARNING that every such study would
otherwise get) and points to ``reduce: best``.

WARNING rather than PROBLEM: neither pattern makes this round's comparison
wrong by itself, but its conclusions may not hold at a better-chosen number
of steps ("there is always a risk that our conclusions at this time limit
will not apply" to longer runs).

One question, one answer: ``still_improving`` and ``saturated_early`` judge
the training length too, from the shape of the best trials' curves
(``compute.length_verdict``). When that shape contradicts a pattern here
(best steps late while the curves saturated by half of training: the late
best steps are gains within 5 % of the total; best steps early while the
curves still improve), the pattern is reported as INFO saying so, never as a
WARNING next to a finding that says the opposite.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tunebook.analysis.best import ranked, study_keys
from tunebook.analysis.checks.compute import length_verdict
from tunebook.analysis.curve_index import curve_index
from tunebook.analysis.findings import Finding, Severity
from tunebook.core.domains import Fixed
from tunebook.core.records import trial_name

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

ID = "best_step"
SECTION = "Determining the number of steps for each training run"
STEPS_PARAM = "max_train_steps"
EARLY, EARLY_SHARE = 0.10, 0.90
LATE, LATE_SHARE = 0.75, 0.75
MIN_TRIALS = 3

__all__ = ["best_step_fractions", "check_best_step"]


def best_step_fractions(data: "ExperimentData", study: str | None = None) -> pd.DataFrame:
    """Complete trials with a best step: trial_id, number, study, best_step, length, fraction (in [0, 1]).

    ``length`` is the training length the fraction is of (see the module
    docstring); trials with no usable length (no curve, or a last step of 0)
    are left out.
    """
    trials = ranked(data, study)
    trials = trials[pd.to_numeric(trials["best_step"], errors="coerce").notna()]
    index = curve_index(data.curves)
    fixed = _fixed_budget(data)
    budgets = trials[STEPS_PARAM] if STEPS_PARAM in trials.columns else pd.Series(fixed, index=trials.index)
    rows = []
    for trial_id, number, study_key, best, budget in zip(
        trials["trial_id"], trials["number"], trials["study"], trials["best_step"].astype(float), budgets
    ):
        length = _length(budget, index.last_step(int(trial_id), data.objective.metric))
        if math.isfinite(length) and length > 0:
            rows.append({"trial_id": int(trial_id), "number": int(number), "study": study_key, "best_step": best,
                         "length": length, "fraction": min(max(best / length, 0.0), 1.0)})
    return pd.DataFrame(rows, columns=["trial_id", "number", "study", "best_step", "length", "fraction"])


def _fixed_budget(data: "ExperimentData") -> float:
    """The spec's fixed max_train_steps, for trials whose params do not carry it; NaN if none."""
    for hp in data.experiment.space:
        if hp.id == STEPS_PARAM and isinstance(hp.domain, Fixed):
            return _number(hp.domain.value)
    return math.nan


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return math.nan
    return float(value)


def _length(budget: object, last_step: float) -> float:
    budget, last_step = _number(budget), float(last_step)
    if budget > 0 and math.isfinite(last_step) and 0.5 * budget <= last_step <= budget:
        return budget
    return last_step


def check_best_step(data: "ExperimentData") -> list[Finding]:
    """One finding per study with complete trials: WARNING for the two playbook patterns, else INFO."""
    if data.objective.reduce == "final" and len(ranked(data)):
        return [_final_value_finding(data)]
    findings = []
    verdict = length_verdict(data)
    for key in study_keys(data):
        frame = best_step_fractions(data, key)
        if len(ranked(data, key)):
            findings.append(_reconciled(_finding(key, frame), verdict))
    return findings


def _final_value_finding(data: "ExperimentData") -> Finding:
    """The one INFO for ``objective.reduce: final``: no retrospective best step exists to place."""
    message = (f"objective.reduce is final: each trial's objective is its last {data.objective.metric}, so its best "
               "step is its last step by construction and says nothing about max_train_steps.")
    action = ("To see where retrospective checkpoint selection puts the best step (the playbook's way to refine "
              "max_train_steps), set objective.reduce: best; still_improving and saturated_early judge the training "
              "length from the curves' shape meanwhile.")
    return Finding(ID, Severity.INFO, message, {"reduce": "final"}, action, SECTION)


def _reconciled(finding: Finding, verdict: str | None) -> Finding:
    """The finding, as INFO saying so, when the curves' shape contradicts its pattern (module docstring)."""
    if finding.severity is not Severity.WARNING:
        return finding
    late = "still improving at the end" in finding.message
    if late and verdict == "saturated":
        note = (" But the best trials' curves saturated early (see saturated_early): those late best steps gain "
                "less than 5 % of the total improvement, so training longer would buy little.")
        action = "Nothing to gain from longer runs; see saturated_early for decreasing the number of steps."
    elif not late and verdict == "still_improving":
        note = (" But the best trials' curves are still improving at the end (see still_improving): the early best "
                "steps are early minima of noisy curves, not a sign of too many steps.")
        action = "Do not lower max_train_steps on this evidence; see still_improving."
    else:
        return finding
    return dataclasses.replace(finding, severity=Severity.INFO, message=finding.message + note, action=action,
                               evidence={**finding.evidence, "curve_shape": verdict})


def _finding(key: str, frame: pd.DataFrame) -> Finding:
    n, fractions = len(frame), frame["fraction"].to_numpy(dtype=float)
    early, late = int(np.sum(fractions <= EARLY)), int(np.sum(fractions >= LATE))
    evidence = {
        "study": key, "n": n, "early": early, "late": late,
        "median_fraction": float(np.median(fractions)) if n else None,
        "trials": [{"trial": trial_name(r["study"], r["number"]), "best_step": r["best_step"], "length": r["length"],
                    "fraction": r["fraction"]} for r in frame.to_dict("records")],
    }
    if n < MIN_TRIALS:
        message = f"Study '{key}' has {n} complete trial(s) with a best step: too few to judge max_train_steps."
        return Finding(ID, Severity.INFO, message, evidence, "Judge the number of steps once more trials finish.",
                       SECTION, study=key)
    where = f"{early if early >= EARLY_SHARE * n else late} of {n} trials"
    if early >= EARLY_SHARE * n:
        message = (f"In study '{key}' the best step is (nearly) always in the first 10 % of training ({where}; "
                   f"median at {evidence['median_fraction']:.0%}): the maximum number of steps is way too high.")
        action = ("Lower max_train_steps and use the new value for all trials (never tune it in a study): the "
                  "steps after the best one cost compute and buy nothing, and may hide problematic overfitting.")
        return Finding(ID, Severity.WARNING, message, evidence, action, SECTION, study=key)
    if late >= LATE_SHARE * n:
        message = (f"In study '{key}' the best step is consistently in the last 25 % of training ({where}; "
                   f"median at {evidence['median_fraction']:.0%}): the trials are still improving at the end.")
        action = ("Consider training longer and re-tuning the learning rate decay schedule, which interacts "
                  "strongly with the training budget (a common pitfall is spending the extra steps at too small a "
                  "learning rate). If training is compute-bound, tune on shorter runs and train longest in the "
                  "final round.")
        return Finding(ID, Severity.WARNING, message, evidence, action, SECTION, study=key)
    message = (f"In study '{key}' the best steps spread over training: median at "
               f"{evidence['median_fraction']:.0%}, {early} of {n} in the first 10 %, {late} in the last 25 %.")
    return Finding(ID, Severity.INFO, message, evidence, "Nothing to do: max_train_steps looks reasonable.",
                   SECTION, study=key)
