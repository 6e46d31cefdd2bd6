"""``tunebook import mlflow``: a real MLflow SQLite store, filled through MLflow's own API, read back."""

from __future__ import annotations

import math
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

mlflow = pytest.importorskip("mlflow")

from tunebook.analysis import load  # noqa: E402
from tunebook.storage import open_store  # noqa: E402
from tests.importing.helpers import STEPS, planted_loss, tunebook  # noqa: E402

LRS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)


def log_run(name: str, params: dict[str, Any], losses: list[tuple[int, float]], status: str = "FINISHED",
            nested: bool = False) -> str:
    """One run through the fluent API: params, then val_loss and train_loss step by step."""
    with mlflow.start_run(run_name=name, nested=nested) as run:
        mlflow.log_params(params)
        for step, loss in losses:
            mlflow.log_metric("val_loss", loss, step=step)
            mlflow.log_metric("train_loss", 2.0 - step / 1000, step=step)
    if status != "FINISHED":
        mlflow.MlflowClient().set_terminated(run.info.run_id, status)
    return run.info.run_id


def sweep_params(lr: float, depth: int) -> dict[str, Any]:
    return {"learning_rate": lr, "depth": depth, "optimizer": "adam", "use_bn": True}


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """sqlite:///.../mlflow.db holding experiments 'sweep', 'nested' and 'bad-names' (created once: ~seconds)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        mlflow.set_experiment("sweep")
        for i, lr in enumerate(LRS):
            log_run("trial", sweep_params(lr, 2 + 2 * (i % 2)), [(s, planted_loss(lr, s)) for s in STEPS])
        log_run("crashed", sweep_params(0.05, 2), [(0, 3.0), (100, 2.5)], status="FAILED")
        log_run("diverged", sweep_params(0.5, 4), [(0, 3.0), (100, math.nan)], status="FAILED")
        log_run("stopped", sweep_params(0.07, 4), [(0, 3.0)], status="KILLED")
        with mlflow.start_run(run_name="relogged"):  # a step logged twice: the later value stands
            mlflow.log_params(sweep_params(0.02, 2))
            for step, loss in ((0, 5.0), (100, 4.0), (100, 1.5), (200, 3.0)):
                mlflow.log_metric("val_loss", loss, step=step)
        client = mlflow.MlflowClient()
        experiment_id = client.get_experiment_by_name("sweep").experiment_id
        client.create_run(experiment_id, run_name="still-going")  # RUNNING: never ended
        mlflow.set_experiment("nested")
        with mlflow.start_run(run_name="hyperopt-parent"):
            mlflow.log_param("max_evals", 2)
            for lr in (1e-3, 1e-2):
                log_run(f"child-{lr}", {"learning_rate": lr}, [(s, planted_loss(lr, s)) for s in STEPS], nested=True)
        mlflow.set_experiment("bad-names")
        log_run("dotted", {"model.depth": 4, "learning_rate": 0.1}, [(0, 1.0)])
        yield uri
    finally:
        mlflow.set_tracking_uri(before)


def import_mlflow(uri: str, experiment: str, store: Path, *extra: str) -> int:
    return tunebook("import", "mlflow", "--tracking-uri", uri, "--experiment", experiment, "--name", "from-mlflow",
                    "--store", str(store), *extra)


def test_runs_params_histories_and_status(mlflow_store: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    store = tmp_path / "tb.db"
    assert import_mlflow(mlflow_store, "sweep", store, "--objective", "val_loss", "--scientific", "depth") == 0
    out = capsys.readouterr().out
    assert "imported 10 runs into experiment from-mlflow (objective val_loss:min)" in out
    assert "left out runs still-going: still running" in out
    data = load("from-mlflow", str(store))
    trials = data.trials.set_index("learning_rate").sort_index()
    # params come back typed: floats, ints, bools and text, not MLflow's strings
    assert set(map(type, trials.index)) == {float} and set(trials.depth) == {2, 4}
    assert set(trials.use_bn) == {True} and set(trials.optimizer) == {"adam"}
    assert sorted(data.trials.study.unique()) == ["depth=2", "depth=4"]
    finished = trials.loc[list(LRS)]
    assert set(finished.state) == {"complete"}
    assert finished.objective.tolist() == pytest.approx([planted_loss(lr, STEPS[-1]) for lr in LRS])
    by_lr = {round(lr, 6): row for lr, row in trials.iterrows()}
    assert by_lr[0.05].state == "failed" and "FAILED (it crashed)" in by_lr[0.05].reason
    assert by_lr[0.07].state == "failed" and "KILLED" in by_lr[0.07].reason
    assert by_lr[0.5].state == "infeasible" and "val_loss is nan at step 100" in by_lr[0.5].reason
    relogged = data.curves[(data.curves.trial_id == by_lr[0.02].trial_id) & (data.curves.metric == "val_loss")]
    assert list(zip(relogged.step, relogged.value)) == [(0, 5.0), (100, 1.5), (200, 3.0)]
    assert by_lr[0.02].objective == 1.5 and by_lr[0.02].best_step == 100
    first = data.curves[(data.curves.trial_id == by_lr[1e-4].trial_id) & (data.curves.metric == "val_loss")]
    assert list(first.step) == list(STEPS)
    run = mlflow.MlflowClient(mlflow_store).search_runs(
        [mlflow.MlflowClient(mlflow_store).get_experiment_by_name("sweep").experiment_id],
        filter_string="params.learning_rate = '0.0001'")[0]
    assert by_lr[1e-4].started_at == datetime.fromtimestamp(run.info.start_time / 1000, timezone.utc)
    assert by_lr[1e-4].finished_at == datetime.fromtimestamp(run.info.end_time / 1000, timezone.utc)


def test_parent_of_nested_runs_is_left_out(mlflow_store: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    nested_id = mlflow.MlflowClient(mlflow_store).get_experiment_by_name("nested").experiment_id  # by id works too
    assert import_mlflow(mlflow_store, nested_id, tmp_path / "tb.db", "--objective", "val_loss") == 0
    out = capsys.readouterr().out
    assert "left out runs hyperopt-parent: a parent of nested runs (its children are the trials)" in out
    data = load("from-mlflow", str(tmp_path / "tb.db"))
    assert sorted(data.trials.learning_rate) == pytest.approx([1e-3, 1e-2])


@pytest.mark.parametrize(("experiment", "uri_of", "message"), [
    ("bad-names", None, "dotted (params): 'model.depth' cannot name a hyperparameter"),
    ("no-such", None, "--experiment: no MLflow experiment 'no-such' at sqlite:///"),
    ("sweep", lambda tmp: f"sqlite:///{tmp / 'typo.db'}", "--tracking-uri: 'sqlite:///"),
])
def test_bad_input_is_named_and_nothing_is_written(mlflow_store: str, tmp_path: Path, capsys: pytest.CaptureFixture,
                                                   experiment: str, uri_of: Any, message: str) -> None:
    uri = uri_of(tmp_path) if uri_of else mlflow_store
    store = tmp_path / "tb.db"
    assert import_mlflow(uri, experiment, store, "--objective", "val_loss") == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    if uri_of:
        assert "does not exist" in err and not (tmp_path / "typo.db").exists()  # no MLflow store was created
    with open_store(str(store)) as opened:
        assert opened.list_experiments() == []


def test_a_sqlite_file_that_is_not_mlflow_is_left_untouched(mlflow_store: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture) -> None:
    other = tmp_path / "tunebook.db"  # a tunebook store given as the tracking URI by mistake
    with open_store(str(other)):
        pass
    before = other.read_bytes()
    assert import_mlflow(f"sqlite:///{other}", "sweep", tmp_path / "tb.db", "--objective", "val_loss") == 1
    err = capsys.readouterr().err
    assert f"--tracking-uri: {other} is not an MLflow store (it lacks the tables alembic_version, metrics, " in err
    assert other.read_bytes() == before  # MLflow added no tables to it


def test_without_mlflow_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if the extra were not installed
    assert import_mlflow("sqlite:///x.db", "sweep", tmp_path / "tb.db", "--objective", "val_loss") == 1
    err = capsys.readouterr().err
    assert "pip install 'tunebook[mlflow]'" in err and "Traceback" not in err


def test_a_tracking_server_that_is_not_there_is_said_at_once(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import socket
    import time

    with socket.socket() as probe:  # a port on 127.0.0.1 that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    assert import_mlflow(f"http://127.0.0.1:{port}", "sweep", tmp_path / "tb.db", "--objective", "val_loss") == 1
    assert time.monotonic() - started < 30  # MLflow's own retries took about four minutes
    err = capsys.readouterr().err
    assert f"cannot reach an MLflow server at 127.0.0.1:{port} (Connection refused)" in err and "Traceback" not in err
    with open_store(str(tmp_path / "tb.db")) as opened:
        assert opened.list_experiments() == []
