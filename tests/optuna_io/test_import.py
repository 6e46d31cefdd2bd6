"""``tunebook import optuna``: real Optuna studies (run with Optuna's own optimize loop) into a real SQLite store."""

from __future__ import annotations

import json
import math
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.optuna_io.helpers import tunebook, write_experiment
from tunebook.analysis.data import load
from tunebook.core.domains import Choice, Range
from tunebook.storage import open_store

optuna = pytest.importorskip("optuna")
optuna.logging.set_verbosity(optuna.logging.ERROR)


def loss_at(lr: float, width: int, step: int) -> float:
    """A planted objective: best at lr = 1e-2, improving over steps, a little better when wider."""
    return (math.log10(lr) + 2) ** 2 + 1 / (1 + step) + 1 / width


def objective(trial: "optuna.Trial") -> float:
    """Define-by-run, as Optuna users write it: a conditional param, pruning, crashes and divergences."""
    optimizer = trial.suggest_categorical("optimizer", ["adam", "sgd"])
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    if trial.number == 8:
        raise RuntimeError("crashed while building the model")  # before sampling width
    width = trial.suggest_int("width", 16, 256, log=True)
    if optimizer == "sgd":
        trial.suggest_float("momentum", 0.5, 0.99)
    if trial.number == 3:
        raise RuntimeError("CUDA out of memory")  # a crash: FAIL
    for step in range(5):
        value = math.nan if trial.number == 5 and step >= 2 else loss_at(lr, width, step)
        trial.report(value, step)
        if trial.number == 5 and step == 3:
            return math.nan  # diverged: FAIL, with the NaN among its intermediate values
        if trial.number in (6, 7) and step == 1:
            raise optuna.TrialPruned()
    return loss_at(lr, width, 10)  # the final value, not one of the intermediate ones


def optuna_study(storage: str, name: str = "sweep", n_trials: int = 12, **attrs: object) -> None:
    study = optuna.create_study(study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    study.optimize(objective, n_trials=n_trials, catch=(RuntimeError,))


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One Optuna storage for the module (Optuna writes trials slowly): study ``sweep`` (12 trials and one still
    running), ``model-1`` and ``model-2`` (3 trials each, user attributes model and dataset), multi-objective
    ``pareto``, ``clash`` (lr a choice), ``stepped`` (a float with a step). Tests only read it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('optuna') / 'optuna.db'}"
    optuna_study(url)
    optuna.load_study(study_name="sweep", storage=url).ask()  # still running
    for width in (1, 2):
        optuna_study(url, f"model-{width}", n_trials=3, model=f"m{width}", dataset="cifar")
    multi = optuna.create_study(study_name="pareto", storage=url, directions=["minimize", "maximize"])
    multi.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=2)
    clash = optuna.create_study(study_name="clash", storage=url)  # lr a choice here, a log range in sweep
    clash.optimize(lambda t: t.suggest_categorical("lr", [0.1, 0.01]), n_trials=1)
    stepped = optuna.create_study(study_name="stepped", storage=url, direction="maximize")
    stepped.optimize(lambda t: t.suggest_float("dropout", 0.0, 0.5, step=0.1), n_trials=2)
    return url


def test_an_optuna_study_becomes_an_experiment(storage: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "tb.db")
    study = optuna.load_study(study_name="sweep", storage=storage)
    assert tunebook("import", "optuna", "--storage", storage, "--study", "sweep", "--store", store) == 0
    out = capsys.readouterr().out
    assert "imported 12 Optuna trials into experiment sweep" in out
    assert "left out 1 trials:\n  study 'sweep' trial 12: running, not finished" in out
    data = load("sweep", store)
    space = data.experiment.space
    assert space["lr"].domain == Range(1e-4, 1.0, "log", "float")
    assert space["width"].domain == Range(16, 256, "log", "int")
    assert space["optimizer"].domain == Choice(("adam", "sgd"))
    assert space["momentum[optimizer=sgd]"].domain == Range(0.5, 0.99)  # conditional, its parent inferred
    assert (data.experiment.objective.metric, data.experiment.objective.mode) == ("objective", "min")
    trials = data.trials.set_index("number")
    assert trials.loc[3, "state"] == "failed" and "no reason" in trials.loc[3, "reason"]
    assert trials.loc[8, "state"] == "failed"  # a crash before it sampled width: kept, with what it sampled
    assert trials.loc[8, "reason"].startswith("crashed before sampling width")
    assert math.isnan(trials.loc[8, "width"]) and trials.loc[8, "lr"] == study.trials[8].params["lr"]
    assert trials.loc[5, "state"] == "infeasible" and trials.loc[5, "reason"] == "objective is nan at step 2 " \
                                                                                 "(Optuna FAIL)"
    for number in (6, 7):  # pruned: complete, judged by what they reached, and said so
        assert trials.loc[number, "state"] == "complete"
        assert trials.loc[number, "reason"] == "pruned by Optuna at step 1"
    for trial in study.trials:
        if trial.state == optuna.trial.TrialState.COMPLETE:
            row = trials.loc[trial.number]
            assert row["objective"] == trial.value and row["best_step"] == 5  # the value, one step after 0..4
            curve = data.curves[(data.curves["trial_id"] == row["trial_id"])]
            assert curve["value"].tolist() == [trial.intermediate_values[s] for s in range(5)] + [trial.value]
            assert row["lr"] == trial.params["lr"] and row["width"] == trial.params["width"]


@pytest.mark.slow
def test_the_report_runs_on_an_imported_study(storage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "tb.db")
    assert tunebook("import", "optuna", "--storage", storage, "--study", "sweep", "--store", store) == 0
    capsys.readouterr()
    assert tunebook("report", "sweep", "--format", "json", "--store", store) == 0
    report = json.loads(capsys.readouterr().out)
    (best,) = report["best"]
    study = optuna.load_study(study_name="sweep", storage=storage)
    assert best["trial"] == f"default/{study.best_trial.number}"  # the same trial Optuna calls best
    assert best["objective"] == pytest.approx(study.best_value, rel=1e-9)


@pytest.mark.parametrize("layout", ["per_scientific_value", "joint"])
def test_export_then_import_gives_the_same_trials_params_and_curves(layout: str, tmp_path: Path) -> None:
    store, storage = f"sqlite:///{tmp_path / 'tb.db'}", f"sqlite:///{tmp_path / 'optuna.db'}"
    write_experiment(store, layout=layout, per_study=5 if layout == "per_scientific_value" else 10)
    assert tunebook("export", "optuna", "depth", "--storage", storage, "--store", store) == 0
    studies = ["depth/num_layers=2", "depth/num_layers=4"] if layout == "per_scientific_value" else ["depth/joint"]
    assert tunebook("import", "optuna", "--storage", storage, *[f"--study={s}" for s in studies], "--name", "back",
                    "--store", store) == 0
    original, back = load("depth", store), load("back", store)
    assert back.experiment.space == original.experiment.space  # domains, log flags, branches and roles
    assert back.experiment.objective == original.experiment.objective
    assert back.experiment.search.studies == layout
    columns = ["study", "number", "state", "objective", "best_step", "reason", *original.param_ids()]
    assert set(original.trials["state"]) == {"complete", "infeasible", "failed"}
    ours = original.trials[columns].sort_values(["study", "number"]).reset_index(drop=True)
    theirs = back.trials[columns].sort_values(["study", "number"]).reset_index(drop=True)
    assert ours.equals(theirs)
    key = ["study", "number", "step", "value"]
    curves = [data.curves[data.curves["metric"] == "valid_loss"].merge(data.trials[["trial_id", "study", "number"]])
              [key].sort_values(key[:3]).reset_index(drop=True) for data in (original, back)]
    assert curves[0].equals(curves[1])  # NaN of the infeasible trials included (equals treats NaN alike)
    assert curves[0]["value"].isna().any()


def test_study_user_attributes_can_be_the_scientific_value(storage: str, tmp_path: Path) -> None:
    store = str(tmp_path / "tb.db")
    assert tunebook("import", "optuna", "--storage", storage, "--study", "model-1", "--study", "model-2",
                    "--name", "models", "--scientific", "model", "--fixed", "dataset", "--store", store) == 0
    data = load("models", store)
    assert sorted(set(data.trials["study"])) == ["model=m1", "model=m2"]
    assert data.experiment.space["dataset"].role == "fixed"
    assert set(data.trials["dataset"]) == {"cifar"}


def test_what_does_not_carry_over_is_said(storage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "tb.db")
    assert tunebook("import", "optuna", "--storage", storage, "--study", "stepped", "--store", store) == 0
    out = capsys.readouterr().out
    assert "imported 2 Optuna trials into experiment stepped (objective objective:max, final value" in out
    assert "not carried over:\n  param dropout: its step 0.1 is not kept: tunebook ranges are continuous" in out
    assert load("stepped", store).experiment.space["dropout"].domain == Range(0.0, 0.5)


def test_refusals_name_the_study_and_field_and_write_nothing(storage: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "tb.db"
    cases = [
        (["--study", "pareto"], "study 'pareto': has 2 objectives (minimize, maximize)"),
        (["--study", "nope"], "--study 'nope': no such study in the storage "
                              "(studies: 'sweep', 'model-1', 'model-2', 'pareto', 'clash', 'stepped')"),
        (["--study", "sweep", "--study", "clash", "--name", "both"],
         "study 'clash' trial 0, param lr: its distribution CategoricalDistribution(choices=(0.1, 0.01)) differs in "
         "kind from other trials' FloatDistribution"),
        (["--study", "sweep", "--scientific", "depth"], "--scientific: 'depth' is neither a param"),
        (["--study", "sweep", "--fixed", "lr"], "--fixed: lr takes 9 values"),
        (["--study", "sweep", "--objective", "loss:max"], "--objective says max, but the studies minimize"),
    ]
    for args, message in cases:
        assert tunebook("import", "optuna", "--storage", storage, *args, "--store", str(store)) == 1, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    assert tunebook("import", "optuna", "--storage", str(tmp_path / "none.db"), "--study", "x",
                    "--store", str(store)) == 1
    assert "no Optuna SQLite file" in capsys.readouterr().err
    other = tmp_path / "other.db"  # a SQLite file that is not an Optuna storage: refused, not given Optuna's tables
    sqlite3.connect(other).execute("create table notes (text)").connection.commit()
    assert tunebook("import", "optuna", "--storage", str(other), "--study", "x", "--store", str(store)) == 1
    assert "cannot open the Optuna storage" in capsys.readouterr().err
    assert sqlite3.connect(other).execute("select name from sqlite_master").fetchall() == [("notes",)]
    assert not store.exists() and not (tmp_path / "none.db").exists()


def test_a_name_already_taken_leaves_the_store_as_it_was(storage: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "tb.db")
    assert tunebook("import", "optuna", "--storage", storage, "--study", "model-1", "--store", store) == 0
    with open_store(store) as opened:
        before = len(opened.list_trials(experiment_id=opened.get_experiment("model-1").id))
    assert tunebook("import", "optuna", "--storage", storage, "--study", "model-1", "--store", store) == 1
    assert "experiment 'model-1' already exists" in capsys.readouterr().err
    with open_store(store) as opened:
        assert len(opened.list_trials(experiment_id=opened.get_experiment("model-1").id)) == before == 3
        assert [e.name for e in opened.list_experiments()] == ["model-1"]


def test_without_optuna_both_commands_name_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:///{tmp_path / 'tb.db'}"
    write_experiment(store, per_study=1)
    monkeypatch.setitem(sys.modules, "optuna", None)
    assert tunebook("export", "optuna", "depth", "--storage", str(tmp_path / "o.db"), "--store", store) == 1
    assert "pip install 'tunebook[optuna]'" in capsys.readouterr().err
    assert tunebook("import", "optuna", "--storage", "sqlite://", "--study", "s", "--store", store) == 1
    err = capsys.readouterr().err
    assert "pip install 'tunebook[optuna]'" in err and "Traceback" not in err
    assert not (tmp_path / "o.db").exists()
