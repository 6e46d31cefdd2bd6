"""The SQLite store: the conformance suite on a real file, plus SQLite's own promises."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import statistics
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import event

from tunebook.core.states import TrialState
from tunebook.storage import SQLStore, open_store
from tunebook.testing.storage import SPEC, StoreConformance, claim


class TestSQLiteStore(StoreConformance):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def sqlite_store(tmp_path: Path):
    with SQLStore(str(tmp_path / "store.db")) as store:
        yield store


def _pragma(store: SQLStore, name: str) -> object:
    with store.engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_connections_are_set_up_for_many_processes(sqlite_store: SQLStore) -> None:
    assert _pragma(sqlite_store, "journal_mode") == "wal"
    assert _pragma(sqlite_store, "synchronous") == 1  # NORMAL
    assert _pragma(sqlite_store, "foreign_keys") == 1
    assert _pragma(sqlite_store, "busy_timeout") == 30_000


def test_bare_path_makes_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("runs/deep/x.db") as store:
        assert store.url == f"sqlite:///{tmp_path / 'runs/deep/x.db'}"
        store.ensure_experiment("exp", SPEC)
    assert (tmp_path / "runs/deep/x.db").is_file()


def _hold_write_lock(path: Path, seconds: float, locked: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO notes (experiment_id, text, created_at) VALUES (1, 'x', '2024-01-01 00:00:00')")
    locked.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


def test_writers_wait_for_the_lock_and_readers_do_not(tmp_path: Path, sqlite_store: SQLStore) -> None:
    experiment = sqlite_store.ensure_experiment("exp", SPEC)
    study = sqlite_store.ensure_study(experiment.id, "joint", {}, budget=1)
    locked = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(tmp_path / "store.db", 2.0, locked))
    holder.start()
    locked.wait(5)
    start = time.perf_counter()
    assert [e.name for e in sqlite_store.list_experiments()] == ["exp"]
    assert time.perf_counter() - start < 1.0  # WAL: a reader does not wait for the 2 s write lock
    assert claim(sqlite_store, study.id).number == 0  # waits for the lock (busy timeout)
    assert time.perf_counter() - start > 1.5
    holder.join()
    assert [n.text for n in sqlite_store.list_notes(experiment.id)] == ["x"]


def _claim_and_finish(store: SQLStore, count: int) -> list[float]:
    experiment = store.ensure_experiment("speed", SPEC)
    study = store.ensure_study(experiment.id, "joint", {}, budget=count)
    durations = []
    for _ in range(count):
        start = time.perf_counter()
        trial = claim(store, study.id)
        store.finish_trial(trial.id, TrialState.COMPLETE, objective=1.0)
        durations.append(time.perf_counter() - start)
    assert claim(store, study.id) is None
    return durations


def test_claiming_and_finishing_read_trials_through_indexes(sqlite_store: SQLStore) -> None:
    """Every statement a claim and a finish send is planned without a whole-table read of trials or curves.

    The statements are the ones the store really sends (recorded from its engine), explained with their
    parameters; a full scan there is what makes claims slow down as a study grows (timing it is the
    benchmark's job, tests only check the plan)."""
    experiment = sqlite_store.ensure_experiment("plans", SPEC)
    study = sqlite_store.ensure_study(experiment.id, "joint", {}, budget=300)
    for _ in range(200):  # a study with history, so the planner has something to skip
        sqlite_store.finish_trial(claim(sqlite_store, study.id).id, TrialState.COMPLETE, objective=1.0)
    sent: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")) and not executemany:
            sent.append((statement, parameters))

    event.listen(sqlite_store.engine, "before_cursor_execute", record)
    try:
        trial = claim(sqlite_store, study.id)
        sqlite_store.finish_trial(trial.id, TrialState.COMPLETE, objective=1.0)
    finally:
        event.remove(sqlite_store.engine, "before_cursor_execute", record)
    assert any("trials" in statement for statement, _ in sent)
    scans, next_waiting = [], []
    with sqlite3.connect(sqlite_store.url.removeprefix("sqlite:///")) as conn:
        for statement, parameters in sent:
            plan = [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            scans += [(statement, step) for step in plan
                      if step.startswith("SCAN") and step.split()[1] in {"trials", "curve_chunks"}]
            if "trials.state = ? ORDER BY trials.number" in statement:
                next_waiting += plan
    assert not scans, scans
    # the claim finds the study's next waiting trial by (study, state) in the index, not among all its trials
    assert any("study_id=? AND state=?" in step for step in next_waiting), next_waiting


@pytest.mark.slow
def test_claim_rate_is_flat_over_5000_trials(sqlite_store: SQLStore) -> None:
    """The median claim+finish of the last 1,000 trials is within twice that of the first 1,000.

    Medians, not sums or rates: a burst of other work on a shared machine moves a sum by seconds and a
    median by nothing, while a claim that reads the whole study grows every one of the last 1,000."""
    durations = _claim_and_finish(sqlite_store, 5000)
    first, last = statistics.median(durations[:1000]), statistics.median(durations[-1000:])
    print(f"\n5000 claim+finish: {5000 / sum(durations):.0f} trials/s; median first 1000 {first * 1e3:.2f} ms, "
          f"last 1000 {last * 1e3:.2f} ms")
    assert last < 2 * first


def _log_grid(store: SQLStore, trials: int, steps: int, flushes: int) -> list[int]:
    """``trials`` trials with curves a, b, c over ``steps`` steps; value = id + step / 1e4 (+1 for b, +2 for c)."""
    experiment = store.ensure_experiment("grid", SPEC)
    study = store.ensure_study(experiment.id, "joint", {}, budget=trials)
    ids = []
    for _ in range(trials):
        trial_id = claim(store, study.id).id
        for part in np.array_split(np.arange(steps), flushes):
            base = trial_id + part / 1e4
            store.log_curves(trial_id, {"a": (part, base), "b": (part, base + 1), "c": (part, base + 2)})
        ids.append(trial_id)
    return ids


def _check_grid(frame, ids: list[int], steps: int) -> None:
    assert frame.shape == (len(ids) * steps * 3, 4)
    assert frame["metric"].cat.categories.tolist() == ["a", "b", "c"]
    rows = [0, steps + 7, len(frame) - 1]
    expected = [(ids[0], "a", 0, ids[0]), (ids[0], "b", 7, ids[0] + 1 + 7e-4)]
    expected.append((ids[-1], "c", steps - 1, ids[-1] + 2 + (steps - 1) / 1e4))
    for row, (trial_id, metric, step, value) in zip(rows, expected):
        got = frame.iloc[row]
        assert (got.trial_id, got.metric, got.step) == (trial_id, metric, step)
        assert got.value == pytest.approx(value, abs=1e-12)
    assert (np.diff(frame["trial_id"].to_numpy()) >= 0).all()


def test_curves_of_many_trials_load_in_order(sqlite_store: SQLStore) -> None:
    ids = _log_grid(sqlite_store, trials=100, steps=1000, flushes=4)
    _check_grid(sqlite_store.load_curves(experiment_id=sqlite_store.get_experiment("grid").id), ids, 1000)


@pytest.mark.slow
def test_thirty_million_points_load_in_seconds(sqlite_store: SQLStore) -> None:
    start = time.perf_counter()
    ids = _log_grid(sqlite_store, trials=10_000, steps=1000, flushes=2)
    written = time.perf_counter() - start
    start = time.perf_counter()
    frame = sqlite_store.load_curves(experiment_id=sqlite_store.get_experiment("grid").id)
    loaded = time.perf_counter() - start
    print(f"\n30M points: written in {written:.1f} s, loaded in {loaded:.2f} s")
    _check_grid(frame, ids, 1000)
    assert loaded < 30


def _finish_in_forked_child(store: SQLStore, trial_id: int) -> None:
    store.log_curves(trial_id, {"loss": ([0], [1.5])})
    store.finish_trial(trial_id, TrialState.COMPLETE, objective=1.5)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_uses_its_own_connections(sqlite_store: SQLStore) -> None:
    experiment = sqlite_store.ensure_experiment("exp", SPEC)
    study = sqlite_store.ensure_study(experiment.id, "joint", {}, budget=2)
    trial = claim(sqlite_store, study.id)  # the parent now holds pooled connections
    child = multiprocessing.get_context("fork").Process(target=_finish_in_forked_child, args=(sqlite_store, trial.id))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert sqlite_store.get_trial(trial.id).objective == 1.5
    assert claim(sqlite_store, study.id).number == 1  # the parent's connections still work


def test_a_trials_notes_go_with_it(sqlite_store: SQLStore) -> None:
    """notes.trial_id cascades: a trial removed from the store takes its notes, not the experiment's."""
    from sqlalchemy import text

    experiment = sqlite_store.ensure_experiment("exp", SPEC)
    study = sqlite_store.ensure_study(experiment.id, "joint", {}, budget=2)
    trial = sqlite_store.claim_trial(study.id, "w", lambda n: {"lr": 0.1})
    sqlite_store.add_note(experiment.id, "kept")
    sqlite_store.add_note(experiment.id, "goes", trial_id=trial.id)
    with sqlite_store.engine.begin() as conn:
        conn.execute(text("DELETE FROM trials WHERE id = :id"), {"id": trial.id})
    assert [n.text for n in sqlite_store.list_notes(experiment.id)] == ["kept"]
    assert sqlite_store.list_trial_notes(experiment.id) == []
