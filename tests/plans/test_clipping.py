"""advise clipping: the p90 threshold, the share of updates it clips, and the > 50 % warning."""

from __future__ import annotations

import numpy as np
import pytest

from tunebook.plans import PlanInputError, clipping

from .stored import falling, spec, store_experiment, trial


@pytest.fixture
def stored(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'tunebook.db'}"
    norms = [(s, float(v)) for s, v in enumerate(np.linspace(1.0, 100.0, 100))]
    rows = [
        trial({"learning_rate": 0.1, "max_train_steps": 1000, "schedule": "linear", "decay_steps": 200},
              {"train/loss": falling(100), "grad_norm": norms}),
        trial({"learning_rate": 0.3, "max_train_steps": 1000, "schedule": "cosine", "grad_clip_norm": 30.0},
              {"train/loss": falling(100, start=3.0), "grad_norm": norms}),
    ]
    store_experiment(url, spec("r1", nuisance={"learning_rate": [0.1, 0.3], "schedule": ["linear", "cosine"]},
                               fixed={"max_train_steps": 1000}), rows)
    return url


def test_the_threshold_is_the_90th_percentile_of_the_trials_grad_norm(stored: str):
    advice = clipping("r1/0", stored)
    assert advice.numbers["p90"] == pytest.approx(np.quantile(np.linspace(1, 100, 100), 0.9))
    assert advice.numbers["share_clipped"] == pytest.approx(0.1) and advice.warnings == ()


def test_clipping_more_than_half_the_updates_says_lower_the_learning_rate(stored: str):
    ran_with = clipping("r1/default/1", stored)  # it ran with grad_clip_norm 30: 70 % of its norms are above
    assert ran_with.numbers["threshold_from"] == "the trial's grad_clip_norm"
    assert ran_with.numbers["share_clipped"] == pytest.approx(0.7)
    assert "extremely aggressive" in ran_with.warnings[0] and "Lower the learning rate" in ran_with.warnings[0]
    assert clipping("r1/0", stored, threshold=60.0).numbers["share_clipped"] == pytest.approx(0.4)


def test_a_trial_without_grad_norm_is_named_with_what_it_logged(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store_experiment(url, spec("x", fixed={"learning_rate": 0.1}), [trial({"learning_rate": 0.1}, {"train/loss": falling(9)})])
    with pytest.raises(PlanInputError, match="trial x/default/0 logged no gradient norm .* it logged: train/loss"):
        clipping("x", url)
