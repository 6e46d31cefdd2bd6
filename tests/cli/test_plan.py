"""``tunebook plan``: specs written where asked, reasons printed, never an overwrite, bad input exits 1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.execution.harness import run_cli
from tests.plans.stored import falling, spec, store_experiment, trial
from tunebook.cli.main import main
from tunebook.core import Experiment

HERE = Path(__file__).resolve().parents[1] / "plans"


@pytest.fixture
def swept(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tunebook.db'}"
    params = {"learning_rate": 0.1, "max_train_steps": 2000, "schedule": "linear", "decay_steps": 500}
    store_experiment(url, spec("sweep", fixed=params), [trial(params, {"train/loss": falling(50)})],
                     source=tmp_path / "spec.yaml")
    return url


def test_adam_writes_a_spec_that_loads_and_prints_why(tmp_path: Path, capsys):
    out = tmp_path / "adam.yaml"
    assert main(["plan", "adam", "--trials", "12", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "tune learning_rate, beta1" in printed
    assert "[How should Adam's hyperparameters be tuned?]" in printed and f"next: tunebook run {out}" in printed
    assert Experiment.from_yaml(str(out)).search.trials == 12


def test_an_existing_file_is_kept_unless_forced(tmp_path: Path, capsys):
    out = tmp_path / "adam.yaml"
    out.write_text("my notes")
    assert main(["plan", "adam", "--trials", "3", "--out", str(out)]) == 1
    assert "already exists; pass --force" in capsys.readouterr().err and out.read_text() == "my notes"
    assert main(["plan", "adam", "--trials", "3", "--out", str(out), "--force"]) == 0


def test_instability_writes_both_specs_or_neither(swept: str, tmp_path: Path, capsys):
    main_out, early_out = tmp_path / "i.yaml", tmp_path / "e.yaml"
    early_out.write_text("keep")
    args = ["plan", "instability", "sweep", "--store", swept, "--out", str(main_out), "--early-out", str(early_out)]
    assert main(args) == 1 and not main_out.exists()
    assert main([*args, "--force"]) == 0
    assert Experiment.from_yaml(str(early_out)).caveats  # the 500-step check
    assert "2x, 5x, 10x lr*" in capsys.readouterr().out


def test_warmup_and_round2_from_a_trial_reference(swept: str, tmp_path: Path, capsys):
    assert main(["plan", "warmup", "--unstable-lr", "0.3", "--from", "sweep/0", "--store", swept,
                 "--out", str(tmp_path / "w.yaml")]) == 0
    # the next round runs into the store its source trial came from
    assert f"next: tunebook run {tmp_path / 'w.yaml'} --store {swept}" in capsys.readouterr().out
    assert Experiment.from_yaml(str(tmp_path / "w.yaml")).space["warmup_steps"].domain.values == (10, 100)
    assert main(["plan", "round2", "sweep", "--steps", "6000", "--store", swept, "--out", str(tmp_path / "r.yaml")]) == 0
    fixed = {hp.name: hp.domain.value for hp in Experiment.from_yaml(str(tmp_path / "r.yaml")).caveats}
    assert fixed["max_train_steps"] == 6000 and fixed["decay_steps"] == 500


def test_warmup_below_10x_plans_and_warns_quoting_the_playbook(swept: str, tmp_path: Path, capsys):
    out = tmp_path / "w.yaml"
    assert main(["plan", "warmup", "--unstable-lr", "0.3", "--from", "sweep", "--base-factor", "3", "--store", swept,
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: --base-factor 3 is below 10") and "\"at least one order of magnitude" in err
    assert Experiment.from_yaml(str(out)).space["learning_rate"].domain.value == pytest.approx(0.9)
    assert "# warning: --base-factor 3 is below 10" in out.read_text()


@pytest.mark.parametrize("args, message", [
    (["plan", "adam", "--trials", "0"], "trials: must be an integer >= 1 (trials per study), got 0"),
    (["plan", "warmup", "--unstable-lr", "0.3", "--from", "nope"], "no experiment named 'nope'"),
    (["plan", "warmup", "--unstable-lr", "0.3", "--from", "sweep", "--base-factor", "1"],
     "base-factor: base_learning_rate must be larger than the unstable one (a factor > 1; the playbook's default "
     "is 10x), got 1.0"),
    (["plan", "round2", "sweep/default/4", "--steps", "10"], "study 'default' has no trial 4"),
    (["plan", "round2", "sweep", "--steps", "10"], "cannot shrink"),
])
def test_bad_input_is_one_clear_line_and_exit_1(swept: str, tmp_path: Path, capsys, args, message):
    store = [] if args[1] == "adam" else ["--store", swept]
    assert main([*args, *store, "--out", str(tmp_path / "x.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "x.yaml").exists()


@pytest.mark.slow
def test_a_planned_lr_sweep_runs_with_tunebook_run_as_written(tmp_path: Path):
    shutil.copy(HERE / "toy_train.py", tmp_path / "toy_train.py")
    (tmp_path / "spec.yaml").write_text(
        "name: toy\nobjective: train/loss\nnuisance: {learning_rate: {low: 0.01, high: 1.0, scale: log}}\n"
        "fixed: {max_train_steps: 600, dropout: 0.3}\nsearch: {trials: 4}\nrun: {function: toy_train:train}\n")
    done = run_cli("plan", "lr-sweep", "spec.yaml", "--out", "plans/sweep.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = run_cli("run", "plans/sweep.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = run_cli("advise", "max-steps", "toy-lr-sweep", "--fit", "train/error<=0", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Initial max_train_steps: 3" in done.stdout and "stability issues" in done.stdout
