"""The hyperparameter sections: value forms, branches, ids, and their error messages."""

from __future__ import annotations

import pytest

from tunebook.core import Choice, Experiment, Fixed, Range

from tests.core.specs import BASE, NESTED, edit, message_for, problems_of, spec

# (data, field path, fragments the message must hold: the offending value, the hint)
BAD_SECTIONS = {
    "high below low": (
        edit(BASE, "nuisance/optimizer=adam/beta1", {"low": 0.99, "high": 0.9}),
        "nuisance.optimizer=adam.beta1", ["high must be > low, got low=0.99 high=0.9"],
    ),
    "high equal to low": (
        edit(BASE, "nuisance/dropout", {"low": 0.5, "high": 0.5}),
        "nuisance.dropout", ["high must be > low", "low=0.5 high=0.5"],
    ),
    "log range with low zero": (
        edit(BASE, "nuisance/lr", {"low": 0, "high": 1.0, "scale": "log"}),
        "nuisance.lr.low", ["must be > 0 on a log scale", "got 0"],
    ),
    "log range with negative low": (
        edit(BASE, "nuisance/lr", {"low": -1e-3, "high": 1.0, "scale": "log"}),
        "nuisance.lr.low", ["log scale", "-0.001"],
    ),
    "int range with fractional low": (
        edit(BASE, "nuisance/width", {"low": 0.5, "high": 4, "type": "int"}),
        "nuisance.width", ["whole bounds", "low=0.5 high=4"],
    ),
    "int range with fractional high": (
        edit(BASE, "nuisance/width", {"low": 1, "high": 7.25, "type": "int"}),
        "nuisance.width", ["whole bounds", "high=7.25"],
    ),
    "unknown range key": (
        edit(BASE, "nuisance/lr", {"low": 1e-4, "high": 1.0, "step": 2}),
        "nuisance.lr.step", ["unknown range field", "low, high, scale, type"],
    ),
    "non-numeric low": (
        edit(BASE, "nuisance/lr", {"low": "small", "high": 1.0}),
        "nuisance.lr.low", ["finite number", "'small'"],
    ),
    "infinite high": (
        edit(BASE, "nuisance/lr", {"low": 0.0, "high": float("inf")}),
        "nuisance.lr.high", ["finite number", "inf"],
    ),
    "bool as a bound": (
        edit(BASE, "nuisance/lr", {"low": False, "high": 1.0}),
        "nuisance.lr.low", ["finite number", "False"],
    ),
    "int too large for a float": (
        edit(BASE, "nuisance/lr", {"low": 0, "high": 10**400}),
        "nuisance.lr.high", ["finite number", "1000000000"],
    ),
    "missing high": (
        edit(BASE, "nuisance/lr", {"low": 0.1}),
        "nuisance.lr.high", ["needs 'high'"],
    ),
    "bad scale": (
        edit(BASE, "nuisance/lr", {"low": 0.1, "high": 1.0, "scale": "log10"}),
        "nuisance.lr.scale", ["linear or log", "'log10'"],
    ),
    "bad type": (
        edit(BASE, "nuisance/lr", {"low": 1, "high": 8, "type": "integer"}),
        "nuisance.lr.type", ["float or int", "'integer'"],
    ),
    "scalar under nuisance": (
        edit(BASE, "nuisance/dropout", 0.1),
        "nuisance.dropout", ["belongs under fixed", "0.1"],
    ),
    "scalar under scientific": (
        edit(BASE, "scientific/num_layers", 3),
        "scientific.num_layers", ["belongs under fixed", "got 3"],
    ),
    "range under fixed": (
        edit(BASE, "fixed/batch_size", {"low": 32, "high": 256}),
        "fixed.batch_size", ["not a range", "'low': 32", "'high': 256"],
    ),
    "empty list": (
        edit(BASE, "nuisance/activation", []),
        "nuisance.activation", ["must not be empty"],
    ),
    "duplicate list values": (
        edit(BASE, "nuisance/activation", ["relu", "gelu", "relu"]),
        "nuisance.activation", ["distinct", "relu more than once"],
    ),
    "mapping inside a list": (
        edit(BASE, "nuisance/activation", ["relu", {"name": "gelu"}]),
        "nuisance.activation", ["list values must be", "{'name': 'gelu'}"],
    ),
    "branch parent unknown": (
        edit(BASE, "nuisance/opt=adam", {"beta2": {"low": 0.9, "high": 0.999}}),
        "nuisance.opt=adam", ["branch parent 'opt'", "not a hyperparameter defined at this level"],
    ),
    "branch parent is a range": (
        edit(BASE, "nuisance/lr=0.1", {"warmup": [0, 100]}),
        "nuisance.lr=0.1", ["branch parent 'lr'", "scientific or nuisance list of values"],
    ),
    "branch parent is fixed": (
        edit(BASE, "nuisance/batch_size=128", {"warmup": [0, 100]}),
        "nuisance.batch_size=128", ["branch parent 'batch_size'", "list of values"],
    ),
    "branch value not among the parent's values": (
        edit(BASE, "nuisance/optimizer=rmsprop", {"rho": {"low": 0.8, "high": 0.99}}),
        "nuisance.optimizer=rmsprop", ["'rmsprop' is not one of optimizer's values (adam, sgd)"],
    ),
    "branch is not a mapping": (
        edit(BASE, "nuisance/optimizer=sgd", [0.9, 0.99]),
        "nuisance.optimizer=sgd", ["a branch holds a mapping", "[0.9, 0.99]"],
    ),
    "scientific depends on nuisance": (
        edit(BASE, "scientific/optimizer=adam", {"amsgrad": [True, False]}),
        "scientific.optimizer=adam", ["scientific hyperparameter cannot depend on a nuisance"],
    ),
    "same name at top level and in a branch": (
        edit(BASE, "nuisance/beta1", {"low": 0.5, "high": 0.9}),
        "nuisance.beta1[optimizer=adam]", ["'beta1' is also defined as beta1", "could receive both"],
    ),
    "same name in two sections": (
        edit(BASE, "scientific/lr", [0.1, 0.01]),
        "nuisance.lr", ["'lr' is already defined at scientific.lr"],
    ),
    "same name in a branch and a branch of that branch": (
        edit(NESTED, "nuisance/optimizer=adam/schedule=cos/schedule", ["step", "exp"]),
        "nuisance.schedule[optimizer=adam,schedule=cos]", ["also defined as schedule[optimizer=adam]"],
    ),
    "name with a dash": (
        edit(BASE, "nuisance/learning-rate", [0.1, 0.01]),
        "nuisance.learning-rate", ["must be a Python identifier"],
    ),
    "name starting with a digit": (
        edit(BASE, "fixed/2nd_stage", 3),
        "fixed.2nd_stage", ["must be a Python identifier"],
    ),
    "name with a trailing newline": (
        edit(BASE, "nuisance/lr\n", [0.1, 0.01]),
        "nuisance.lr\n", ["must be a Python identifier"],
    ),
    "name that is not text": (
        edit(BASE, "nuisance/7", [0.1, 0.01]),
        "nuisance.7", ["must be a Python identifier"],
    ),
    "section that is not a mapping": (
        spec(nuisance=["lr", "dropout"]),
        "nuisance", ["must be a mapping of hyperparameters", "['lr', 'dropout']"],
    ),
    "Range object under fixed": (
        edit(BASE, "fixed/batch_size", Range(32, 256)),
        "fixed.batch_size", ["Range does not fit under fixed"],
    ),
    "Fixed object under nuisance": (
        edit(BASE, "nuisance/dropout", Fixed(0.1)),
        "nuisance.dropout", ["Fixed does not fit under nuisance"],
    ),
    "Range object with high below low": (
        edit(BASE, "nuisance/lr", Range(1.0, 1e-4, "log")),
        "nuisance.lr", ["high must be > low", "low=1 high=0.0001"],
    ),
}


@pytest.mark.parametrize("data, path, fragments", BAD_SECTIONS.values(), ids=list(BAD_SECTIONS))
def test_bad_section_names_field_and_value(data, path, fragments):
    problems = problems_of(data)
    message = message_for(problems, path)
    for fragment in fragments:
        assert fragment in message
    assert len(problems) == 1, problems  # one mistake, one problem: no follow-on noise


def test_rendered_error_has_the_playbook_example_line():
    data = edit(BASE, "nuisance/optimizer=adam/beta1", {"low": 0.99, "high": 0.9})
    with pytest.raises(ValueError) as info:  # SpecError is also a ValueError
        Experiment.from_dict(data, source="spec.yaml")
    assert str(info.value) == (
        "invalid experiment spec spec.yaml: "
        "nuisance.optimizer=adam.beta1: high must be > low, got low=0.99 high=0.9"
    )


def test_range_with_several_mistakes_reports_each_field():
    problems = problems_of(edit(BASE, "nuisance/lr", {"low": "x", "scale": "exp", "type": "str", "by": 2}))
    assert {p for p, _ in problems} == {
        "nuisance.lr.low", "nuisance.lr.high", "nuisance.lr.scale", "nuisance.lr.type", "nuisance.lr.by",
    }


# --- value forms -----------------------------------------------------------


def test_value_forms_become_domains():
    e = Experiment.from_dict(spec(
        scientific={"num_layers": [1, 2, 3]},
        nuisance={
            "lr": {"low": 1e-4, "high": 1.0, "scale": "log"},
            "width": {"low": 16, "high": 512, "scale": "log", "type": "int"},
            "dropout": {"low": 0.0, "high": 0.5},
            "activation": ["relu", "gelu"],
        },
        fixed={"batch_size": 128, "betas": [0.9, 0.999], "name_tag": "x", "clip": None},
    ))
    s = e.space
    assert s["num_layers"].domain == Choice((1, 2, 3))
    assert s["lr"].domain == Range(1e-4, 1.0, "log", "float")
    assert s["width"].domain == Range(16, 512, "log", "int")
    assert isinstance(s["width"].domain.low, int) and isinstance(s["width"].domain.high, int)
    assert s["dropout"].domain == Range(0.0, 0.5, "linear", "float")
    assert s["activation"].domain == Choice(("relu", "gelu"))
    # under fixed, a list is one value taken whole, and null is a value
    assert s["betas"].domain == Fixed([0.9, 0.999])
    assert s["name_tag"].domain == Fixed("x")
    assert s["clip"].domain == Fixed(None)
    assert [hp.role for hp in s] == ["scientific"] + ["nuisance"] * 4 + ["fixed"] * 4


def test_int_range_with_whole_float_bounds_gives_ints():
    e = Experiment.from_dict(edit(BASE, "nuisance/width", {"low": 8.0, "high": 64.0, "type": "int"}))
    domain = e.space["width"].domain
    assert (domain.low, domain.high) == (8, 64)
    assert type(domain.low) is int and type(domain.high) is int


def test_single_value_list_is_allowed_and_not_varied():
    e = Experiment.from_dict(edit(BASE, "nuisance/activation", ["relu"]))
    assert e.space["activation"].domain == Choice(("relu",))
    assert not e.space["activation"].is_varied


def test_bool_and_int_values_are_different_values():
    # 1 == True in Python; in a spec they are different values, so [0, 1, true]
    # is three values, each reachable and each a branch of its own.
    e = Experiment.from_dict(spec(nuisance={
        "flag": [0, 1, True],
        "flag=1": {"a": [1, 2]},
        "flag=true": {"b": [1, 2]},
    }))
    domain = e.space["flag"].domain
    assert len(domain.values) == 3
    assert [type(v) for v in domain.values] == [int, int, bool]
    picked = [domain.from_unit(u) for u in (0.1, 0.5, 0.9)]
    assert [type(v) for v in picked] == [int, int, bool]
    assert domain.contains(True) and domain.contains(1)
    assert not Choice((0, 1)).contains(True)
    assert e.space["a[flag=1]"].is_active({"flag": 1})
    assert not e.space["a[flag=1]"].is_active({"flag": True})
    assert e.space["b[flag=true]"].is_active({"flag": True})
    assert not e.space["b[flag=true]"].is_active({"flag": 1})


def test_text_and_bool_with_the_same_spelling_are_duplicates():
    # "true" and true would be the same branch key, so the list is ambiguous.
    message = message_for(problems_of(edit(BASE, "nuisance/flag", ["true", True])), "nuisance.flag")
    assert "true more than once" in message


# --- branches and ids --------------------------------------------------------


def test_branch_ids_and_plain_names():
    e = Experiment.from_dict(NESTED)
    ids = [hp.id for hp in e.space]
    assert ids == [
        "num_layers", "lr", "optimizer", "batch_size",
        "schedule[optimizer=adam]", "momentum[optimizer=sgd]", "eps[optimizer=adam]",
        "warmup[optimizer=adam,schedule=cos]", "final_lr[optimizer=adam,schedule=lin]",
    ]
    warmup = e.space["warmup[optimizer=adam,schedule=cos]"]
    assert warmup.name == "warmup"
    assert warmup.role == "nuisance"
    assert warmup.domain == Range(0, 1000, "linear", "int")
    assert warmup.condition == (("optimizer", "adam"), ("schedule[optimizer=adam]", "cos"))
    assert e.space["final_lr[optimizer=adam,schedule=lin]"].role == "fixed"
    assert warmup.is_active({"optimizer": "adam", "schedule[optimizer=adam]": "cos"})
    assert not warmup.is_active({"optimizer": "adam", "schedule[optimizer=adam]": "lin"})
    assert not warmup.is_active({"optimizer": "sgd"})


def test_same_name_in_exclusive_branches_is_two_hyperparameters():
    e = Experiment.from_dict(spec(nuisance={
        "optimizer": ["adam", "sgd"],
        "optimizer=adam": {"lr": {"low": 1e-5, "high": 1e-2, "scale": "log"}},
        "optimizer=sgd": {"lr": {"low": 1e-3, "high": 1.0, "scale": "log"}},
    }))
    adam, sgd = e.space["lr[optimizer=adam]"], e.space["lr[optimizer=sgd]"]
    assert adam.name == sgd.name == "lr"
    assert adam.domain.high == 1e-2 and sgd.domain.high == 1.0
    with pytest.raises(KeyError):
        e.space["lr"]


def test_same_name_in_branches_of_different_parents_clashes():
    # optimizer=adam and schedule=cos can hold together, so one trial could get both.
    problems = problems_of(spec(nuisance={
        "optimizer": ["adam", "sgd"],
        "schedule": ["cos", "lin"],
        "optimizer=adam": {"warmup": [0, 10]},
        "schedule=cos": {"warmup": [0, 100]},
    }))
    assert [p for p, _ in problems] == ["nuisance.warmup[schedule=cos]"]
    assert "warmup[optimizer=adam]" in problems[0][1]


def test_branch_under_another_role_than_its_parent():
    e = Experiment.from_dict(spec(
        scientific={"optimizer": ["adam", "sgd"]},
        nuisance={"optimizer=adam": {"beta1": {"low": 0.8, "high": 0.99}}},
        fixed={"optimizer=sgd": {"nesterov": True}},
    ))
    assert e.space["beta1[optimizer=adam]"].role == "nuisance"
    assert e.space["nesterov[optimizer=sgd]"].role == "fixed"
    assert e.space["nesterov[optimizer=sgd]"].domain == Fixed(True)


def test_branch_on_bool_int_and_spaced_keys():
    e = Experiment.from_dict(spec(
        scientific={"num_layers": [1, 2]},
        nuisance={
            "use_ema": [True, False],
            "use_ema=true": {"decay": {"low": 0.9, "high": 0.9999}},
            "num_layers = 2": {"skip": [True, False]},
        },
    ))
    assert e.space["decay[use_ema=true]"].condition == (("use_ema", True),)
    assert e.space["skip[num_layers=2]"].condition == (("num_layers", 2),)


def test_branch_parent_must_be_defined_at_the_same_level():
    # Inside optimizer=adam only the branch's own hyperparameters can be parents.
    problems = problems_of(edit(BASE, "nuisance/optimizer=adam/num_layers=2", {"x": [1, 2]}))
    message = message_for(problems, "nuisance.optimizer=adam.num_layers=2")
    assert "branch parent 'num_layers'" in message


def test_fixed_value_in_a_branch_is_a_caveat():
    e = Experiment.from_dict(NESTED)
    assert [hp.id for hp in e.caveats] == [
        "batch_size", "eps[optimizer=adam]", "final_lr[optimizer=adam,schedule=lin]",
    ]
    assert e.space["eps[optimizer=adam]"].domain == Fixed(1e-8)


def test_branch_that_contains_itself_ends_with_an_error():
    # A YAML alias can make a branch hold itself; parsing must stop, not loop.
    block: dict = {"x": [1, 2]}
    block["x=1"] = block
    problems = problems_of(spec(nuisance=block))
    assert any("branches nest more than" in m and "deep" in m for _, m in problems)
