"""TRIAL references and written plans: one syntax everywhere, errors that list what exists, no overwrite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunebook.core.errors import NotFoundError
from tunebook.plans import PlanInputError, parse_trial_ref, resolve_trial
from tunebook.plans.reference import TrialRef

from .stored import falling, spec, store_experiment, trial


def test_parsing_the_four_forms():
    assert parse_trial_ref("exp") == TrialRef("exp", "exp")
    assert parse_trial_ref("exp/3") == TrialRef("exp/3", "exp", None, 3)
    assert parse_trial_ref("exp/width=2") == TrialRef("exp/width=2", "exp", "width=2")
    assert parse_trial_ref("exp/lr=0.1,width=2/7") == TrialRef("exp/lr=0.1,width=2/7", "exp", "lr=0.1,width=2", 7)
    with pytest.raises(PlanInputError, match="empty part"):
        parse_trial_ref("exp//3")


@pytest.fixture
def two_studies(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tunebook.db'}"
    rows = [trial({"width": w, "lr": lr}, {"train/loss": falling(20, start=start)}, study=f"width={w}")
            for w, lr, start in ((1, 0.1, 3.0), (1, 0.2, 2.0), (2, 0.1, 1.0))]
    store_experiment(url, spec("e", scientific={"width": [1, 2]}, nuisance={"lr": [0.1, 0.2]}), rows)
    return url


def test_best_of_experiment_best_of_study_and_numbered(two_studies: str):
    assert resolve_trial("e", two_studies).canonical == "e/width=2/0"
    assert resolve_trial("e/width=1", two_studies).canonical == "e/width=1/1"
    assert resolve_trial("e/width=1/0", two_studies).params == {"width": 1, "lr": 0.1}


@pytest.mark.parametrize("ref, message", [
    ("nope", "no experiment named 'nope' in the store; experiments: e"),
    ("e/3", "e/3: experiment 'e' has 2 studies, so name one: .* width=1, width=2"),
    ("e/width=3/0", "has no study 'width=3'; its studies: width=1, width=2"),
    ("e/width=1/5", "study 'width=1' has no trial 5; its trial numbers: 0..1"),
])
def test_errors_name_the_reference_and_list_what_exists(two_studies: str, ref: str, message: str):
    with pytest.raises(NotFoundError, match=message):
        resolve_trial(ref, two_studies)
