"""``tunebook advise``: text and JSON advice on stored trials; bad references exit 1 naming what exists."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.plans.stored import collapsing, falling, spec, spiking, store_experiment, trial
from tunebook.cli.main import main


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tunebook.db'}"
    norms = [(s, float(v)) for s, v in enumerate(np.linspace(1.0, 10.0, 100))]
    rows = [trial({"learning_rate": lr, "max_train_steps": 300}, {"train/loss": curve, "grad_norm": norms},
                  study=f"learning_rate={lr}")
            for lr, curve in ((0.2, falling(300, noise=0.01)), (0.5, spiking(300, at=150)))]
    store_experiment(url, spec("check", scientific={"learning_rate": [0.2, 0.5]}), rows)
    return url


def test_instability_names_the_unstable_rate_and_the_next_command(url: str, capsys):
    assert main(["advise", "instability", "check", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "learning_rate 0.2 (check/learning_rate=0.2/0): stable" in out
    assert "learning_rate 0.5 (check/learning_rate=0.5/0): unstable" in out
    # lr* is the best stable trial, and the warmup plan starts from it
    assert "Reference: lr* = 0.2 is check/learning_rate=0.2/0 (the best stable trial here by train/loss" in out
    assert "next: tunebook plan warmup --unstable-lr 0.5 --from check/learning_rate=0.2/0 --max-steps 300" in out


def test_instability_names_a_rate_that_stalled_far_above_lr_stars_loss(tmp_path: Path, capsys):
    url = f"sqlite:///{tmp_path / 'stall.db'}"
    store_experiment(url, spec("sweep", fixed={"learning_rate": 0.1}),
                     [trial({"learning_rate": 0.1}, {"train/loss": falling(300, start=4.2, rate=0.004)})])
    rows = [trial({"learning_rate": lr}, {"train/loss": curve}, study=f"learning_rate={lr}")
            for lr, curve in ((0.2, falling(300, start=4.2, rate=0.0035, noise=0.01)), (0.5, collapsing(300)))]
    notes = "planned by tunebook plan instability: base=sweep/default/0 lr_star=0.1 max_train_steps=300"
    store_experiment(url, spec("stall", scientific={"learning_rate": [0.2, 0.5]}, notes=notes), rows)
    assert main(["advise", "instability", "stall", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "Reference: lr* = 0.1 is sweep/default/0 (the trial the plan was made from)" in out
    assert "learning_rate 0.2 (stall/learning_rate=0.2/0): stable" in out
    assert "learning_rate 0.5 (stall/learning_rate=0.5/0): unstable — training stalled at a loss far above lr*'s" in out
    assert "next: tunebook plan warmup --unstable-lr 0.5 --from sweep/default/0 --max-steps 300" in out


def test_clipping_as_json(url: str, capsys):
    assert main(["advise", "clipping", "check/learning_rate=0.2/0", "--threshold", "3", "--store", url,
                 "--format", "json"]) == 0
    advice = json.loads(capsys.readouterr().out)
    assert advice["topic"] == "clipping" and advice["numbers"]["p90"] == pytest.approx(9.1)
    assert advice["numbers"]["share_clipped"] > 0.5 and "extremely aggressive" in advice["warnings"][0]


def test_max_steps_needs_a_well_formed_fit(url: str, capsys):
    assert main(["advise", "max-steps", "check", "--fit", "train/loss<=0.2", "--store", url]) == 0
    assert "Initial max_train_steps" in capsys.readouterr().out
    assert main(["advise", "max-steps", "check", "--fit", "loss=1", "--store", url]) == 1
    assert "--fit: must be METRIC<=VALUE" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["advise", "clipping", "check/0"], "has 2 studies, so name one"),
    (["advise", "warmup", "check"], "no warmup_steps hyperparameter"),
    (["advise", "instability", "gone"], "no experiment named 'gone' in the store; experiments: check"),
])
def test_bad_input_exits_1_without_a_traceback(url: str, capsys, args, message):
    assert main([*args, "--store", url]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["advise", "instability", "check"],
                                  ["advise", "max-steps", "check", "--fit", "train/loss<=0.2"]])
def test_json_names_trials_as_tunebook_trials_does_never_by_store_id(url: str, capsys, args):
    assert main([*args, "--store", url, "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert "trial_id" not in out and '"number"' not in out
    trials = [row["trial"] for row in json.loads(out)["numbers"]["trials"]]
    assert trials == ["check/learning_rate=0.2/0", "check/learning_rate=0.5/0"]
