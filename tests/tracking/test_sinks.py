"""Sinks write what ``SQLStore`` reads back: the sqlite3 writer's conformance.

Points and checkpoints written through a sink are read back with
``SQLStore.load_curves`` / ``list_checkpoints``, and the raw rows are compared
with the rows ``SQLStore`` itself writes for the same input.
"""

from __future__ import annotations

import math
import re
import sqlite3
from array import array
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from tunebook.core.errors import StoreError
from tunebook.storage import SQLStore
from tunebook.tracking.buffer import Chunk, PointBuffer
from tunebook.tracking.sinks import Sink, SQLiteSink, StoreSink, open_sink, sqlite_path

from tests.tracking.conftest import Claimed, curves, same_points

INF = math.inf
SPECIAL = [math.nan, INF, -INF, -0.0, 5e-324, 1.7976931348623157e308]
BIG_STEPS = [0, 1, 2**31, 2**53 + 1, 2**62, 2**63 - 1]


def chunk(**metrics: tuple[list[int], list[float]]) -> Chunk:
    return {name.replace("__", "/"): (array("q", s), array("d", v)) for name, (s, v) in metrics.items()}


def sqlite_sink(store: SQLStore, trial_id: int) -> Sink:
    sink = open_sink(store.url, trial_id)
    assert isinstance(sink, SQLiteSink)
    return sink


def store_sink(store: SQLStore, trial_id: int) -> Sink:
    sink = open_sink(store.url + "?timeout=30", trial_id)  # options: SQLStore handles them
    assert isinstance(sink, StoreSink)
    return sink


SINKS = [pytest.param(sqlite_sink, id="sqlite3"), pytest.param(store_sink, id="SQLStore")]


@pytest.mark.parametrize("make_sink", SINKS)
def test_points_read_back_bit_for_bit(store: SQLStore, make_trial: Callable[..., Claimed], make_sink) -> None:
    claimed = make_trial()
    sink = make_sink(store, claimed.id)
    want: dict[str, list[tuple[int, float]]] = {}
    for flush in range(40):  # many flushes, each a chunk per metric
        steps = [flush * 10 + i for i in range(10)]
        losses = [1.0 / (s + 1) for s in steps]
        sink.write_points(chunk(train__loss=(steps, losses), lr=(steps[:1], [0.1 * flush])))
        want.setdefault("train/loss", []).extend(zip(steps, losses))
        want.setdefault("lr", []).append((steps[0], 0.1 * flush))
    sink.write_points(chunk(special=(list(range(len(SPECIAL))), SPECIAL), big=(BIG_STEPS, [1.0] * 6)))
    want["special"] = list(enumerate(SPECIAL))
    want["big"] = [(s, 1.0) for s in BIG_STEPS]
    got = curves(store, claimed.id)
    assert set(got) == set(want)
    for name in want:
        assert same_points(got[name], want[name]), name
    frame = store.load_curves(trial_ids=[claimed.id])
    special = frame[frame["metric"] == "special"]["value"].to_numpy()
    assert special.tobytes() == np.array(SPECIAL, dtype="<f8").tobytes()  # -0.0, NaN bits too


def test_chunk_rows_equal_those_sqlstore_writes(store: SQLStore, make_trial: Callable[..., Claimed]) -> None:
    ours, theirs = make_trial(), make_trial()
    buffer = PointBuffer()  # what a trial's flush hands its sink: steps logged out of order come out sorted
    for step, value in zip([3, 1, 2, 2**62], [0.5, math.nan, -INF, 1e-300]):
        buffer.add(step, {"valid/error": value})
    buffer.add(7, {"x": INF})
    points = buffer.take()
    sqlite_sink(store, ours.id).write_points(points)
    store.log_curves(theirs.id, {name: (list(s), list(v)) for name, (s, v) in points.items()})
    with sqlite3.connect(Path(store.url[len("sqlite:///"):])) as conn:
        rows = {
            trial_id: conn.execute(
                "SELECT metric, n, steps, vals, typeof(steps) FROM curve_chunks WHERE trial_id = ? ORDER BY id",
                (trial_id,),
            ).fetchall()
            for trial_id in (ours.id, theirs.id)
        }
    assert rows[ours.id] == rows[theirs.id]
    assert rows[ours.id][0][4] == "blob"


def test_empty_metrics_write_no_rows(store: SQLStore, make_trial: Callable[..., Claimed]) -> None:
    claimed = make_trial()
    sqlite_sink(store, claimed.id).write_points(chunk(empty=([], [])))
    assert curves(store, claimed.id) == {}


@pytest.mark.parametrize("make_sink", SINKS)
def test_checkpoint_rows_read_back(store: SQLStore, make_trial: Callable[..., Claimed], make_sink) -> None:
    claimed = make_trial()
    sink = make_sink(store, claimed.id)
    before = datetime.now(timezone.utc)
    sink.add_checkpoint(10, "/ckpt/step-10", 0.25)
    sink.add_checkpoint(20, "/ckpt/step-20", math.nan)  # NaN is stored as NULL
    sink.add_checkpoint(30, "/ckpt/step-30", INF)
    sink.add_checkpoint(2**62, "/ckpt/big", None)
    sink.add_checkpoint(10, "/ckpt/step-10-again", 0.125)  # replaces
    sink.remove_checkpoint(30)
    sink.remove_checkpoint(999)  # absent: nothing happens
    got = store.list_checkpoints(claimed.id)
    assert [(c.step, c.path, c.value) for c in got] == [
        (10, "/ckpt/step-10-again", 0.125), (20, "/ckpt/step-20", None), (2**62, "/ckpt/big", None),
    ]
    for checkpoint in got:
        assert checkpoint.created_at.tzinfo is not None
        assert before - timedelta(seconds=1) <= checkpoint.created_at <= datetime.now(timezone.utc)
    assert sink.list_checkpoints() == [(c.step, c.path, c.value) for c in got]


def test_created_at_is_sqlalchemy_text(store: SQLStore, make_trial: Callable[..., Claimed]) -> None:
    claimed = make_trial()
    store.add_checkpoint(claimed.id, 1, "/theirs", 1.0)
    sqlite_sink(store, claimed.id).add_checkpoint(2, "/ours", 1.0)
    with sqlite3.connect(Path(store.url[len("sqlite:///"):])) as conn:
        rows = conn.execute("SELECT created_at, typeof(created_at) FROM checkpoints ORDER BY step").fetchall()
    pattern = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
    assert all(pattern.fullmatch(text) and kind == "text" for text, kind in rows), rows
    assert rows[0][0] <= rows[1][0]  # text order is time order


def test_sqlite_sink_reads_checkpoints_sqlstore_wrote(
    store: SQLStore, make_trial: Callable[..., Claimed]
) -> None:
    claimed = make_trial()
    store.add_checkpoint(claimed.id, 5, "/a", 0.5)
    store.add_checkpoint(claimed.id, 6, "/b", None)
    assert sqlite_sink(store, claimed.id).list_checkpoints() == [(5, "/a", 0.5), (6, "/b", None)]


def test_opening_checks_the_store(store: SQLStore, make_trial: Callable[..., Claimed], tmp_path: Path) -> None:
    from tunebook.storage.schema import SCHEMA_VERSION

    claimed = make_trial()
    missing = tmp_path / "missing.db"
    with pytest.raises(StoreError, match="cannot open store"):
        open_sink(f"sqlite:///{missing}", claimed.id)
    assert not missing.exists()  # never creates an empty database
    with pytest.raises(StoreError, match="no trial with id 12345"):
        open_sink(store.url, 12345)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(StoreError, match="no such table: tunebook_meta"):
        open_sink(str(other), claimed.id)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE tunebook_meta SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}; this tunebook writes version "
                                         f"{SCHEMA_VERSION}"):
        open_sink(store.url, claimed.id)


def test_sqlite_path_parses_like_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert sqlite_path("sqlite:////abs/x.db") == Path("/abs/x.db")
    assert sqlite_path("sqlite:///rel/x.db") == tmp_path / "rel/x.db"
    assert sqlite_path("runs/x.db") == tmp_path / "runs/x.db"
    for other in ("postgresql://u@h/db", "sqlite:///x.db?timeout=5", "sqlite://", "sqlite:///:memory:"):
        assert sqlite_path(other) is None, other


@pytest.mark.postgres
def test_postgres_store_sink(postgres_url: str, tmp_path: Path) -> None:
    """The same round trip through SQLStore on a real PostgreSQL server."""
    store = SQLStore(postgres_url)
    try:
        experiment = store.ensure_experiment("pg", {})
        study = store.ensure_study(experiment.id, "joint", {}, 1)
        record = store.claim_trial(study.id, "w", lambda n: {})
        sink = open_sink(postgres_url, record.id)
        assert isinstance(sink, StoreSink)
        sink.write_points(chunk(loss=([0, 1, 2**62], [1.0, math.nan, -INF])))
        sink.add_checkpoint(1, "/p", 0.5)
        assert same_points(curves(store, record.id)["loss"], [(0, 1.0), (1, math.nan), (2**62, -INF)])
        assert sink.list_checkpoints() == [(1, "/p", 0.5)]
    finally:
        store.close()


def test_the_sink_writes_the_schema_version_the_store_has() -> None:
    from tunebook.storage.schema import SCHEMA_VERSION
    from tunebook.tracking import sinks

    assert sinks.SCHEMA_VERSION == str(SCHEMA_VERSION)
