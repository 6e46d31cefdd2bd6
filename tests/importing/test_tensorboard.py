"""``tunebook import tensorboard``: event files written by torch's SummaryWriter, read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunebook.analysis import load
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
