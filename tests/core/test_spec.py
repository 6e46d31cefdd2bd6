"""Whole specs: top-level fields, objective, search, every mistake at once, round trips."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tunebook.core import Choice, Experiment, Fixed, Objective, Range, SearchConfig, SpecError
from tunebook.core.spec import TOP_LEVEL
from tunebook.core.yaml_loader import dump_yaml, load_yaml

from tests.core.specs import BASE, NESTED, edit, message_for, problems_of, spec

BAD_FIELDS = {
    "unknown top-level field, close to a real one": (
        spec(serach={"trials": 3}), "serach", ["unknown field", "did you mean 'search'?"],
    ),
    "unknown top-level field, far from all": (
        spec(zzz=1), "zzz", ["unknown field", "allowed: name, goal, notes, objective"],
    ),
    "missing name": (spec(name=None), "name", ["is required"]),
    "name with a space": (spec(name="my experiment"), "name", ["'my experiment'"]),
    "name that is a number": (spec(name=42), "name", ["got 42"]),
    "name with a trailing newline": (spec(name="abc\n"), "name", ["'abc\\n'"]),
    "goal that is not text": (spec(goal=3), "goal", ["must be text", "got 3"]),
    "missing objective": (spec(objective=None), "objective", ["is required", "got None"]),
    "objective as a list": (spec(objective=["loss"]), "objective", ["got ['loss']"]),
    "missing metric": (spec(objective={"mode": "min"}), "objective.metric", ["got None"]),
    "empty metric": (spec(objective={"metric": ""}), "objective.metric", ["got ''"]),
    "bad mode": (
        spec(objective={"metric": "m", "mode": "minimize"}),
        "objective.mode", ["must be one of min, max", "got 'minimize'"],
    ),
    "bad reduce": (
        spec(objective={"metric": "m", "reduce": "last"}),
        "objective.reduce", ["must be one of best, final", "got 'last'"],
    ),
    "unknown objective field": (
        spec(objective={"metric": "m", "metrc": "x"}), "objective.metrc", ["did you mean 'metric'?"],
    ),
    "trials missing": (spec(search={"algorithm": "random"}), "search.trials", ["is required"]),
    "trials zero": (spec(search={"trials": 0}), "search.trials", ["integer >= 1", "got 0"]),
    "trials negative": (spec(search={"trials": -3}), "search.trials", ["integer >= 1", "got -3"]),
    "trials a bool": (spec(search={"trials": True}), "search.trials", ["integer >= 1", "got True"]),
    "trials fractional": (spec(search={"trials": 2.5}), "search.trials", ["got 2.5"]),
    "trials as text": (spec(search={"trials": "10"}), "search.trials", ["got '10'"]),
    "seed negative": (spec(search={"trials": 2, "seed": -1}), "search.seed", ["integer >= 0", "got -1"]),
    "resolution zero": (
        spec(search={"algorithm": "grid", "resolution": 0}), "search.resolution", ["got 0"],
    ),
    "unknown search field": (
        spec(search={"trails": 10, "trials": 1}), "search.trails", ["did you mean 'trials'?"],
    ),
    "bad algorithm": (
        spec(search={"algorithm": "hyperband", "trials": 5}),
        "search.algorithm", ["quasi_random, random, grid, explicit, bayesian", "got 'hyperband'"],
    ),
    "bayesian needs trials": (
        spec(search={"algorithm": "bayesian"}), "search.trials", ["is required"],
    ),
    "initial is a count": (
        spec(search={"algorithm": "bayesian", "trials": 5, "initial": 0}), "search.initial", ["integer >= 1", "got 0"],
    ),
    "initial only for bayesian": (
        spec(search={"trials": 5, "initial": 3}), "search.initial", ["only to algorithm: bayesian", "quasi_random"],
    ),
    "warm start names experiments": (
        spec(search={"algorithm": "bayesian", "trials": 5, "warm_start": [3]}), "search.warm_start",
        ["list of experiment names", "got [3]"],
    ),
    "warm start only for bayesian": (
        spec(search={"trials": 5, "warm_start": ["explore"]}), "search.warm_start", ["only to algorithm: bayesian"],
    ),
    "warm start from itself": (
        spec(search={"algorithm": "bayesian", "trials": 5, "warm_start": ["t"]}), "search.warm_start",
        ["names this experiment itself ('t')"],
    ),
    "bad studies layout": (
        spec(search={"trials": 5, "studies": "separate"}),
        "search.studies", ["per_scientific_value, joint", "got 'separate'"],
    ),
    "search not a mapping": (spec(search=[1, 2]), "search", ["must be a mapping", "[1, 2]"]),
    "explicit search without points": (
        spec(search={"algorithm": "explicit"}), "search.points", ["explicit search needs a list"],
    ),
    "points that are not mappings": (
        spec(search={"algorithm": "random", "trials": 1, "points": [1, 2]}),
        "search.points", ["list of mappings", "[1, 2]"],
    ),
    "run that is not a mapping": (spec(run="python train.py"), "run", ["'python train.py'"]),
}


@pytest.mark.parametrize("data, path, fragments", BAD_FIELDS.values(), ids=list(BAD_FIELDS))
def test_bad_field_names_path_and_value(data, path, fragments):
    problems = problems_of(data)
    message = message_for(problems, path)
    for fragment in fragments:
        assert fragment in message
    assert len(problems) == 1, problems


def test_spec_that_is_not_a_mapping():
    with pytest.raises(SpecError, match="must be a mapping of fields, got list"):
        Experiment.from_dict(["name", "objective"])


def test_every_mistake_is_reported_at_once():
    data = spec(
        name=None,
        objective={"metric": "m", "mode": "up"},
        serach={},
        search={"algorithm": "random", "trials": 0},
    )
    data = edit(data, "nuisance/optimizer=adam/beta1", {"low": 0.99, "high": 0.9})
    data = edit(data, "nuisance/dropout", 0.1)
    data = edit(data, "fixed/batch_size", {"low": 1, "high": 2})
    data = edit(data, "nuisance/optimizer=rmsprop", {"rho": [0.9]})
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(data, source="bad.yaml")
    paths = [p for p, _ in info.value.problems]
    assert sorted(paths) == sorted([
        "serach", "name", "objective.mode", "nuisance.dropout", "fixed.batch_size",
        "nuisance.optimizer=rmsprop", "nuisance.optimizer=adam.beta1", "search.trials",
    ])
    rendered = str(info.value)
    assert rendered.startswith("invalid experiment spec bad.yaml:\n")
    assert rendered.count("\n  - ") == len(paths)
    assert "  - nuisance.optimizer=adam.beta1: high must be > low, got low=0.99 high=0.9" in rendered
    assert info.value.source == "bad.yaml"


def test_search_defaults():
    e = Experiment.from_dict(spec(search={"trials": 7}))
    assert e.search == SearchConfig("quasi_random", 7, "per_scientific_value", 0, 5, ())
    assert e.objective == Objective("valid/error", "min", "best")
    assert Experiment.from_dict(spec(objective={"metric": "acc"})).objective == Objective("acc", "min", "best")


def test_grid_and_explicit_need_no_trials():
    grid = Experiment.from_dict(spec(search={"algorithm": "grid"}, nuisance={"lr": [0.1, 0.01]}))
    assert grid.search.trials is None
    explicit = Experiment.from_dict(spec(
        search={"algorithm": "explicit", "points": [{"lr": 0.1}, {"lr": 0.3}]},
        nuisance={"lr": {"low": 0.01, "high": 1.0}},
    ))
    assert explicit.search.points == ({"lr": 0.1}, {"lr": 0.3})


def test_whole_float_trials_count_as_an_integer():
    e = Experiment.from_dict(spec(search={"trials": 20.0}))
    assert e.search.trials == 20 and type(e.search.trials) is int


# --- round trips --------------------------------------------------------------

ROUND_TRIP = {
    "base": BASE,
    "nested branches with fixed values in branches": NESTED,
    "bool, int and float branch values": spec(
        scientific={"num_layers": [1, 2]},
        nuisance={
            "flag": [0, 1, True, None],
            "flag=true": {"a": {"low": 1, "high": 9, "type": "int"}},
            "flag=1": {"a": [1, 2]},
            "num_layers=2": {"skip": [True, False]},
            "lr": [0.1, 0.01],
            "lr=0.01": {"warm": [0, 10]},
        },
        fixed={"betas": [0.9, 0.999], "clip": None, "flag=1": {"c": "x"}},
    ),
    "joint with a scientific range": spec(
        scientific={"width": {"low": 16, "high": 256, "scale": "log", "type": "int"}},
        search={"algorithm": "random", "trials": 12, "studies": "joint", "seed": 7},
    ),
    "grid with a resolution": spec(
        nuisance={"lr": {"low": 1e-3, "high": 1.0, "scale": "log"}},
        search={"algorithm": "grid", "resolution": 4},
    ),
    "resolution set with a non-grid algorithm": spec(search={"algorithm": "random", "trials": 3, "resolution": 3}),
    "explicit points": spec(
        scientific=None,
        nuisance={"lr": {"low": 0.01, "high": 1.0}, "act": ["relu", "gelu"]},
        search={"algorithm": "explicit", "points": [{"lr": 0.1, "act": "relu"}]},
    ),
    "bayesian with an initial design and warm start": spec(
        search={"algorithm": "bayesian", "trials": 30, "initial": 8, "seed": 2, "warm_start": ["explore", "explore2"]},
    ),
    "objective reduce final, notes and run": spec(
        objective={"metric": "valid/acc", "mode": "max", "reduce": "final"},
        notes="multi\nline", run={"command": ["python", "train.py"], "env": {"A": "1"}},
    ),
}


def _exactly(a, b):
    """Equal, and with the same types all the way down (1 is not True, 1 is not 1.0)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_exactly(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_exactly, a, b))
    return type(a) is type(b) and (a == b or (a != a and b != b))


@pytest.mark.parametrize("data", ROUND_TRIP.values(), ids=list(ROUND_TRIP))
def test_to_dict_round_trips(data):
    e = Experiment.from_dict(data)
    plain = e.to_dict()
    again = Experiment.from_dict(plain)
    assert again == e
    # == cannot see 1 vs True inside a Choice; the plain data must keep them apart.
    assert _exactly(again.to_dict(), plain)
    assert [hp.id for hp in again.space] == [hp.id for hp in e.space]
    # plain data: survives JSON, and YAML read back by tunebook's own loader
    assert Experiment.from_dict(json.loads(json.dumps(plain))) == e
    assert Experiment.from_dict(load_yaml(dump_yaml(plain, sort_keys=False))) == e


def test_to_dict_keeps_the_users_layout():
    plain = Experiment.from_dict(NESTED).to_dict()
    assert set(plain) == set(TOP_LEVEL) - {"regularizers"}  # written only when the spec gives it
    assert plain["nuisance"]["optimizer=adam"]["schedule=cos"]["warmup"] == {
        "low": 0, "high": 1000, "scale": "linear", "type": "int",
    }
    assert plain["fixed"]["optimizer=adam"] == {"eps": 1e-8, "schedule=lin": {"final_lr": 0.0}}
    assert plain["scientific"] == {"num_layers": [2, 4]}


def test_python_objects_equal_their_yaml_twin():
    text = """
name: twin
objective: {metric: valid/error, mode: min}
scientific:
  num_layers: [1, 2, 3]
nuisance:
  lr: {low: 1e-4, high: 1.0, scale: log}
  width: {low: 16, high: 512, scale: log, type: int}
  optimizer: [adam, sgd]
  optimizer=adam:
    beta1: {low: 0.8, high: 0.99}
fixed:
  batch_size: 128
  optimizer=adam:
    eps: 1e-8
search: {trials: 20}
"""
    from_yaml = Experiment.from_dict(load_yaml(text))
    from_objects = Experiment.from_dict({
        "name": "twin",
        "objective": {"metric": "valid/error", "mode": "min"},
        "scientific": {"num_layers": Choice((1, 2, 3))},
        "nuisance": {
            "lr": Range(1e-4, 1.0, "log"),
            "width": Range(16, 512, "log", "int"),
            "optimizer": Choice(("adam", "sgd")),
            "optimizer=adam": {"beta1": Range(0.8, 0.99)},
        },
        "fixed": {"batch_size": Fixed(128), "optimizer=adam": {"eps": Fixed(1e-8)}},
        "search": {"trials": 20},
    })
    assert from_objects == from_yaml
    # plain Python lists and scalars work as well as the objects
    assert Experiment.from_dict(from_objects.to_dict()) == from_yaml


def test_objective_and_search_objects_are_accepted():
    e = Experiment.from_dict(spec(
        objective=Objective("valid/acc", "max", "final"),
        search=SearchConfig("random", 9, "joint", 4),
    ))
    assert e.objective == Objective("valid/acc", "max", "final")
    assert e.search.trials == 9 and e.search.studies == "joint"


# --- properties ---------------------------------------------------------------

_IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_FINITE = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def _ranges(draw, scientific_allowed=True):
    kind = draw(st.sampled_from(["float", "int"]))
    scale = draw(st.sampled_from(["linear", "log"]))
    if kind == "int":
        low = draw(st.integers(1 if scale == "log" else -1000, 1000))
        high = draw(st.integers(low + 1, low + 10_000))
    else:
        low = draw(st.floats(1e-9, 1e6) if scale == "log" else _FINITE)
        high = low + draw(st.floats(1e-3, 1e6)) * (low if scale == "log" else 1.0)
    return {"low": low, "high": high, "scale": scale, "type": kind}


_CHOICE_VALUE = st.one_of(
    st.integers(-100, 100), st.booleans(), st.none(),
    st.floats(-10, 10, allow_nan=False).filter(lambda x: not x.is_integer()),
    st.from_regex(r"[a-z]{1,6}", fullmatch=True).filter(lambda s: s not in ("true", "false", "none")),
)
_choices = st.lists(_CHOICE_VALUE, min_size=1, max_size=5).filter(
    lambda vs: len({str(v).lower() for v in vs}) == len(vs)
)
_fixed = st.one_of(_CHOICE_VALUE, st.lists(st.integers(0, 9), max_size=3))


@st.composite
def valid_flat_specs(draw):
    names = draw(st.lists(_IDENT, min_size=0, max_size=8, unique=True))
    joint = draw(st.booleans())
    sections: dict = {}
    for name in names:
        role = draw(st.sampled_from(["scientific", "nuisance", "fixed"]))
        if role == "fixed":
            value = draw(_fixed)
        elif role == "scientific" and not joint:
            value = draw(_choices)
        else:
            value = draw(st.one_of(_ranges(), _choices))
        sections.setdefault(role, {})[name] = value
    search = {
        "algorithm": draw(st.sampled_from(["quasi_random", "random"])),
        "trials": draw(st.integers(1, 10**6)),
        "studies": "joint" if joint else "per_scientific_value",
        "seed": draw(st.integers(0, 2**32)),
    }
    if draw(st.booleans()):
        search["resolution"] = draw(st.integers(1, 50))
    data = {
        "name": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,15}", fullmatch=True)),
        "objective": {
            "metric": draw(st.from_regex(r"[a-z]+(/[a-z]+)?", fullmatch=True)),
            "mode": draw(st.sampled_from(["min", "max"])),
            "reduce": draw(st.sampled_from(["best", "final"])),
        },
        "search": search,
        **sections,
    }
    return data, names, sections


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_flat_specs())
def test_any_valid_flat_spec_parses_and_round_trips(case):
    data, names, sections = case
    e = Experiment.from_dict(data)
    assert sorted(hp.id for hp in e.space) == sorted(names)
    for role, block in sections.items():
        for name, value in block.items():
            hp = e.space[name]
            assert hp.role == role and hp.name == name and hp.condition == ()
            if isinstance(value, dict):
                assert hp.domain == Range(value["low"], value["high"], value["scale"], value["type"])
            elif role == "fixed":
                assert hp.domain == Fixed(value)
            else:
                assert hp.domain == Choice(tuple(value))
    plain = e.to_dict()
    assert Experiment.from_dict(plain) == e
    assert Experiment.from_dict(load_yaml(dump_yaml(plain, sort_keys=False))) == e
    assert len(e.studies()) >= 1


_JUNK_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(10**300, 10**400),
    st.floats(), st.text(max_size=8),
    st.sampled_from(["1e-4", "x=1", "adam", "log", "int", "linear", "min", "grid", "explicit", "joint", ""]),
)
_JUNK_KEY = st.one_of(
    st.sampled_from([
        "name", "objective", "metric", "mode", "reduce", "scientific", "nuisance", "fixed", "search",
        "algorithm", "trials", "studies", "seed", "resolution", "points", "run", "low", "high",
        "scale", "type", "x", "y", "x=1", "x=adam", "x=true", "y=x", "x=None",
    ]),
    st.text(max_size=6), st.integers(-2, 2),
)
_JUNK = st.recursive(
    _JUNK_SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(_JUNK_KEY, inner, max_size=5),
        st.builds(Range, _JUNK_SCALAR, _JUNK_SCALAR, _JUNK_SCALAR, _JUNK_SCALAR),
        st.builds(lambda vs: Choice(tuple(vs)), st.lists(_JUNK_SCALAR, max_size=3)),
        st.builds(Fixed, inner),
    ),
    max_leaves=20,
)
_RANGEISH = st.dictionaries(st.sampled_from(["low", "high", "scale", "type"]), _JUNK_SCALAR, min_size=2)
_SECTION = st.recursive(
    st.dictionaries(_JUNK_KEY, st.one_of(_RANGEISH, _JUNK), max_size=6),
    lambda inner: st.dictionaries(_JUNK_KEY, st.one_of(inner, _RANGEISH, _JUNK), max_size=4),
    max_leaves=8,
)
_POINTS = st.lists(st.dictionaries(st.sampled_from(["x", "y", "z"]), _JUNK_SCALAR), max_size=3)
_JUNK_SPEC = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.just("ok"), _JUNK_SCALAR),
        "objective": st.one_of(st.just({"metric": "m"}), _JUNK),
        "scientific": st.one_of(_SECTION, _JUNK),
        "nuisance": st.one_of(_SECTION, _JUNK),
        "fixed": st.one_of(_SECTION, _JUNK),
        "search": st.one_of(
            st.fixed_dictionaries({}, optional={
                "algorithm": st.one_of(st.sampled_from(["grid", "explicit", "random"]), _JUNK_SCALAR),
                "trials": _JUNK_SCALAR, "studies": st.one_of(st.just("joint"), _JUNK_SCALAR),
                "seed": _JUNK_SCALAR, "resolution": _JUNK_SCALAR, "points": st.one_of(_POINTS, _JUNK),
            }),
            _JUNK,
        ),
        "run": _JUNK,
        "goal": _JUNK_SCALAR,
        "extra": _JUNK,
    },
)


def _accept_or_spec_error(data):
    try:
        e = Experiment.from_dict(data)
    except SpecError as exc:
        assert exc.problems and all(isinstance(p, str) and isinstance(m, str) for p, m in exc.problems)
        assert str(exc)
        return None
    # whatever is accepted must be usable
    e.studies()
    e.to_dict()
    return e


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_JUNK_SPEC, _JUNK))
def test_junk_specs_raise_only_spec_error(data):
    _accept_or_spec_error(data)


@pytest.mark.parametrize("points", [
    [{"x": math.inf}], [{"x": math.nan}], [{"x": 10**400}], [{"x": "3"}], [{"x": True}], [{"x": [1]}],
])
def test_explicit_points_with_odd_values_are_spec_errors(points):
    data = spec(
        scientific=None,
        nuisance={"x": {"low": 0, "high": 10, "type": "int"}},
        search={"algorithm": "explicit", "points": points},
    )
    message = message_for(problems_of(data), "search.points[0].x")
    assert "outside x's domain [0, 10, int]" in message
