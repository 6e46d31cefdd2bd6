"""Reading spec YAML: numbers as a person means them, duplicate keys, syntax errors, files."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tunebook.core import Choice, Experiment, SpecError
from tunebook.core.spec import load_experiment
from tunebook.core.yaml_loader import dump_yaml, load_yaml

NUMBERS = [
    ("1e-4", 1e-4), ("1E-4", 1e-4), ("-2e3", -2000.0), (".5", 0.5), ("-.5", -0.5),
    ("+1e3", 1000.0), ("1e+2", 100.0), ("1.5e-3", 1.5e-3), ("2.", 2.0), ("0.25", 0.25), ("3e0", 3.0),
]


@pytest.mark.parametrize("text, value", NUMBERS)
def test_number_forms_are_floats(text, value):
    assert load_yaml(f"x: {text}") == {"x": value}
    assert type(load_yaml(f"x: {text}")["x"]) is float


@pytest.mark.parametrize("text", ["e5", "1e", "1.2.3", "1e-4x", "v1e3", "1e4.5", "adam", "1-e4"])
def test_things_that_are_not_numbers_stay_text(text):
    assert load_yaml(f"x: {text}") == {"x": text}


def test_integers_stay_integers():
    assert load_yaml("[3, -7, 0]") == [3, -7, 0]
    assert all(type(v) is int for v in load_yaml("[3, -7, 0]"))


def _spec_text(nuisance: str) -> str:
    return (
        "name: n\nobjective: {metric: m}\nsearch: {trials: 3}\n"
        f"nuisance:\n{nuisance}\n"
    )


@pytest.mark.parametrize("low, high, expected", [
    ("1e-4", "1E-1", (1e-4, 0.1)), ("-2e3", "-1e2", (-2000.0, -100.0)), (".5", "1e1", (0.5, 10.0)),
    ("-.5", ".5", (-0.5, 0.5)),
])
def test_numbers_in_ranges(low, high, expected):
    e = Experiment.from_dict(load_yaml(_spec_text(f"  x: {{low: {low}, high: {high}}}")))
    domain = e.space["x"].domain
    assert (domain.low, domain.high) == expected


def test_numbers_in_lists():
    e = Experiment.from_dict(load_yaml(_spec_text("  x: [1e-4, 1E-3, -2e3, .5, -.5, 3]")))
    assert e.space["x"].domain == Choice((1e-4, 1e-3, -2000.0, 0.5, -0.5, 3))
    assert [type(v) for v in e.space["x"].domain.values] == [float] * 5 + [int]


def test_same_number_written_two_ways_is_a_duplicate():
    with pytest.raises(SpecError, match="0.0001 more than once"):
        Experiment.from_dict(load_yaml(_spec_text("  x: [1e-4, 0.0001]")))


def test_number_in_a_branch_key_of_a_numeric_parent():
    e = Experiment.from_dict(load_yaml(_spec_text("  lr: [0.5, 1e-4]\n  lr=0.5:\n    w: [1, 2]")))
    assert e.space["w[lr=0.5]"].condition == (("lr", 0.5),)


def test_quoted_text_stays_text_in_lists():
    e = Experiment.from_dict(load_yaml(_spec_text("  tag: ['1e-4', \"2\", v1]")))
    assert e.space["tag"].domain == Choice(("1e-4", "2", "v1"))


def test_duplicate_top_level_key_names_the_line():
    text = "name: a\nobjective: {metric: m}\nname: b\n"
    with pytest.raises(SpecError) as info:
        load_yaml(text, "spec.yaml")
    assert info.value.problems == [("", "line 3: key 'name' is given twice in the same mapping")]
    assert str(info.value) == "invalid experiment spec spec.yaml: line 3: key 'name' is given twice in the same mapping"


def test_duplicate_nested_key_names_its_line():
    text = _spec_text("  lr: {low: 0.1, high: 1}\n  dropout: [0.1, 0.2]\n  lr: [1, 2]")
    with pytest.raises(SpecError, match=r"line 7: key 'lr' is given twice"):
        load_yaml(text)


def test_duplicate_key_in_a_flow_mapping():
    with pytest.raises(SpecError, match=r"line 2: key 'low' is given twice"):
        load_yaml("a: 1\nx: {low: 1, low: 2}\n")


def test_same_key_in_different_mappings_is_fine():
    assert load_yaml("a: {low: 1}\nb: {low: 2}\n") == {"a": {"low": 1}, "b": {"low": 2}}


@pytest.mark.parametrize("text, where", [
    ("name: a\nnuisance: {lr: [1, 2}\n", "line 2, column 21"),
    ("name: a\n  bad: indent\n", "line 2, column 6"),
    ("\tname: a\n", "line 1, column 1"),
])
def test_syntax_error_gives_line_and_column(text, where):
    with pytest.raises(SpecError) as info:
        load_yaml(text, "bad.yaml")
    message = str(info.value)
    assert message.startswith(f"invalid experiment spec bad.yaml: {where}: YAML syntax error: ")
    assert info.value.source == "bad.yaml"


def test_unhashable_key_is_a_spec_error_with_its_line():
    with pytest.raises(SpecError, match=r"line 2, column 5: YAML syntax error: found unhashable key"):
        load_yaml("a: 1\nb: {[1, 2]: 3}\n")


def test_impossible_date_is_a_spec_error():
    with pytest.raises(SpecError, match="month must be in 1..12"):
        load_yaml("fixed: {day: 2024-13-01}\n")


def test_empty_text_is_not_a_spec():
    assert load_yaml("") is None
    with pytest.raises(SpecError, match="must be a mapping of fields, got NoneType"):
        Experiment.from_dict(load_yaml(""))


# --- files --------------------------------------------------------------------


def test_load_experiment_reads_a_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(_spec_text("  lr: {low: 1e-4, high: 1, scale: log}"), encoding="utf-8")
    e = load_experiment(path)
    assert e.space["lr"].domain.low == 1e-4
    assert Experiment.from_yaml(str(path)) == e


def test_missing_file_names_the_file(tmp_path):
    path = tmp_path / "nope" / "missing.yaml"
    with pytest.raises(SpecError) as info:
        load_experiment(path)
    assert info.value.source == str(path)
    assert str(path) in str(info.value)
    assert "cannot read spec file" in str(info.value)


def test_directory_is_not_a_spec_file(tmp_path):
    with pytest.raises(SpecError, match="cannot read spec file"):
        load_experiment(tmp_path)


def test_file_that_is_not_utf8_is_a_spec_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError) as info:
        load_experiment(path)
    assert str(path) in str(info.value) and "UTF-8" in str(info.value)


def test_errors_in_a_file_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: a\nobjective: {metric: m, mode: up}\nsearch: {trials: 1}\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_experiment(path)
    assert str(info.value) == f"invalid experiment spec {path}: objective.mode: must be one of min, max, got 'up'"


def test_duplicate_key_in_a_file_names_file_and_line(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("name: a\nname: b\n", encoding="utf-8")
    with pytest.raises(SpecError, match=rf"{path}: line 2: key 'name'"):
        load_experiment(path)


def test_self_referencing_alias_ends(tmp_path):
    text = "name: a\nobjective: {metric: m}\nsearch: {trials: 1}\nnuisance: &a {x: [1, 2], x=1: *a}\n"
    with pytest.raises(SpecError, match="deep"):
        Experiment.from_dict(load_yaml(text))


# --- junk text ------------------------------------------------------------------

_YAMLISH = st.text(alphabet=list("{}[]:,-&*!?|>'\"#\n\t .=e1x0aE+%@`"), max_size=60)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_YAMLISH)
def test_junk_text_gives_data_or_spec_error(text):
    try:
        data = load_yaml(text)
    except SpecError as exc:
        assert exc.problems
        return
    try:
        Experiment.from_dict(data)
    except SpecError:
        pass


@pytest.mark.parametrize("text", ["x: .nan", "x: .inf", "x: -.inf"])
def test_special_floats_still_read(text):
    value = load_yaml(text)["x"]
    assert isinstance(value, float) and not math.isfinite(value)


@pytest.mark.parametrize("text", ["1e5", "0E0", "1.5e3", "-2e-3", ".5e1"])
def test_a_string_the_loader_reads_as_a_number_is_quoted_when_dumped(text: str):
    """PyYAML's dumper leaves "1e5" bare, which this loader reads as 100000.0: a spec a plan writes must
    read back as written (found by the spec round-trip property test with the experiment name "0E0")."""
    import yaml

    assert load_yaml(yaml.safe_dump({"name": text})) != {"name": text}
    assert load_yaml(dump_yaml({"name": text, "values": [text, 1e5]})) == {"name": text, "values": [text, 1e5]}
