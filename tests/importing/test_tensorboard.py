"""``tunebook import tensorboard``: event files written by torch's SummaryWriter, read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunebook.analysis import load
from tunebook.storage import open_store
from tests.importing.helpers import STEPS, planted_loss, tunebook

pytest.importorskip("tensorboard")
torch_tb = pytest.importorskip("torch.utils.tensorboard")


def write_tb_run(folder: Path, params: dict, with_hparams: bool) -> None:
    from torch.utils.tensorboard.summary import hparams

    writer = torch_tb.SummaryWriter(str(folder))
    for step in STEPS:
        writer.add_scalar("eval/loss", planted_loss(params["learning_rate"], step), step)
        writer.add_scalar("train_loss", 2.0 - step / 1000, step)
    if with_hparams:  # in the run's own folder (add_hparams would open a sub-folder)
        for summary in hparams(params, {"eval/loss": 0.0}):
            writer.file_writer.add_summary(summary)
    writer.close()


def test_tensorboard_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "tb"
    lrs = (1e-4, 1e-3, 1e-2)
    for i, lr in enumerate(lrs):
        params = {"learning_rate": lr, "depth": 2 + 2 * (i % 2)}
        write_tb_run(root / f"run-{i}", params, with_hparams=i != 0)
        if i == 0:
            (root / "run-0" / "hparams.json").write_text(json.dumps(params))
    store = tmp_path / "tb.db"
    assert tunebook("import", "tensorboard", str(root), "--params", "hparams.json", "--name", "tb",
                    "--objective", "eval/loss:min", "--scientific", "depth", "--store", str(store)) == 0
    data = load("tb", str(store))
    trials = data.trials.set_index("learning_rate").sort_index()
    assert list(trials.index) == pytest.approx(lrs)
    assert list(trials["state"]) == ["complete"] * 3
    assert trials["objective"].tolist() == pytest.approx([planted_loss(lr, STEPS[-1]) for lr in lrs], rel=1e-6)
    assert set(data.curves.metric) == {"eval/loss", "train_loss"}
    assert sorted(data.trials.study) == ["depth=2", "depth=2", "depth=4"]


def test_run_without_params_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_tb_run(tmp_path / "tb" / "run-0", {"learning_rate": 0.1}, with_hparams=False)
    (tmp_path / "tb" / "empty-run").mkdir()
    assert tunebook("import", "tensorboard", str(tmp_path / "tb"), "--name", "tb", "--objective", "eval/loss",
                    "--store", str(tmp_path / "tb.db")) == 1
    err = capsys.readouterr().err
    assert "empty-run: no TensorBoard event files" in err
    assert "run-0: no hparams in the event files" in err


def write_torch_run(folder: Path, params: dict, *later_hparams: dict, metrics: dict | None = None) -> None:
    """A run the way users log it: add_scalar per step, then add_hparams (which opens a sub-folder).

    ``later_hparams``: more add_hparams calls after the first, each opening its own sub-folder.
    """
    writer = torch_tb.SummaryWriter(str(folder))
    for step in STEPS:
        writer.add_scalar("valid/loss", planted_loss(params["learning_rate"], step), step)
        writer.add_scalar("train/loss", 2.0 - step / 1000, step)
    for hparams in (params, *later_hparams):
        writer.add_hparams(hparams, metrics or {"hparam/valid_loss": planted_loss(params["learning_rate"], STEPS[-1])})
    writer.close()


def import_tb(root: Path, store: Path, *extra: str) -> int:
    return tunebook("import", "tensorboard", str(root), "--name", "tb", "--store", str(store), *extra)


def test_add_hparams_sub_folders_give_the_params(tmp_path: Path) -> None:
    root, lrs = tmp_path / "tb", (1e-4, 1e-3, 1e-2)
    for i, lr in enumerate(lrs):
        params = {"learning_rate": lr, "depth": 2 + 2 * (i % 2), "optimizer": "adam"}
        again = [params] if i == 0 else []  # add_hparams twice with the same hparams: one run still
        write_torch_run(root / f"run-{i}", params, *again)
    with torch_tb.SummaryWriter(str(root / "run-2")) as writer:  # add_scalars opens sub-folders too: not hparams
        writer.add_scalars("lr", {"schedule": 0.01}, 0)
    assert len([p for p in root.rglob("*") if p.is_dir()]) == 8  # 3 runs, 4 add_hparams sub-folders, lr_schedule
    store = tmp_path / "tb.db"
    assert import_tb(root, store, "--objective", "valid/loss", "--scientific", "depth") == 0
    data = load("tb", str(store))
    trials = data.trials.set_index("learning_rate").sort_index()
    assert list(trials.index) == pytest.approx(lrs)
    assert sorted(data.trials.study) == ["depth=2", "depth=2", "depth=4"]
    assert list(trials["optimizer"]) == ["adam"] * 3
    assert trials["objective"].tolist() == pytest.approx([planted_loss(lr, STEPS[-1]) for lr in lrs], rel=1e-6)
    # add_hparams' copies of the metric values are not imported; add_scalars' sub-folder is a curve of its run
    points = data.curves.groupby(["metric", "trial_id"], observed=True).size()
    assert set(data.curves.metric) == {"train/loss", "valid/loss", "lr_schedule/lr"}
    assert set(points["valid/loss"]) == set(points["train/loss"]) == {len(STEPS)}
    assert list(points["lr_schedule/lr"]) == [1]


def test_add_hparams_metric_named_like_a_curve_is_not_counted_twice(tmp_path: Path) -> None:
    root = tmp_path / "tb"
    for lr in (1e-3, 1e-2):  # a final value below every logged one: the best if it were read as a point
        write_torch_run(root / f"run-{lr}", {"learning_rate": lr}, metrics={"valid/loss": -1.0})
    store = tmp_path / "tb.db"
    assert import_tb(root, store, "--objective", "valid/loss") == 0
    data = load("tb", str(store))
    assert sorted(data.trials.objective) == pytest.approx([planted_loss(lr, STEPS[-1]) for lr in (1e-2, 1e-3)])
    assert (data.curves.value >= 0).all() and len(data.curves) == 2 * 2 * len(STEPS)


def test_conflicting_add_hparams_sub_folders_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = tmp_path / "tb"
    write_torch_run(root / "run-0", {"learning_rate": 0.1})
    write_torch_run(root / "run-1", {"learning_rate": 0.01, "depth": 2}, {"learning_rate": 0.03, "depth": 2})
    store = tmp_path / "tb.db"
    assert import_tb(root, store, "--objective", "valid/loss") == 1
    err = capsys.readouterr().err
    subs = sorted(p.name for p in (root / "run-1").iterdir() if p.is_dir())
    assert f"run-1: conflicting hparams in run-1/{subs[0]}/ and run-1/{subs[1]}/ (learning_rate: 0.01 vs 0.03)" in err
    assert "--params NAME" in err and "run-0" not in err
    assert "nothing was written to the store" in err
    with open_store(str(store)) as opened:
        assert opened.list_experiments() == []


def test_objective_given_only_to_add_hparams_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_torch_run(tmp_path / "tb" / "run-0", {"learning_rate": 0.1})
    assert import_tb(tmp_path / "tb", tmp_path / "tb.db", "--objective", "hparam/valid_loss") == 1
    err = capsys.readouterr().err
    assert "'hparam/valid_loss' is only a final value given to add_hparams, not a curve" in err
    assert "train/loss, valid/loss" in err
