"""Every check against the labeled corpus of real training curves (``tests/analysis/corpus``).

The corpus holds real runs of the digits MLP, a digits CNN and the charlm
transformer, each configured to show one pathology or none, labeled with what
an expert reading the curves would raise. Each check must reach precision and
recall ``REQUIRED`` (0.95) wherever at least ``MIN_POSITIVES`` entries are
labeled for it to fire; a check the checklist does not have yet (``periodicity``
until the checks branch lands) fails here on purpose, with the table.
"""

from __future__ import annotations

import math

import pytest

from tests.analysis.corpus.cases import CASES
from tests.analysis.corpus.harness import (
    LABELS, MIN_POSITIVES, REQUIRED, Score, agrees, entry_data, fires, labeled_checks, load_corpus, markdown,
    observed, score,
)
from tunebook.analysis.findings import Finding, Severity

ENTRIES = load_corpus()
PATHOLOGIES = ("overfit", "late_variance", "instability", "still_improving", "saturated", "bug", "unshuffled",
               "regularizer", "clean")


@pytest.fixture(scope="module")
def scores() -> dict[str, Score]:
    table = score(ENTRIES)
    print("\n" + markdown(table))
    return table


def test_the_corpus_is_large_labeled_and_matches_its_cases():
    assert len(ENTRIES) >= 60, f"only {len(ENTRIES)} entries"
    assert [e["id"] for e in ENTRIES] == [c.id for c in CASES], "corpus.json.gz is stale: run make_corpus"
    assert {e["case"] for e in ENTRIES} >= set(PATHOLOGIES)
    assert {e["model"] for e in ENTRIES} == {"mlp", "cnn", "charlm"}
    for entry, case in zip(ENTRIES, CASES):
        assert entry["labels"] == dict(case.labels), f"{entry['id']}: labels differ from cases.py: run make_corpus"
        assert set(entry["labels"].values()) <= set(LABELS)


def test_every_entry_becomes_an_experiment_of_complete_trials_with_curves():
    for entry in ENTRIES:
        data = entry_data(entry)
        assert (data.trials["state"] == "complete").all()
        assert len(data.trials) == len(entry["trials"])
        assert math.isfinite(data.trials["objective"].astype(float).min()), entry["id"]
        assert {"train/loss", data.objective.metric} <= set(data.curves["metric"]), entry["id"]
        assert data.trials["max_train_steps"].eq(entry["fixed"]["max_train_steps"]).all()


def test_a_regularizer_entry_has_one_study_per_scientific_value():
    entry = next(e for e in ENTRIES if e["case"] == "regularizer")
    data = entry_data(entry)
    (name, values), = entry["scientific"].items()
    assert sorted(data.trials["study"].unique()) == sorted(f"{name}={v}" for v in values)
    assert data.experiment.space.with_role("scientific")[0].id == name


def _finding(check: str, severity: Severity) -> Finding:
    return Finding(check, severity, "m", {}, "a", "s")


def test_a_too_few_to_tell_finding_is_no_verdict():
    undecided = Finding("still_improving", Severity.INFO, "Too few evaluations to tell: ...", {}, "a", "s")
    assert observed([undecided], "still_improving") == "none"
    assert not agrees("still_improving", "fire", "none") and agrees("still_improving", "silent", "none")


def test_what_counts_as_firing_follows_each_checks_severities():
    info, warning = [_finding("best_step", Severity.INFO)], [_finding("best_step", Severity.WARNING)]
    assert observed([], "best_step") == "none"
    assert not fires("best_step", observed(info, "best_step"))  # best_step's all-clear summary
    assert fires("best_step", observed(warning, "best_step"))
    assert fires("still_improving", observed([_finding("still_improving", Severity.INFO)], "still_improving"))
    listing = observed([_finding("overfitting", Severity.INFO)], "overfitting")  # e.g. the regularizers named
    assert listing == "info" and not agrees("overfitting", "expected", listing)
    expected = Finding("overfitting", Severity.INFO, "as expected", {"expected": True}, "a", "s")
    overfit_info = observed([expected, _finding("overfitting", Severity.INFO)], "overfitting")
    assert not fires("overfitting", overfit_info) and agrees("overfitting", "expected", overfit_info)
    assert agrees("overfitting", "silent", "info")  # an INFO is no overfitting problem
    problem = observed([_finding("overfitting", Severity.PROBLEM), expected], "overfitting")
    assert problem == "problem" and not agrees("overfitting", "expected", problem)
    assert agrees("overfitting", "fire", problem) and not agrees("overfitting", "silent", problem)


@pytest.mark.parametrize("check", labeled_checks(ENTRIES))
def test_precision_and_recall_on_the_corpus(scores, check):
    s = scores[check]
    wrong = "\n  ".join(s.wrong)
    assert s.known, f"the checklist has no check {check!r} yet; {s.fire} entries labeled fire"
    assert s.expected_right == s.expected, f"{check}: expected overfitting reported as INFO in " \
        f"{s.expected_right} of {s.expected}:\n  {wrong}"
    if s.fire < MIN_POSITIVES:  # precision means little without positives; false alarms still count
        assert s.false_alarms <= (1 - REQUIRED) * s.silent, (
            f"{check}: {s.false_alarms} false alarms in {s.silent} entries labeled silent:\n  {wrong}")
        pytest.skip(f"{check}: only {s.fire} entries labeled fire (< {MIN_POSITIVES}); recall not enforced")
    assert s.recall >= REQUIRED and s.precision >= REQUIRED, (
        f"{check}: precision {s.precision:.2f}, recall {s.recall:.2f} (caught {s.caught} of {s.fire}, "
        f"{s.false_alarms} false alarms in {s.silent} silent):\n  {wrong}")


def test_the_markdown_table_has_a_row_per_labeled_check(scores):
    table = markdown(scores).splitlines()
    assert table[0].startswith("| check |") and len(table) == 2 + len(scores)
    assert all(f"`{check}`" in "\n".join(table) for check in scores)


@pytest.mark.slow
def test_make_corpus_reproduces_a_stored_entry_exactly():
    from tests.analysis.corpus.make_corpus import build_entry
    from tests.analysis.corpus.runs import train_run

    case = next(c for c in CASES if c.id == "mlp/instability/lr-jump-s0")
    stored = next(e for e in ENTRIES if e["id"] == case.id)
    assert build_entry(case, [train_run(run) for run in case.runs]) == stored
