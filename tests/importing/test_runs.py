"""``tunebook import runs``: folders of JSON params and CSV curves into a real SQLite store."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tunebook.analysis import load
from tunebook.analysis.checklist import run_checklist
from tunebook.core.domains import Choice, Fixed, Range
from tunebook.storage import open_store
from tests.importing.helpers import STEPS, planted_sweep, tunebook, write_run

RUNS_ARGS = ("--params", "hparams.json", "--metrics", "eval.csv", "--step", "global_step")


def import_runs(root: Path, store: Path, *extra: str, name: str = "old-sweep") -> int:
    return tunebook("import", "runs", str(root), *RUNS_ARGS, "--name", name, "--objective", "eval_loss:min",
                    "--store", str(store), *extra)


def test_checklist_finds_the_boundary_on_imported_history(tmp_path: Path) -> None:
    planted_sweep(tmp_path / "sweep")
    store = tmp_path / "tb.db"
    assert import_runs(tmp_path / "sweep", store) == 0

    data = load("old-sweep", str(store))
    assert len(data.trials) == 12 and set(data.trials["state"]) == {"complete"}
    findings = run_checklist(data, only=["search_space_boundary"])
    boundary = [f for f in findings if f.id == "search_space_boundary" and "learning_rate" in f.message]
    assert boundary, [f.message for f in findings]
    assert "high" in boundary[0].message or "upper" in boundary[0].message or "expand" in boundary[0].message.lower()


def test_inferred_roles_domains_and_objective(tmp_path: Path) -> None:
    written = planted_sweep(tmp_path / "sweep")
    store = tmp_path / "tb.db"
    assert import_runs(tmp_path / "sweep", store) == 0
    data = load("old-sweep", str(store))
    space = data.experiment.space
    lr = space["learning_rate"]
    assert lr.role == "nuisance" and lr.domain == Range(pytest.approx(1e-4), pytest.approx(1e-2), "log", "float")
    assert space["weight_decay"].domain.scale == "linear"
    for fixed, value in (("batch_size", 128), ("depth", 4), ("optimizer", "adam")):
        assert space[fixed].role == "fixed" and space[fixed].domain == Fixed(value)
    assert data.experiment.search.algorithm == "explicit"
    assert len(data.experiment.search.points) == 12
    # each trial's objective is the best eval_loss of its curve, at the last step here
    first = data.trials.sort_values("trial_id").iloc[0]
    assert first["objective"] == pytest.approx((math.log10(written[0]["learning_rate"]) + 1) ** 2 + 1 / 6)
    assert first["best_step"] == STEPS[-1]
    # empty cells are skipped: train_loss is logged every other step
    train = data.curves[(data.curves.metric == "train_loss") & (data.curves.trial_id == first["trial_id"])]
    assert list(train.step) == [0, 200, 400]


def test_scientific_values_become_studies(tmp_path: Path) -> None:
    planted_sweep(tmp_path / "sweep", n=4, depths=(2, 4, 8))
    store = tmp_path / "tb.db"
    assert import_runs(tmp_path / "sweep", store, "--scientific", "depth", "--fixed", "optimizer") == 0
    data = load("old-sweep", str(store))
    assert [p.key for p in data.experiment.studies()] == ["depth=2", "depth=4", "depth=8"]
    assert data.experiment.space["depth"].domain == Choice((2, 4, 8))
    assert data.trials.groupby("study").size().to_dict() == {"depth=2": 4, "depth=4": 4, "depth=8": 4}
    assert (data.trials["depth"].astype(str) == data.trials["study"].str.removeprefix("depth=")).all()
    assert sorted(data.trials[data.trials.study == "depth=8"]["number"]) == [0, 1, 2, 3]


def test_nan_or_missing_objective_curve_is_infeasible(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    for i, lr in enumerate((0.1, 0.2, 0.3)):
        write_run(root, f"run-{i}", {"lr": lr}, ("step", "loss", "acc"),
                  [(0, 1.0, 0.1), (1, 0.5 if i else "nan", 0.2), (2, "inf" if i == 1 else 0.4, 0.3)])
    write_run(root, "run-3", {"lr": 0.5}, ("step", "acc"), [(0, 0.5)])
    store = tmp_path / "tb.db"
    assert tunebook("import", "runs", str(root), "--params", "hparams.json", "--metrics", "eval.csv",
                    "--name", "nan", "--objective", "loss", "--store", str(store)) == 0
    trials = load("nan", str(store)).trials.set_index("lr")
    assert trials.loc[0.1, "state"] == "infeasible" and "loss is nan at step 1" in trials.loc[0.1, "reason"]
    assert trials.loc[0.2, "state"] == "infeasible" and "inf at step 2" in trials.loc[0.2, "reason"]
    assert trials.loc[0.3, "state"] == "complete" and trials.loc[0.3, "objective"] == 0.4
    assert trials.loc[0.5, "state"] == "infeasible" and "no 'loss' curve in run-3/eval.csv" in trials.loc[0.5, "reason"]
    # NaN and inf are kept in the stored curves
    values = load("nan", str(store)).curves.value
    assert values.isna().any() and (values == math.inf).any()


def test_importing_the_same_name_twice_is_a_conflict(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    planted_sweep(tmp_path / "sweep", n=3)
    store = tmp_path / "tb.db"
    assert import_runs(tmp_path / "sweep", store) == 0
    assert import_runs(tmp_path / "sweep", store) == 1
    err = capsys.readouterr().err
    assert "already exists" in err and "Traceback" not in err
    with open_store(str(store)) as opened:
        assert len(opened.list_trials(experiment_id=opened.get_experiment("old-sweep").id)) == 3


def _bad_input(tmp_path: Path, capsys: pytest.CaptureFixture, *extra: str) -> str:
    store = tmp_path / "tb.db"
    assert import_runs(tmp_path / "sweep", store, *extra) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    with open_store(str(store)) as opened:
        assert opened.list_experiments() == []
    return err


def test_missing_file_names_the_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    planted_sweep(tmp_path / "sweep", n=3)
    (tmp_path / "sweep" / "d4-run-01" / "eval.csv").unlink()
    assert "d4-run-01/eval.csv: file not found" in _bad_input(tmp_path, capsys)


def test_missing_step_column_lists_the_columns(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    planted_sweep(tmp_path / "sweep", n=3)
    write_run(tmp_path / "sweep", "run-07", {"learning_rate": 1e-3, "weight_decay": 0.0, "depth": 4,
              "batch_size": 128, "optimizer": "adam"}, ("step", "loss"), [(0, 1.0)])
    err = _bad_input(tmp_path, capsys)
    assert "run-07/eval.csv: no column 'global_step' (columns: step, loss)" in err


def test_non_numeric_cell_names_line_and_column(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    planted_sweep(tmp_path / "sweep", n=3)
    csv = tmp_path / "sweep" / "d4-run-02" / "eval.csv"
    lines = csv.read_text().splitlines()
    lines[2] = "100,oops,"
    csv.write_text("\n".join(lines) + "\n")
    assert "d4-run-02/eval.csv: line 3, column 'eval_loss': 'oops' is not a number" in _bad_input(tmp_path, capsys)


def test_params_not_an_object_and_several_problems_at_once(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    planted_sweep(tmp_path / "sweep", n=3)
    (tmp_path / "sweep" / "d4-run-00" / "hparams.json").write_text("[0.1, 0.2]")
    (tmp_path / "sweep" / "d4-run-01" / "hparams.json").write_text("{not json")
    err = _bad_input(tmp_path, capsys)
    assert "d4-run-00/hparams.json: params must be a JSON object of name: value, got list" in err
    assert "d4-run-01/hparams.json: not valid JSON" in err


def test_unknown_objective_metric_and_role_names(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    planted_sweep(tmp_path / "sweep", n=3)
    store = tmp_path / "tb.db"
    assert tunebook("import", "runs", str(tmp_path / "sweep"), *RUNS_ARGS, "--name", "x", "--objective",
                    "eval_acc:max", "--store", str(store)) == 1
    assert "no run logs the objective metric 'eval_acc' (metrics: eval_loss, train_loss)" in capsys.readouterr().err
    assert "--scientific: no run has a param 'width'" in _bad_input(tmp_path, capsys, "--scientific", "width")
    assert "learning_rate takes 3 values" in _bad_input(tmp_path, capsys, "--fixed", "learning_rate")


def test_spec_gives_roles_and_reports_runs_that_do_not_fit(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    planted_sweep(tmp_path / "sweep", n=3, depths=(2, 4))
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: from-spec\nobjective: {metric: eval_loss, mode: min}\n"
        "scientific: {depth: [2, 4]}\n"
        "nuisance: {learning_rate: {low: 1.0e-5, high: 1.0, scale: log}, weight_decay: {low: 0, high: 0.2}}\n"
        "fixed: {batch_size: 128, optimizer: adam}\n"
    )
    store = tmp_path / "tb.db"
    args = ("import", "runs", str(tmp_path / "sweep"), *RUNS_ARGS, "--spec", str(spec), "--store", str(store))
    assert tunebook(*args) == 0
    data = load("from-spec", str(store))
    assert data.experiment.space["learning_rate"].domain == Range(1e-5, 1.0, "log", "float")
    assert data.trials.groupby("study").size().to_dict() == {"depth=2": 3, "depth=4": 3}

    spec.write_text(spec.read_text().replace("name: from-spec", "name: narrow").replace("high: 1.0,", "high: 1.0e-3,")
                    .replace("batch_size: 128", "batch_size: 256"))
    assert tunebook(*args) == 1
    err = capsys.readouterr().err
    assert "d2-run-00 (batch_size): is 128 but the experiment fixes it at 256" in err
    assert "outside learning_rate's domain" in err
    with open_store(str(store)) as opened:
        assert [e.name for e in opened.list_experiments()] == ["from-spec"]
