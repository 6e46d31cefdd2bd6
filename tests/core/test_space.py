"""Hyperparameter ids, branch activity, and resolving a space for one study."""

from __future__ import annotations

from datetime import datetime

import pytest

from tunebook.core import Choice, Fixed, Hyperparameter, Range, SearchSpace, Trial, TrialState, plain_name
from tunebook.core.space import exclusive, format_value

OPT = Hyperparameter("optimizer", "nuisance", Choice(("adam", "sgd")))
SCHED = Hyperparameter("schedule", "nuisance", Choice(("cos", "lin")), (("optimizer", "adam"),))
WARMUP = Hyperparameter(
    "warmup", "nuisance", Range(0, 100, type="int"),
    (("optimizer", "adam"), ("schedule[optimizer=adam]", "cos")),
)
LR_ADAM = Hyperparameter("lr", "nuisance", Range(1e-5, 1e-2, "log"), (("optimizer", "adam"),))
LR_SGD = Hyperparameter("lr", "nuisance", Range(1e-3, 1.0, "log"), (("optimizer", "sgd"),))
BS = Hyperparameter("batch_size", "fixed", Fixed(128))
LAYERS = Hyperparameter("num_layers", "scientific", Choice((1, 2)))
SPACE = SearchSpace((LAYERS, OPT, BS, SCHED, LR_ADAM, LR_SGD, WARMUP))


def test_ids():
    assert OPT.id == "optimizer"
    assert LR_ADAM.id == "lr[optimizer=adam]"
    assert WARMUP.id == "warmup[optimizer=adam,schedule=cos]"  # parents by plain name
    flag = Hyperparameter("decay", "nuisance", Range(0.9, 0.99), (("use_ema", True),))
    assert flag.id == "decay[use_ema=true]"


@pytest.mark.parametrize("value, text", [(True, "true"), (False, "false"), (2, "2"), (0.5, "0.5"), ("adam", "adam")])
def test_format_value(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize("param_id, name", [
    ("learning_rate", "learning_rate"),
    ("learning_rate[optimizer=adam]", "learning_rate"),
    ("warmup[optimizer=adam,schedule=cos]", "warmup"),
])
def test_plain_name(param_id, name):
    assert plain_name(param_id) == name


def test_trial_receives_plain_names():
    now = datetime(2024, 1, 1)
    trial = Trial(
        id=1, study_id=1, number=0,
        params={"optimizer": "adam", "lr[optimizer=adam]": 1e-3, "warmup[optimizer=adam,schedule=cos]": 10},
        state=TrialState.WAITING,
        attempt=0, worker=None, created_at=now, started_at=None, finished_at=None,
        heartbeat_at=None, objective=None, best_step=None, reason=None,
    )
    assert trial.plain_params == {"optimizer": "adam", "lr": 1e-3, "warmup": 10}


def test_is_active_follows_every_parent():
    assert OPT.is_active({})
    assert LR_ADAM.is_active({"optimizer": "adam"})
    assert not LR_ADAM.is_active({"optimizer": "sgd"})
    assert not LR_ADAM.is_active({})
    assert WARMUP.is_active({"optimizer": "adam", "schedule[optimizer=adam]": "cos"})
    assert not WARMUP.is_active({"optimizer": "adam", "schedule[optimizer=adam]": "lin"})
    assert not WARMUP.is_active({"optimizer": "sgd", "schedule[optimizer=adam]": "cos"})


def test_exclusive():
    assert exclusive(LR_ADAM.condition, LR_SGD.condition)
    assert exclusive(WARMUP.condition, LR_SGD.condition)
    assert not exclusive(LR_ADAM.condition, WARMUP.condition)
    assert not exclusive((), LR_ADAM.condition)
    assert not exclusive((("optimizer", "adam"),), (("schedule", "cos"),))
    assert exclusive((("flag", 1),), (("flag", True),))  # 1 and true are different values


def test_lookup_roles_and_varied():
    assert SPACE["lr[optimizer=sgd]"] is LR_SGD
    with pytest.raises(KeyError):
        SPACE["lr"]
    assert len(SPACE) == 7 and list(SPACE) == list(SPACE.params)
    assert SPACE.with_role("fixed") == (BS,)
    assert SPACE.with_role("scientific") == (LAYERS,)
    assert BS not in SPACE.varied and LAYERS in SPACE.varied


def test_resolve_fixes_values_and_drops_ruled_out_branches():
    resolved = SPACE.resolve({"optimizer": "adam", "num_layers": 2})
    ids = [hp.id for hp in resolved]
    assert ids == ["num_layers", "optimizer", "batch_size", "schedule[optimizer=adam]",
                   "lr[optimizer=adam]", "warmup[optimizer=adam,schedule=cos]"]
    assert resolved["optimizer"].domain == Fixed("adam")
    assert resolved["optimizer"].role == "nuisance"  # the role is kept
    assert resolved["num_layers"].domain == Fixed(2) and resolved["num_layers"].role == "scientific"
    assert resolved["lr[optimizer=adam]"] == LR_ADAM
    sgd = SPACE.resolve({"optimizer": "sgd"})
    assert "lr[optimizer=sgd]" in [hp.id for hp in sgd]
    assert not any("adam" in hp.id for hp in sgd)


def test_active_for_a_trial():
    active = SPACE.active({"optimizer": "adam", "schedule[optimizer=adam]": "lin"})
    assert [hp.id for hp in active] == [
        "num_layers", "optimizer", "batch_size", "schedule[optimizer=adam]", "lr[optimizer=adam]",
    ]
