"""``Trial.log`` in one process: what it accepts, what it refuses, when it flushes.

These tests build a ``Trial`` on a real store directly, without ``trial()``,
so that no exit or signal hook is installed in the test process.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

from tunebook.storage import SQLStore
from tunebook.tracking import Diverged, Trial
from tunebook.tracking.sinks import open_sink

from tests.tracking.conftest import Claimed, curves


@pytest.fixture
def direct(store: SQLStore, make_trial: Callable[..., Claimed]) -> Callable[..., Trial]:
    """A managed ``Trial`` in this process; keyword arguments go to the context."""

    def build(**fields: Any) -> Trial:
        claimed = make_trial(**{"flush_points": 10**9, "flush_seconds": 1e9, **fields})
        sink = open_sink(claimed.context.store, claimed.id)
        return Trial({}, claimed.context, claimed.dir, claimed.dir / "checkpoints", sink, managed=True)

    return build


@pytest.mark.parametrize(
    "value, shown",
    [(True, "True"), ("0.5", "'0.5'"), (None, "None"), ([0.5], r"\[0.5\]"), (1 + 2j, r"\(1\+2j\)"),
     (np.array([1.0, 2.0]), "array"), (np.bool_(False), "np.False_"), (np.complex128(1j), "np.complex128")],
)
def test_a_value_that_is_not_a_real_number_names_the_metric(direct, store, value: Any, shown: str) -> None:
    trial = direct()
    with pytest.raises(TypeError, match=rf"metric 'valid/error' must be a real number, got {shown}"):
        trial.log(1, {"train/loss": 0.5, "valid/error": value})
    trial.flush()
    assert curves(store, trial.id) == {}  # nothing of the refused call is kept


@pytest.mark.parametrize(
    "step, error, message",
    [(-1, ValueError, "step must be an int >= 0, got -1"),
     (2**63, ValueError, r"step must be below 2\*\*63 \(stored as int64\), got 9223372036854775808"),
     (1.0, TypeError, "got 1.0 of type float"), ("3", TypeError, "got '3' of type str"),
     (True, TypeError, "got the bool True"), (None, TypeError, "got None")],
)
def test_a_bad_step_is_refused(direct, step: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        direct().log(step, {"train/loss": 0.5})


def test_bad_names_and_mappings_are_refused(direct) -> None:
    trial = direct()
    with pytest.raises(TypeError, match="metric names must be non-empty strings, got ''"):
        trial.log(0, {"": 1.0})
    with pytest.raises(TypeError, match="metric names must be non-empty strings, got 3"):
        trial.log(0, {3: 1.0})
    with pytest.raises(TypeError, match="metrics must be a mapping"):
        trial.log(0, [("loss", 1.0)])


def test_numbers_of_every_kind_are_stored_as_floats(direct, store) -> None:
    trial = direct()
    trial.log(np.int64(4), {"a": 1, "b": np.float32(0.25), "c": np.float64(2.5), "d": np.int32(7)}, e=3.0)
    trial.log(5)  # nothing to log is fine
    trial.flush()
    got = curves(store, trial.id)
    assert got == {"a": [(4, 1.0)], "b": [(4, 0.25)], "c": [(4, 2.5)], "d": [(4, 7.0)], "e": [(4, 3.0)]}


def test_torch_scalars(direct, store) -> None:
    torch = pytest.importorskip("torch")
    trial = direct()
    trial.log(torch.tensor(3), {"loss": torch.tensor(0.5), "n": torch.tensor(7)})
    for bad in (torch.tensor(True), torch.tensor([1.0, 2.0]), torch.tensor(1j)):
        with pytest.raises(TypeError, match="metric 'loss' must be a real number"):
            trial.log(4, {"loss": bad})
    trial.flush()
    assert curves(store, trial.id) == {"loss": [(3, 0.5)], "n": [(3, 7.0)]}


def test_flush_by_time(direct, store) -> None:
    trial = direct(flush_seconds=0.0)  # every log is past the deadline
    trial.log(0, {"train/loss": 1.0})
    assert curves(store, trial.id) == {"train/loss": [(0, 1.0)]}


def test_flush_by_count_counts_points(direct, store) -> None:
    trial = direct(flush_points=4)
    trial.log(0, {"a": 1.0, "b": 1.0, "c": 1.0})
    assert curves(store, trial.id) == {}
    trial.log(1, {"a": 2.0})
    assert sum(len(points) for points in curves(store, trial.id).values()) == 4


def test_diverged_carries_its_reason_and_exit_code_0(direct, capsys: pytest.CaptureFixture) -> None:
    trial = direct()
    trial.log(0, {"train/loss": 2.0})
    with pytest.raises(Diverged) as caught:
        trial.log(1, {"train/loss": math.inf})
    assert caught.value.reason == "train/loss is inf at step 1"
    assert caught.value.code == 0
    assert str(caught.value) == "trial diverged: train/loss is inf at step 1"
    assert not isinstance(caught.value, Exception)
    assert capsys.readouterr().err == "tunebook: trial diverged: train/loss is inf at step 1\n"
    with pytest.raises(Diverged):  # the trial has ended: logging again says so
        trial.log(2, {"train/loss": 1.0})


def test_a_failed_flush_keeps_the_points(direct, store, tmp_path) -> None:
    trial = direct()
    trial.log(0, {"a": 1.0})
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE curve_chunks RENAME TO parked")
    with pytest.raises(Exception, match="no such table: curve_chunks"):
        trial.flush()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE parked RENAME TO curve_chunks")
    trial.log(1, {"a": 2.0})
    trial.flush()
    assert curves(store, trial.id) == {"a": [(0, 1.0), (1, 2.0)]}


def test_a_sigterm_while_writing_waits_for_the_write(direct, store) -> None:
    trial = direct()
    trial.log(0, {"a": 1.0})
    with pytest.raises(SystemExit) as caught:
        with trial._writing():
            trial._on_sigterm(15, None)  # deferred: nothing happens inside the write
            trial.log(1, {"a": 2.0})
    assert caught.value.code == 128 + 15
    assert curves(store, trial.id) == {"a": [(0, 1.0), (1, 2.0)]}  # flushed before exiting


def test_a_flush_hands_each_metric_in_step_order_so_its_last_point_is_its_largest_step() -> None:
    from tunebook.tracking.buffer import PointBuffer

    buffer = PointBuffer()
    for step, loss in [(10, 1.0), (20, 0.5), (5, 2.0), (20, 0.4), (15, 0.7)]:  # a restart went back to step 5
        buffer.add(step, {"loss": loss})
    steps, values = buffer.take()["loss"]
    assert list(steps) == [5, 10, 15, 20, 20] and list(values) == [2.0, 1.0, 0.7, 0.5, 0.4]  # equal steps: as logged
    buffer.add(30, {"loss": 0.3})  # the next flush starts afresh: in order, kept as logged
    buffer.add(40, {"loss": 0.2})
    assert list(buffer.take()["loss"][0]) == [30, 40]


def test_points_put_back_after_a_failed_flush_stay_in_step_order_with_what_comes_after() -> None:
    from tunebook.tracking.buffer import PointBuffer

    buffer = PointBuffer()
    for step in (10, 20):
        buffer.add(step, {"loss": float(step)})
    buffer.put_back(buffer.take())  # the write failed
    buffer.add(15, {"loss": 15.0})  # a step below the put-back chunk's last one
    assert list(buffer.take()["loss"][0]) == [10, 15, 20]
