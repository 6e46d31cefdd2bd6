"""The command template: placeholders, environment, and the batch sizes tried."""

from __future__ import annotations

import pytest

from tunebook.probe import ProbeError
from tunebook.probe.command import CommandTemplate, batch_sizes, check_steps


def test_placeholders_are_filled_in_every_argument_and_other_braces_are_kept():
    template = CommandTemplate(("python", "train.py", "--batch-size={batch_size}", "--steps", "{steps}",
                                "--config", '{"depth": 2}'))
    assert template.argv(64, 20) == ["python", "train.py", "--batch-size=64", "--steps", "20",
                                     "--config", '{"depth": 2}']


def test_the_environment_carries_both_numbers_and_unbuffered_output():
    env = CommandTemplate(("train", "{batch_size}")).env(32, 10, base={"PATH": "/bin"})
    assert env == {"PATH": "/bin", "TUNEBOOK_PROBE_BATCH_SIZE": "32", "TUNEBOOK_PROBE_STEPS": "10",
                   "PYTHONUNBUFFERED": "1"}


def test_a_command_without_a_batch_size_placeholder_is_refused_with_how_to_pass_it():
    with pytest.raises(ProbeError) as error:
        CommandTemplate(("python", "train.py", "--steps", "{steps}"))
    message = str(error.value)
    assert "has no {batch_size} placeholder" in message
    assert "--batch-size {batch_size}" in message and "--from-env" in message
    assert "$TUNEBOOK_PROBE_BATCH_SIZE" in message


def test_a_program_that_reads_the_environment_needs_no_placeholder():
    assert CommandTemplate(("python", "train.py"), from_env=True).argv(8, 20) == ["python", "train.py"]


def test_an_empty_command_says_where_to_put_it():
    with pytest.raises(ProbeError, match="after '--'"):
        CommandTemplate(())


def test_batch_sizes_are_powers_of_two_from_start_up_to_the_maximum():
    assert batch_sizes(1, 16) == [1, 2, 4, 8, 16]
    assert batch_sizes(3, 40) == [3, 6, 12, 24]
    assert batch_sizes(8, 8) == [8]


@pytest.mark.parametrize("start, maximum, message", [(0, 8, "--start must be >= 1, got 0"),
                                                      (16, 8, "--max-batch-size must be >= --start (16), got 8")])
def test_bad_batch_size_range(start, maximum, message):
    with pytest.raises(ProbeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        batch_sizes(start, maximum)


def test_steps_must_leave_steps_to_time():
    check_steps(7, 5)
    with pytest.raises(ProbeError, match="--steps must be at least --skip-steps \\+ 2 = 7 .* got 6"):
        check_steps(6, 5)
    with pytest.raises(ProbeError, match="--skip-steps must be >= 0, got -1"):
        check_steps(20, -1)
