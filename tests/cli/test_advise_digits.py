"""``tunebook advise`` on real digits sweeps: mixed optimizers are refused, an Adam sweep is read.

The trials are real training runs of the digits example's MLP (``tests.plans.digits_sweep``), stored in a
SQLite file through the Store API.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plans.stored import spec, store_experiment
from tunebook.cli.main import main

pytest.importorskip("torch", reason="the digits example needs torch")
pytest.importorskip("sklearn", reason="the digits example needs scikit-learn")

from tests.plans.digits_sweep import train  # noqa: E402  (needs torch)

STEPS = 200


def _store(url: str, name: str, runs: list[dict], **sections) -> None:
    store_experiment(url, spec(name, objective="valid/error", **sections), runs)


def test_a_real_sweep_mixing_adam_and_sgd_is_refused_naming_what_varies(tmp_path: Path, capsys):
    url = f"sqlite:///{tmp_path / 'digits.db'}"
    points = [("adam", 0.001), ("adam", 0.02), ("sgd", 0.0003), ("sgd", 0.1)]
    runs = [train({"optimizer": opt, "learning_rate": lr, **({"beta1": 0.9} if opt == "adam" else {"momentum": 0.9})},
                  STEPS) for opt, lr in points]
    _store(url, "mixed", runs, nuisance={"learning_rate": {"low": 1e-4, "high": 1.0, "scale": "log"},
                                         "optimizer": ["adam", "sgd"], "optimizer=adam": {"beta1": [0.9]},
                                         "optimizer=sgd": {"momentum": [0.9]}},
           search={"algorithm": "quasi_random", "trials": 4})
    assert main(["advise", "instability", "mixed", "--store", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: not a learning-rate sweep: optimizer: varies (adam, sgd): mixed optimizer values")
    assert "tunebook plan instability mixed" in err and "Traceback" not in err
    assert main(["advise", "max-steps", "mixed", "--fit", "train/loss<=0.05", "--store", url]) == 1
    assert "advise max-steps reads a sweep of one configuration" in capsys.readouterr().err


def test_a_real_adam_sweep_takes_the_best_stable_trial_as_lr_star(tmp_path: Path, capsys):
    url = f"sqlite:///{tmp_path / 'digits.db'}"
    rates = [0.0003, 0.003, 0.03, 0.3]
    runs = [train({"optimizer": "adam", "beta1": 0.9, "learning_rate": lr}, STEPS) for lr in rates]
    for run, lr in zip(runs, rates):
        run["study"] = f"learning_rate={lr}"
    _store(url, "adam", runs, scientific={"learning_rate": rates}, fixed={"optimizer": "adam", "beta1": 0.9})
    assert main(["advise", "instability", "adam", "--store", url, "--format", "json"]) == 0
    advice = json.loads(capsys.readouterr().out)
    complete = {lr: min(v for _, v in run["curves"]["valid/error"]) for lr, run in zip(rates, runs)
                if run["state"] == "complete"}
    assert runs[-1]["state"] == "infeasible"  # Adam at 0.3 blows up within a few steps
    stable = {row["learning_rate"] for row in advice["numbers"]["trials"] if not row["unstable"]}
    best = min((complete[lr], lr) for lr in stable)[1]
    assert advice["numbers"]["reference"]["learning_rate"] == best != min(rates)
    assert advice["numbers"]["unstable_lr"] == 0.3
    assert advice["next_command"].startswith(f"tunebook plan warmup --unstable-lr 0.3 --from adam/learning_rate={best}/0")
