"""``tunebook import tensorboard`` on event files of every scalar encoding, restarts and writer layouts."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

pytest.importorskip("tensorboard")

from tensorboard.compat.proto import summary_pb2  # noqa: E402
from tensorboard.plugins.text import metadata as text_metadata  # noqa: E402

from tunebook.analysis import load  # noqa: E402
from tunebook.storage import open_store  # noqa: E402
from tests.importing.helpers import STEPS, planted_loss, tunebook  # noqa: E402
from tests.importing.tb_writers import BASE_WALL_TIME, ENCODINGS, EventWriter, scalar_tensor, write_curve  # noqa: E402


def import_tb(root: Path, store: Path, *extra: str) -> int:
    return tunebook("import", "tensorboard", str(root), "--name", "tb", "--store", str(store), *extra)


def curve_of(data, trial_id: int, metric: str) -> list[tuple[int, float]]:
    rows = data.curves[(data.curves.trial_id == trial_id) & (data.curves.metric == metric)].sort_values("step")
    return list(zip(rows.step.tolist(), rows.value.tolist()))


def write_mixed_run(folder: Path, lr: float, offset: int, hparams_writer: str) -> None:
    """eval/loss in every encoding in turn, train/loss as packed float64, plus tags that are not scalars."""
    writer = EventWriter(folder)
    getattr(writer, hparams_writer)({"learning_rate": lr, "optimizer": "adam", "nesterov": True})
    for i, step in enumerate(STEPS):
        writer.scalar("eval/loss", step, planted_loss(lr, step), ENCODINGS[(i + offset) % len(ENCODINGS)])
        writer.scalar("train/loss", step, 2.0 - step / 1000, "content_float64")
    per_class = summary_pb2.Summary.Value(tag="eval/per_class", tensor=scalar_tensor(0.5, "float_val"))
    per_class.tensor.tensor_shape.dim.add(size=2)
    per_class.tensor.float_val.append(0.25)
    per_class.metadata.plugin_data.plugin_name = "scalars"
    writer.value(per_class, 0)
    note = summary_pb2.Summary.Value(tag="notes", metadata=text_metadata.create_summary_metadata("", ""))
    note.tensor.CopyFrom(summary_pb2.Summary.Value().tensor)
    writer.value(note, 0)
    writer.close()


def test_every_scalar_encoding_mixed_in_one_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root, lrs = tmp_path / "tb", (1e-4, 1e-3, 1e-2, 3e-2)
    for i, lr in enumerate(lrs):
        write_mixed_run(root / f"run-{i}", lr, offset=i, hparams_writer=("hparams_v1", "hparams_v2")[i % 2])
    store = tmp_path / "tb.db"
    assert import_tb(root, store, "--objective", "eval/loss") == 0
    out = capsys.readouterr().out
    data = load("tb", str(store))
    assert set(data.trials.state) == {"complete"}
    assert set(data.trials.optimizer) == {"adam"} and set(data.trials.nesterov) == {True}
    for _, trial in data.trials.iterrows():
        lr = trial.learning_rate
        assert any(lr == pytest.approx(planted) for planted in lrs)
        # float32 encodings hold ~7 significant digits; float64 ones are exact
        assert curve_of(data, trial.trial_id, "eval/loss") == [
            (s, pytest.approx(planted_loss(lr, s), rel=1e-6)) for s in STEPS]
        assert curve_of(data, trial.trial_id, "train/loss") == [(s, 2.0 - s / 1000) for s in STEPS]
        assert trial.objective == pytest.approx(planted_loss(lr, STEPS[-1]), rel=1e-6)
    assert set(data.curves.metric) == {"eval/loss", "train/loss"}
    assert f"curves: eval/loss (4 runs, {4 * len(STEPS)} points), train/loss (4 runs, {4 * len(STEPS)} points)" in out
    assert "left out eval/per_class (in run-0, run-1, run-2 and 1 more): logged as a scalar summary but holds no " \
           "single number" in out
    assert "left out notes (in run-0, run-1, run-2 and 1 more): text data, not a scalar" in out


def test_jax_runs_with_hparams_json_beside_the_events(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The issue's reproduction: loss, grad_norm and accuracy as float32 tensor summaries, hparams.json beside."""
    root, lrs = tmp_path / "logs", (1e-3, 3e-3, 1e-2)
    for i, lr in enumerate(lrs):
        folder = root / f"run_{i}"
        writer = EventWriter(folder)
        for step in STEPS:
            writer.scalar("loss", step, planted_loss(lr, step), "content_float32")
            writer.scalar("grad_norm", step, 1.0 + lr * step, "float_val")
            writer.scalar("accuracy", step, 1.0 - planted_loss(lr, step) / 10, "content_float32")
        writer.close()
        (folder / "hparams.json").write_text(json.dumps({"learning_rate": lr, "batch_size": 256}))
    store = tmp_path / "tb.db"
    assert import_tb(root, store, "--params", "hparams.json", "--objective", "accuracy:max") == 0
    out = capsys.readouterr().out
    assert "imported 3 runs into experiment tb (objective accuracy:max)" in out
    assert "accuracy (3 runs, 18 points), grad_norm (3 runs, 18 points), loss (3 runs, 18 points)" in out
    data = load("tb", str(store))
    best = {round(t.learning_rate, 6): t.objective for t in data.trials.itertuples()}
    assert best == {round(lr, 6): pytest.approx(1.0 - planted_loss(lr, STEPS[-1]) / 10, rel=1e-6) for lr in lrs}


def test_restarts_merge_by_step_with_the_later_write_winning(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "tb" / "run-0"
    first = EventWriter(folder)  # crashed after step 500
    for step in STEPS:
        first.scalar("loss", step, 10.0 + step, "content_float32")
        first.scalar("lr", step, 0.1, "simple_value")
    first.close()
    restart_wall = BASE_WALL_TIME + 10_000
    second = EventWriter(folder)  # resumed from the checkpoint at step 300, ran on to 700
    for step in (300, 400, 500, 600, 700):
        second.scalar("loss", step, float(step), "float_val", wall_time=restart_wall + step)
    second.close()
    (folder / "hparams.json").write_text(json.dumps({"learning_rate": 0.1}))
    store = tmp_path / "tb.db"
    assert import_tb(tmp_path / "tb", store, "--params", "hparams.json", "--objective", "loss") == 0
    out = capsys.readouterr().out
    assert "left out 3 earlier points of loss (in run-0): replaced by a later event file restarting at step 300" in out
    data = load("tb", str(store))
    trial = data.trials.iloc[0]
    assert curve_of(data, trial.trial_id, "loss") == [(0, 10.0), (100, 110.0), (200, 210.0), (300, 300.0),
                                                      (400, 400.0), (500, 500.0), (600, 600.0), (700, 700.0)]
    assert curve_of(data, trial.trial_id, "lr") == [(s, pytest.approx(0.1)) for s in STEPS]  # the restart left it
    assert trial.objective == 10.0 and trial.best_step == 0
    assert trial.started_at == datetime.fromtimestamp(BASE_WALL_TIME, timezone.utc)
    assert trial.finished_at == datetime.fromtimestamp(restart_wall + 700, timezone.utc)
    assert trial.duration == pytest.approx(10_700)


def test_keras_train_and_validation_sub_folders(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Keras's TensorBoard callback: run/train/ and run/validation/; hp.KerasCallback's hparams in run/."""
    root, lrs = tmp_path / "logs", (1e-3, 1e-2)
    for i, lr in enumerate(lrs):
        run = root / f"run-{i}"
        hparams = EventWriter(run)
        hparams.hparams_v2({"learning_rate": lr, "units": 64})
        hparams.close()
        for part, gap in (("train", 0.0), ("validation", 0.1)):
            writer = EventWriter(run / part)
            for epoch in range(4):
                writer.scalar("epoch_loss", epoch, planted_loss(lr, 100 * epoch) + gap, "content_float32")
                writer.scalar("epoch_accuracy", epoch, 0.5 + epoch / 10, "content_float32")
            writer.close()
    cut_off = next((root / "run-1" / "validation").glob("events.out.tfevents.*"))  # the writer died mid-record
    cut_off.write_bytes(cut_off.read_bytes()[:-7])
    (root / "run-0" / "train" / "events.out.tfevents.1700009999.host.1.0").touch()  # a restart that died at once
    store = tmp_path / "tb.db"
    assert import_tb(root, store, "--objective", "validation/epoch_loss") == 0
    out = capsys.readouterr().out
    assert re.search(rf"left out validation/{cut_off.name}'s last \d+ bytes \(in run-1\): a damaged or cut-off "
                     "record", out), out
    assert "left out train/events.out.tfevents.1700009999.host.1.0 (in run-0): an empty event file" in out
    data = load("tb", str(store))
    assert set(data.curves.metric) == {"train/epoch_loss", "train/epoch_accuracy", "validation/epoch_loss",
                                       "validation/epoch_accuracy"}
    for trial in data.trials.itertuples():
        assert trial.objective == pytest.approx(planted_loss(trial.learning_rate, 300) + 0.1, rel=1e-6)
        assert trial.best_step == 3 and trial.units == 64
        # the cut-off record was run-1's last validation/epoch_accuracy point; the points before it are kept
        assert len(curve_of(data, trial.trial_id, "validation/epoch_accuracy")) == 4 - (trial.learning_rate > 5e-3)


def test_tensorboardx_writer(tmp_path: Path) -> None:
    tbx = pytest.importorskip("tensorboardX")
    root, lrs = tmp_path / "tb", (1e-3, 1e-2)
    for i, lr in enumerate(lrs):
        with tbx.SummaryWriter(str(root / f"run-{i}")) as writer:
            for step in STEPS:
                writer.add_scalar("valid/loss", planted_loss(lr, step), step)
            writer.add_hparams({"learning_rate": lr, "depth": 4}, {"hparam/valid_loss": 0.0})
    store = tmp_path / "tb.db"
    assert import_tb(root, store, "--objective", "valid/loss") == 0
    data = load("tb", str(store))
    assert sorted(data.trials.objective) == pytest.approx(sorted(planted_loss(lr, STEPS[-1]) for lr in lrs), rel=1e-6)
    assert set(data.curves.metric) == {"valid/loss"} and len(data.curves) == 2 * len(STEPS)


def test_bad_hparams_and_unreadable_files_name_the_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = tmp_path / "tb"
    good = EventWriter(root / "run-0")
    good.hparams_v2({"learning_rate": 0.1})
    good.scalar("loss", 0, 1.0, "float_val")
    good.close()
    diverged = EventWriter(root / "run-1")
    diverged.hparams_v1({"learning_rate": math.nan})
    diverged.scalar("loss", 0, 1.0, "float_val")
    diverged.close()
    clash = EventWriter(root / "run-3")  # its own train/loss and its train/ sub-folder's loss
    clash.hparams_v2({"learning_rate": 0.2})
    clash.scalar("train/loss", 0, 1.0, "float_val")
    clash.close()
    write_curve(root / "run-3" / "train", "loss", [(0, 2.0)], ["content_float32"])
    (root / "run-2").mkdir()
    (root / "run-2" / "events.out.tfevents.1700000000.host").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00garbage!")
    store = tmp_path / "tb.db"
    assert import_tb(root, store, "--objective", "loss") == 1
    err = capsys.readouterr().err
    assert "run-1/events.out.tfevents.* (hparams): learning_rate: a hyperparameter value must be finite" in err
    assert "run-2/: cannot read event file events.out.tfevents.1700000000.host" in err
    assert "run-3: two curves would be named train/loss: the tag train/loss in its own event files and the tag " \
           "loss in its train/ sub-folder" in err
    assert "run-0" not in err and "Traceback" not in err and "nothing was written to the store" in err
    with open_store(str(store)) as opened:
        assert opened.list_experiments() == []


def test_torch_new_style_tensors_mixed_with_simple_values(tmp_path: Path) -> None:
    """torch's add_scalar writes simple_value, or a float_val tensor (new_style), or double_val (double_precision)."""
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    root, lrs = tmp_path / "tb", (1e-3, 1e-2)
    styles = ({}, {"new_style": True}, {"new_style": True, "double_precision": True})
    for i, lr in enumerate(lrs):
        with torch_tb.SummaryWriter(str(root / f"run-{i}")) as writer:
            for j, step in enumerate(STEPS):
                writer.add_scalar("valid/loss", planted_loss(lr, step), step, **styles[(i + j) % len(styles)])
        (root / f"run-{i}" / "hparams.json").write_text(json.dumps({"learning_rate": lr}))
    store = tmp_path / "tb.db"
    assert import_tb(root, store, "--params", "hparams.json", "--objective", "valid/loss") == 0
    data = load("tb", str(store))
    for trial in data.trials.itertuples():
        assert curve_of(data, trial.trial_id, "valid/loss") == [
            (s, pytest.approx(planted_loss(trial.learning_rate, s), rel=1e-6)) for s in STEPS]
