"""tunebook's errors cross process boundaries (a worker's error sent back) with their text unchanged."""

from __future__ import annotations

import pickle

from tunebook.core.errors import SpecError


def test_a_spec_error_pickles_back_to_the_same_message_and_problems():
    error = SpecError([("nuisance.lr.scale", "must be linear or log, got 'cubic'")], source="spec.yaml")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is SpecError and back.problems == error.problems and back.source == "spec.yaml"
    assert str(back) == str(error) == "invalid experiment spec spec.yaml: nuisance.lr.scale: must be linear or log, got 'cubic'"
