"""Running a spec again: resume when only the budget, the run section or the words changed; refuse otherwise."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from tunebook.core.errors import ConflictError
from tunebook.core.experiment import Experiment
from tunebook.execution.identity import changed_fields, ensure_experiment
from tunebook.storage import SQLStore

from .harness import store_url

SPEC = {
    "name": "widths",
    "goal": "does width matter?",
    "notes": "",
    "objective": {"metric": "valid_loss", "mode": "min"},
    "scientific": {"width": [4, 16]},
    "nuisance": {"lr": {"low": 0.01, "high": 1.0, "scale": "log"}},
    "search": {"trials": 4, "seed": 0},
    "run": {"command": "python train.py --lr {lr}", "parallel": 2},
}


def changed(path: str, value) -> dict:
    spec = copy.deepcopy(SPEC)
    *parents, last = path.split(".")
    block = spec
    for part in parents:
        block = block[part]
    block[last] = value
    return spec


def experiment(spec: dict, source: str = "/specs/widths.yaml") -> Experiment:
    """The experiment as read from a file at ``source``."""
    return dataclasses.replace(Experiment.from_dict(spec), source=source)


@pytest.fixture
def store(tmp_path):
    with SQLStore(store_url(tmp_path)) as store:
        yield store


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("nuisance.lr", {"low": 0.001, "high": 1.0, "scale": "log"}, "nuisance"),
        ("scientific.width", [4, 16, 64], "scientific"),
        ("objective.metric", "valid_error", "objective"),
        ("objective.mode", "max", "objective"),
        ("search.seed", 1, "search.seed"),
        ("search.algorithm", "random", "search.algorithm"),
    ],
)
def test_changing_what_is_compared_names_the_field(store, path, value, field):
    ensure_experiment(store, experiment(SPEC))
    assert changed_fields(experiment(SPEC).to_dict(), experiment(changed(path, value)).to_dict()) == [field]
    with pytest.raises(ConflictError, match=rf"with a different {field}; trials run so far would not be comparable"):
        ensure_experiment(store, experiment(changed(path, value)))
    assert store.get_experiment("widths").spec == experiment(SPEC).to_dict()  # nothing written


def test_several_changes_are_named_together(store):
    ensure_experiment(store, experiment(SPEC))
    spec = changed("search.seed", 3)
    spec["objective"]["mode"] = "max"
    with pytest.raises(ConflictError, match=r"with a different objective, search.seed;"):
        ensure_experiment(store, experiment(spec))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("search.trials", 10),
        ("run.parallel", 8),
        ("run.command", "python train.py --learning-rate {lr}"),
        ("goal", "does width matter at all?"),
        ("notes", "second try"),
    ],
)
def test_the_budget_the_run_section_and_the_words_may_change(store, path, value):
    first = ensure_experiment(store, experiment(SPEC))
    again = ensure_experiment(store, experiment(changed(path, value)))
    assert again.id == first.id and again.spec == experiment(changed(path, value)).to_dict()


def test_an_unchanged_spec_resumes_as_is_and_a_moved_file_is_remembered(store):
    first = ensure_experiment(store, experiment(SPEC))
    assert ensure_experiment(store, experiment(SPEC)) == first
    moved = ensure_experiment(store, experiment(SPEC, source="/elsewhere/widths.yaml"))
    assert first.source == "/specs/widths.yaml"
    assert (moved.id, moved.source) == (first.id, "/elsewhere/widths.yaml")
