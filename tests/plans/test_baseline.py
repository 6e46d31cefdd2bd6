"""The parts of a launch entry that are pure rules: the change between configurations, the open problems,
the test metric's step."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.plans.stored import falling, spec, store_experiment, trial
from tunebook.analysis.findings import Finding, Severity
from tunebook.plans.baseline import config_change, metrics_on_test_set, open_problems
from tunebook.plans.reference import resolve_trial
from tunebook.storage import SQLStore


def test_the_change_names_added_removed_and_changed_values() -> None:
    beta = math.nextafter(0.9, 1.0)
    old = {"lr": 0.1, "beta": 0.9, "width": 64, "ema": True, "dropout": 0.1, "wd": math.nan}
    new = {"lr": float("0.1"), "beta": beta, "width": 128, "ema": 1, "warmup": 100, "wd": math.nan}
    change = config_change(old, new)
    assert change["added"] == {"warmup": 100} and change["removed"] == {"dropout": 0.1}
    # values compare exactly: the last bit counts; ema true -> 1 is a change (a flag is not a number); NaN stays
    assert change["changed"] == {"beta": {"old": 0.9, "new": beta}, "width": {"old": 64, "new": 128},
                                 "ema": {"old": True, "new": 1}}
    assert config_change(new, new) == {"added": {}, "removed": {}, "changed": {}}


def test_open_problems_keep_warnings_and_problems_problems_first_by_their_first_sentence() -> None:
    def finding(id_: str, severity: Severity, message: str) -> Finding:
        return Finding(id_, severity, message, {}, "do something", "a section", study="s")

    findings = [finding("late_variance", Severity.WARNING, "Noisy late, e.g. at the end. More words here."),
                finding("fixed_caveats", Severity.INFO, "Holds for these fixed values."),
                finding("infeasible_fraction", Severity.PROBLEM, "Half diverged. Lower the rate.")]
    assert open_problems(findings) == [
        {"id": "infeasible_fraction", "severity": "problem", "study": "s", "summary": "Half diverged"},
        {"id": "late_variance", "severity": "warning", "study": "s", "summary": "Noisy late, e.g. at the end"},
    ]


@pytest.mark.parametrize("test_steps, read_at", [
    (range(0, 50, 10), 40),  # best step 43: the nearest logged step is 40
    (range(0, 50, 1), 43),  # logged at the best step itself
    ([49], 49),  # logged once, at the end
])
def test_the_test_metric_is_read_at_the_best_step_or_the_nearest_logged(tmp_path: Path, test_steps, read_at) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    loss = [(s, v) for s, v in falling(50)]
    loss = [(s, v if s <= 43 else v + 1.0) for s, v in loss]  # the loss is lowest at step 43
    curves = {"train/loss": loss, "test_accuracy": [(s, s / 100) for s in test_steps],
              "test/loss": [(s, 1 - s / 100) for s in test_steps], "contest/x": [(0, 1.0)]}
    store_experiment(url, spec("t", fixed={"lr": 0.1}), [trial({"lr": 0.1}, curves)])
    with SQLStore(url) as store:
        candidate = resolve_trial("t/default/0", store)
        assert candidate.trial.best_step == 43
        found = metrics_on_test_set(store, candidate)
    assert [(t["metric"], t["step"], t["best_step"]) for t in found] == [("test/loss", read_at, 43),
                                                                         ("test_accuracy", read_at, 43)]
    assert found[1]["value"] == pytest.approx(read_at / 100)
