"""Schedules: golden values pin the step convention; Round 2 extension; trial params in and out."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunebook.core.errors import SpecError, TunebookError
from tunebook.train.schedules import (
    Constant,
    CosineDecay,
    LinearDecay,
    ScheduleError,
    Warmup,
    schedule_from_params,
    with_warmup,
)


def rates(schedule, steps=None):
    return [schedule(k) for k in range(schedule.total_steps if steps is None else steps)]


# --- golden values: the step convention -------------------------------------------------------

def test_constant_is_the_same_rate_every_step():
    assert rates(Constant(0.1, 3)) == [0.1, 0.1, 0.1]
    assert Constant(0.1, 3).total_steps == 3


def test_linear_decay_holds_then_decays_and_reaches_the_final_rate_one_past_the_last_update():
    schedule = LinearDecay(1.0, decay_steps=4, constant_steps=2)
    assert schedule.total_steps == 6
    assert rates(schedule) == pytest.approx([1.0, 1.0, 1.0, 0.75, 0.5, 0.25])
    assert schedule(6) == 0.0  # the step after the last update; no update is taken at rate 0


def test_linear_decay_to_a_final_fraction():
    assert rates(LinearDecay(2.0, decay_steps=2, final_fraction=0.5)) == pytest.approx([2.0, 1.5])
    assert LinearDecay(2.0, decay_steps=2, final_fraction=0.5)(2) == pytest.approx(1.0)


def test_cosine_decay_golden_values():
    schedule = CosineDecay(1.0, decay_steps=4)
    expected = [1.0, (1 + math.cos(math.pi / 4)) / 2, 0.5, (1 + math.cos(3 * math.pi / 4)) / 2]
    assert rates(schedule) == pytest.approx(expected)
    assert CosineDecay(1.0, 4, final_fraction=0.1)(2) == pytest.approx(0.1 + 0.9 * 0.5)


def test_warmup_ramps_from_zero_and_reaches_the_base_rate_at_the_first_inner_step():
    schedule = Warmup(Constant(1.0, 3), warmup_steps=4)
    assert rates(schedule) == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0])


def test_warmup_adds_its_steps_to_the_run_as_the_playbook_says():
    # "if we originally had 10,000 max_train_steps and did warmup_steps for 1000 steps,
    #  the new training procedure should run for 11,000 steps total"
    schedule = with_warmup(LinearDecay(0.1, 10_000), 1000)
    assert schedule.total_steps == 11_000
    assert schedule(1000) == pytest.approx(0.1)
    assert schedule(1000 + 5000) == pytest.approx(LinearDecay(0.1, 10_000)(5000))


def test_warmup_shifts_a_decay_by_warmup_steps():
    inner = CosineDecay(0.5, 10)
    schedule = Warmup(inner, 5)
    assert [schedule(5 + k) for k in range(10)] == [inner(k) for k in range(10)]
    assert schedule.learning_rate == 0.5


def test_with_zero_warmup_is_the_schedule_itself():
    inner = Constant(0.1, 10)
    assert with_warmup(inner, 0) is inner


def test_with_zero_warmup_taken_from_a_numpy_sweep_is_the_schedule_itself():
    np = pytest.importorskip("numpy")
    inner = Constant(0.1, 10)
    schedules = [with_warmup(inner, steps) for steps in np.array([0, 5])]  # a warmup sweep written with numpy
    assert schedules == [inner, Warmup(inner, 5)]
    assert with_warmup(inner, 0.0) is inner
    with pytest.raises(ScheduleError, match="warmup_steps: must be an integer >= 1, got False"):
        with_warmup(inner, False)


def test_past_the_end_the_rate_stays_at_the_final_rate():
    assert LinearDecay(1.0, 4)(100) == 0.0
    assert CosineDecay(1.0, 4, final_fraction=0.2)(100) == pytest.approx(0.2)
    assert Constant(0.3, 4)(100) == 0.3


def test_a_negative_or_fractional_step_is_a_caller_bug():
    with pytest.raises(ValueError, match="step must be >= 0"):
        LinearDecay(1.0, 4)(-1)
    with pytest.raises(TypeError):
        Constant(1.0, 4)(1.5)


def test_schedules_are_frozen_and_compare_by_value():
    schedule = LinearDecay(1.0, 4)
    with pytest.raises(AttributeError):
        schedule.decay_steps = 5
    assert LinearDecay(1, 4.0) == LinearDecay(1.0, 4)
    assert isinstance(LinearDecay(1, 4.0).decay_steps, int)


# --- Round 2: extend(total_steps) ---------------------------------------------------------------

def test_extending_a_linear_decay_keeps_the_decay_and_lengthens_the_constant_part():
    extended = LinearDecay(1.0, decay_steps=4, constant_steps=2).extend(10)
    assert extended == LinearDecay(1.0, decay_steps=4, constant_steps=6)
    assert rates(extended)[-4:] == pytest.approx([1.0, 0.75, 0.5, 0.25])


def test_extending_a_cosine_keeps_the_base_rate_and_stretches_over_the_new_steps():
    extended = CosineDecay(0.3, 100, final_fraction=0.1).extend(250)
    assert extended == CosineDecay(0.3, 250, final_fraction=0.1)
    assert extended(0) == 0.3 and extended(125) == pytest.approx(0.3 * (0.1 + 0.9 * 0.5))


def test_extending_a_warmup_keeps_the_warmup_and_extends_the_inner_schedule():
    schedule = Warmup(LinearDecay(1.0, decay_steps=4, constant_steps=2), 3)
    extended = schedule.extend(20)
    assert extended == Warmup(LinearDecay(1.0, decay_steps=4, constant_steps=13), 3)
    assert extended.total_steps == 20
    assert rates(extended)[:3] == rates(schedule)[:3]


def test_extending_to_the_same_length_changes_nothing_and_shrinking_is_an_error():
    schedule = Warmup(CosineDecay(1.0, 10), 2)
    assert schedule.extend(12) == schedule
    with pytest.raises(ScheduleError, match=r"max_train_steps: extend\(\) cannot shrink a schedule of 12 steps to 11"):
        schedule.extend(11)
    with pytest.raises(ScheduleError, match="max_train_steps"):
        Constant(1.0, 5).extend(4)


# --- trial params ------------------------------------------------------------------------------

def test_params_default_to_a_constant_schedule_without_warmup():
    assert schedule_from_params({"learning_rate": 0.1, "max_train_steps": 100}) == Constant(0.1, 100)


def test_params_with_warmup_count_warmup_inside_max_train_steps():
    params = {"schedule": "cosine", "learning_rate": 0.1, "max_train_steps": 100, "warmup_steps": 10}
    assert schedule_from_params(params) == Warmup(CosineDecay(0.1, 90), 10)


def test_linear_params_decay_over_every_post_warmup_step_unless_decay_steps_says_otherwise():
    base = {"schedule": "linear", "learning_rate": 0.1, "max_train_steps": 100, "warmup_steps": 10}
    assert schedule_from_params(base) == Warmup(LinearDecay(0.1, 90), 10)
    assert schedule_from_params({**base, "decay_steps": 30}) == Warmup(LinearDecay(0.1, 30, constant_steps=60), 10)


def test_params_ignore_other_keys_none_values_and_decay_steps_of_non_linear_schedules():
    params = {"schedule": "cosine", "learning_rate": 0.1, "max_train_steps": 50, "decay_steps": 10,
              "warmup_steps": None, "batch_size": 64, "optimizer": "adam"}
    assert schedule_from_params(params) == CosineDecay(0.1, 50)


def test_to_params_writes_the_shared_vocabulary():
    schedule = Warmup(LinearDecay(0.1, 30, constant_steps=60), 10)
    assert schedule.to_params() == {"schedule": "linear", "learning_rate": 0.1, "max_train_steps": 100,
                                    "warmup_steps": 10, "decay_steps": 30}
    assert CosineDecay(0.2, 5, final_fraction=0.1).to_params() == {
        "schedule": "cosine", "learning_rate": 0.2, "max_train_steps": 5, "warmup_steps": 0, "final_fraction": 0.1}


@pytest.mark.parametrize("params, field, value", [
    ({"schedule": "step"}, "schedule", "'step'"),
    ({"learning_rate": -0.1}, "learning_rate", "-0.1"),
    ({"learning_rate": float("nan")}, "learning_rate", "nan"),
    ({"learning_rate": "fast"}, "learning_rate", "'fast'"),
    ({"max_train_steps": 0}, "max_train_steps", "0"),
    ({"max_train_steps": 10.5}, "max_train_steps", "10.5"),
    ({"warmup_steps": -3}, "warmup_steps", "-3"),
    ({"warmup_steps": 100}, "warmup_steps", "100"),
    ({"schedule": "linear", "decay_steps": 200}, "decay_steps", "200"),
    ({"schedule": "linear", "decay_steps": 0}, "decay_steps", "0"),
    ({"schedule": "linear", "final_fraction": 1.5}, "final_fraction", "1.5"),
])
def test_bad_params_name_the_param_and_the_value(params, field, value):
    good = {"learning_rate": 0.1, "max_train_steps": 100}
    with pytest.raises(ScheduleError) as caught:
        schedule_from_params({**good, **params})
    assert f"{field}: " in str(caught.value) and value in str(caught.value)
    assert isinstance(caught.value, (SpecError, TunebookError, ValueError))


def test_every_bad_param_is_reported_together():
    with pytest.raises(ScheduleError) as caught:
        schedule_from_params({"schedule": "cosine", "warmup_steps": -1})
    fields = [field for field, _ in caught.value.problems]
    assert fields == ["learning_rate", "max_train_steps", "warmup_steps"]


def test_constructors_validate_their_fields_too():
    with pytest.raises(ScheduleError, match="decay_steps: must be an integer >= 1, got 0"):
        LinearDecay(0.1, 0)
    with pytest.raises(ScheduleError, match="warmup_steps: must be an integer >= 1, got 0"):
        Warmup(Constant(0.1, 5), 0)
    with pytest.raises(ScheduleError, match="schedule: must be a Constant"):
        Warmup(Warmup(Constant(0.1, 5), 1), 1)


def _schedules():
    rate = st.floats(1e-6, 10.0, allow_nan=False)
    steps = st.integers(1, 10_000)
    fraction = st.sampled_from([0.0, 0.1, 0.5])
    base = st.one_of(
        st.builds(Constant, rate, steps),
        st.builds(LinearDecay, rate, steps, st.integers(0, 10_000), fraction),
        st.builds(CosineDecay, rate, steps, fraction),
    )
    return st.one_of(base, st.builds(Warmup, base, st.integers(1, 1000)))


@settings(max_examples=200, deadline=None)
@given(_schedules())
def test_params_round_trip(schedule):
    params = schedule.to_params()
    assert schedule_from_params(params) == schedule
    assert params["max_train_steps"] == schedule.total_steps


@settings(max_examples=100, deadline=None)
@given(_schedules(), st.integers(0, 5000))
def test_extend_keeps_the_base_rate_and_reaches_the_new_length(schedule, extra):
    extended = schedule.extend(schedule.total_steps + extra)
    assert extended.total_steps == schedule.total_steps + extra
    assert extended.learning_rate == schedule.learning_rate
    assert type(extended) is type(schedule)
    # the last rate before the end is no larger than the base, and rates never go negative
    assert 0.0 <= extended(extended.total_steps - 1) <= extended.learning_rate


def test_a_too_long_decay_is_reported_with_the_other_mistakes():
    with pytest.raises(ScheduleError) as caught:
        schedule_from_params({"schedule": "linear", "learning_rate": 0, "max_train_steps": 10, "decay_steps": 11})
    assert [field for field, _ in caught.value.problems] == ["learning_rate", "decay_steps"]
    assert "decay_steps: must be at most max_train_steps - warmup_steps = 10" in str(caught.value)
