"""OutputParser: metrics read from a command's printed lines (named-group regexes or JSON lines)."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from tunebook.execution.output import OutputParser

TOY = r"step (?P<step>\d+) train loss: (?P<train_loss>\S+) valid loss: (?P<valid_loss>\S+)"


def test_regex_with_a_step_group_reads_the_step_and_every_metric():
    parser = OutputParser([TOY])
    assert parser.parse("step 9 train loss: 0.5 valid loss: 0.75\n") == (9, {"train_loss": 0.5, "valid_loss": 0.75})
    assert parser.parse("step 19 train loss: 1e-3 valid loss: 2\n") == (19, {"train_loss": 0.001, "valid_loss": 2.0})


def test_regex_without_a_step_group_counts_the_metric_lines():
    parser = OutputParser([r"loss=(?P<loss>\S+)"])
    parsed = [parser.parse(line) for line in ["loss=3", "epoch done", "loss=2", "", "loss=1"]]
    assert parsed == [(0, {"loss": 3.0}), None, (1, {"loss": 2.0}), None, (2, {"loss": 1.0})]


def test_lines_that_do_not_match_are_ignored():
    parser = OutputParser([TOY])
    for line in ["Epoch 1/10", "Traceback (most recent call last):", "step x train loss: 1 valid loss: 2", ""]:
        assert parser.parse(line) is None


def test_groups_that_are_not_numbers_are_skipped_and_the_rest_kept():
    parser = OutputParser([TOY])
    assert parser.parse("step 3 train loss: 0.25 valid loss: n/a") == (3, {"train_loss": 0.25})
    # no number at all: the line says nothing
    assert parser.parse("step 4 train loss: ? valid loss: -") is None


def test_nan_and_infinities_are_parsed_so_divergence_can_be_seen():
    parser = OutputParser([TOY])
    step, metrics = parser.parse("step 5 train loss: nan valid loss: inf")
    assert step == 5 and math.isnan(metrics["train_loss"]) and metrics["valid_loss"] == math.inf
    assert parser.parse("step 6 train loss: -inf valid loss: NaN")[1]["train_loss"] == -math.inf


def test_several_regexes_the_first_that_matches_wins():
    parser = OutputParser([r"train (?P<step>\d+): (?P<loss>\S+)", r"eval (?P<step>\d+): (?P<accuracy>\S+)"])
    assert parser.parse("train 10: 0.3") == (10, {"loss": 0.3})
    assert parser.parse("eval 10: 0.9") == (10, {"accuracy": 0.9})


def test_json_lines_with_a_step():
    parser = OutputParser(["json"])
    assert parser.parse('{"step": 100, "loss": 0.5, "valid_loss": 0.6}\n') == (100, {"loss": 0.5, "valid_loss": 0.6})


def test_json_lines_without_a_step_count_the_metric_lines():
    parser = OutputParser(["json"])
    assert parser.parse('{"loss": 3}') == (0, {"loss": 3.0})
    assert parser.parse('{"loss": 2}') == (1, {"loss": 2.0})


def test_json_non_numbers_are_skipped():
    parser = OutputParser(["json"])
    line = json.dumps({"step": 1, "loss": 0.5, "phase": "train", "done": True, "extra": [1], "none": None})
    assert parser.parse(line) == (1, {"loss": 0.5})
    assert parser.parse('{"phase": "eval"}') is None


def test_text_with_braces_that_is_not_json_is_ignored():
    parser = OutputParser(["json"])
    for line in ["{not json}", "config: {'lr': 0.1}", "{", "}", "[1, 2]", '"{}"', "{'loss': 1}"]:
        assert parser.parse(line) is None
    # ... and does not advance the counter
    assert parser.parse('{"loss": 1}') == (0, {"loss": 1.0})


def test_json_and_regexes_together():
    parser = OutputParser(["json", r"acc=(?P<accuracy>\S+) at (?P<step>\d+)"])
    assert parser.parse('{"step": 2, "loss": 1.5}') == (2, {"loss": 1.5})
    assert parser.parse("acc=0.8 at 2") == (2, {"accuracy": 0.8})


def test_a_bad_step_falls_back_to_the_counter():
    parser = OutputParser(["json"])
    assert parser.parse('{"step": -3, "loss": 1}') == (0, {"loss": 1.0})
    assert parser.parse('{"step": "later", "loss": 1}') == (1, {"loss": 1.0})


def test_numbers_too_big_for_a_float_or_a_stored_step_are_not_fatal():
    # a JSON int beyond float range is no metric; a step beyond int64 is no step
    parser = OutputParser(["json"])
    assert parser.parse('{"loss": 1%s, "acc": 0.5}' % ("0" * 400)) == (0, {"acc": 0.5})
    assert parser.parse('{"step": 1%s, "loss": 1}' % ("0" * 400)) == (1, {"loss": 1.0})
    assert parser.parse('{"step": 1e30, "loss": 1}') == (2, {"loss": 1.0})
    regex = OutputParser([r"step (?P<step>\d+) loss (?P<loss>\S+)"])
    assert regex.parse("step 99999999999999999999999 loss 1") == (0, {"loss": 1.0})


@given(
    step=st.integers(min_value=0, max_value=2**53),
    values=st.dictionaries(
        st.from_regex(r"[a-z][a-z_/]{0,12}", fullmatch=True).filter(lambda k: k != "step"),
        st.floats(allow_nan=False, width=64),
        min_size=1, max_size=5,
    ),
)
def test_json_lines_round_trip(step, values):
    line = json.dumps({"step": step, **values})
    assert OutputParser(["json"]).parse(line) == (step, values)


@given(step=st.integers(min_value=0, max_value=10**12), loss=st.floats(allow_nan=False, width=64))
def test_printed_floats_round_trip_through_a_regex(step, loss):
    parser = OutputParser([r"step (?P<step>\d+) loss (?P<loss>\S+)"])
    assert parser.parse(f"step {step} loss {loss!r}") == (step, {"loss": loss})


def _valid(parsed) -> bool:
    """None, or a step that can be stored (int64 >= 0) and at least one float metric."""
    if parsed is None:
        return True
    step, metrics = parsed
    return isinstance(step, int) and 0 <= step < 2**63 and bool(metrics) and all(
        isinstance(v, float) for v in metrics.values()
    )


@given(st.text())
def test_no_line_makes_the_parser_raise(line):
    for patterns in (["json"], [TOY], ["json", TOY]):
        assert _valid(OutputParser(patterns).parse(line))


_json_value = st.one_of(st.integers(), st.floats(), st.text(max_size=5), st.booleans(), st.none())


@given(st.dictionaries(st.sampled_from(["step", "loss", "acc"]), _json_value, max_size=3))
def test_no_json_object_makes_the_parser_raise(data):
    assert _valid(OutputParser(["json"]).parse(json.dumps(data)))


@given(step=st.integers(min_value=0), value=st.integers())
def test_no_printed_integer_makes_a_regex_raise(step, value):
    assert _valid(OutputParser([r"step (?P<step>\d+) loss (?P<loss>\S+)"]).parse(f"step {step} loss {value}"))
