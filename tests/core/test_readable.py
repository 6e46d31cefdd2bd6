"""Numbers to 4 digits, durations with units and reasons in one line, as every table shows them."""

from __future__ import annotations

import pytest

from tunebook.core.readable import format_duration, format_number, reason_line


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "-"), (float("nan"), "-"), (-1.0, "-"), (0.0, "0 s"), (0.42, "0.42 s"), (12.34, "12.3 s"),
    (59.94, "59.9 s"), (59.97, "1 min"), (250.0, "4 min 10 s"), (3599.6, "1 h 00 min"), (7500.0, "2 h 05 min"),
    (90000.0, "1 d 1 h"),
])
def test_durations_read_with_a_unit_and_at_most_two_parts(seconds, text):
    assert format_duration(seconds) == text


def test_a_failure_reads_as_its_cause_and_the_last_line_of_its_stderr():
    reason = "exit code 1 after 2 attempt(s); stderr ends:\nTraceback (most recent call last):\n  File x\n" \
             "RuntimeError: CUDA out of memory\n"
    assert reason_line(reason) == "exit code 1 after 2 attempt(s): RuntimeError: CUDA out of memory"
    assert reason_line("valid_loss is nan at step 10") == "valid_loss is nan at step 10"
    assert reason_line("first\nsecond") == "first"
    assert reason_line(None) == reason_line("") == reason_line("\n \n") == ""


@pytest.mark.parametrize("number, text", [
    (0.022222222222222223, "0.02222"), (300.0, "300"), (123456.0, "123456"), (2e6, "2e+06"),
    (12345.678, "1.235e+04"), (0.000123456, "0.0001235"), (1.2e-7, "1.2e-07"), (-0.5, "-0.5"),
    (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"),
])
def test_numbers_read_to_four_significant_digits_and_whole_numbers_whole(number, text):
    assert format_number(number) == text
