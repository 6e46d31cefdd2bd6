"""plan round2: the best Round 1 configuration, retrained longer with the Round 2 rule of its schedule."""

from __future__ import annotations

import pytest

from tunebook.core.errors import SpecError
from tunebook.plans import PlanInputError, round2

from .test_clipping import stored  # noqa: F401 - the stored Round 1 experiment, a fixture


def test_round2_linear_keeps_the_decay_and_extends_the_constant_part(stored: str):
    plan = round2("r1/default/0", 3000, stored)
    fixed = plan.spec["fixed"]
    assert fixed["max_train_steps"] == 3000 and fixed["decay_steps"] == 200 and fixed["learning_rate"] == 0.1
    assert fixed["schedule"] == "linear" and plan.spec["search"] == {"algorithm": "grid"}


def test_round2_cosine_keeps_the_base_rate_and_extends_max_train_steps(stored: str):
    fixed = round2("r1/1", 4000, stored, schedule="cosine").spec["fixed"]
    assert fixed["max_train_steps"] == 4000 and fixed["learning_rate"] == 0.3 and "decay_steps" not in fixed
    assert fixed["grad_clip_norm"] == 30.0


def test_round2_refuses_a_shorter_run_or_another_schedule(stored: str):
    with pytest.raises(SpecError, match="cannot shrink"):
        round2("r1/0", 500, stored)
    with pytest.raises(PlanInputError, match="ran with schedule 'linear', not 'cosine'"):
        round2("r1/0", 3000, stored, schedule="cosine")
