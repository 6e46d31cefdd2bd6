"""``record_import``: all or nothing when the store fails midway, on real SQLite and PostgreSQL stores."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, text

from tests.importing.helpers import planted_sweep
from tunebook.core.errors import ConflictError, StoreError
from tunebook.importing import ImportPlan, build_plan, read_runs, record_import
from tunebook.storage import SQLStore, open_store
from tunebook.testing.storage import InterruptingValues

TABLES = ("experiments", "studies", "trials", "curve_chunks")


def sweep_plan(root: Path, steps: int = 6) -> ImportPlan:
    """12 runs of the planted sweep; with ``steps`` > 6 each run also logs a long ``grad_norm`` curve."""
    planted_sweep(root)
    runs = read_runs(root, "hparams.json", "eval.csv", "global_step")
    if steps > 6:
        grad = (tuple(range(steps)), tuple(np.linspace(1.0, 2.0, steps)))
        runs = [dataclasses.replace(run, curves={**run.curves, "grad_norm": grad}) for run in runs]
    return build_plan(runs, name="old-sweep", objective="eval_loss", source=str(root))


def with_curve(plan: ImportPlan, index: int, metric: str, values: Any) -> ImportPlan:
    """``plan`` with the ``index``-th trial's ``metric`` curve holding ``values`` (steps 0, 1)."""
    trials = list(plan.trials)
    run = trials[index].run
    trials[index] = dataclasses.replace(trials[index], run=dataclasses.replace(
        run, curves={**run.curves, metric: ((0, 1), values)}))
    return dataclasses.replace(plan, trials=tuple(trials))


def row_counts(url: str) -> dict[str, int]:
    with SQLStore(url) as store, store.engine.connect() as conn:
        return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in TABLES}


def assert_complete(url: str) -> None:
    with open_store(url) as store:
        record = store.get_experiment("old-sweep")
        trials = store.list_trials(experiment_id=record.id)
        assert len(trials) == 12 and {t.state.value for t in trials} == {"complete"}
        assert set(store.load_curves(experiment_id=record.id)["metric"]) >= {"eval_loss", "train_loss"}


def full_disk(url: str, spare_pages: int) -> SQLStore:
    """The store at ``url`` on a "disk" that holds ``spare_pages`` more pages: SQLite's own SQLITE_FULL."""
    store = SQLStore(url)
    with store.engine.connect() as conn:
        limit = conn.exec_driver_sql("PRAGMA page_count").scalar() + spare_pages
    event.listen(store.engine, "connect", lambda dbapi, _: dbapi.execute(f"PRAGMA max_page_count = {limit}"))
    store.engine.dispose()  # connections from now on have the limit
    return store


def curve_inserts(store: SQLStore) -> list[str]:
    """The curve INSERT statements ``store`` sends from now on, one per trial with curves (grows as it sends them).

    Trials themselves go in as one multi-row INSERT (storage/finished.py), so
    the curves show how far the import got."""
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO curve_chunks"):
            sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    return sent


def test_disk_full_midway_leaves_nothing_and_a_rerun_succeeds(tmp_path: Path) -> None:
    plan = sweep_plan(tmp_path / "sweep", steps=4000)  # each run ~64 KB of curves: ~16 pages
    url = f"sqlite:///{tmp_path / 'tb.db'}"
    with full_disk(url, spare_pages=60) as store:
        curves_written = curve_inserts(store)
        with pytest.raises(StoreError) as caught:
            record_import(store, plan)
    assert 1 < len(curves_written) < 12  # the disk filled up midway
    message = str(caught.value)
    assert "full" in message and "importing experiment 'old-sweep'" in message
    assert "nothing was written to the store: run the same import again" in message
    assert row_counts(url) == dict.fromkeys(TABLES, 0)
    with open_store(url) as store:  # room again: the same import goes through
        counts = record_import(store, plan)
    assert counts == {"default": {"complete": 12}}
    assert_complete(url)


def test_ctrl_c_while_writing_curves_leaves_nothing(tmp_path: Path) -> None:
    plan = sweep_plan(tmp_path / "sweep")
    interrupted = with_curve(plan, 7, "train_loss", InterruptingValues(lambda: None))  # the 8th run of 12
    url = f"sqlite:///{tmp_path / 'tb.db'}"
    with open_store(url) as store:
        with pytest.raises(KeyboardInterrupt):
            record_import(store, interrupted)
        assert row_counts(url) == dict.fromkeys(TABLES, 0)
        record_import(store, plan)
    assert_complete(url)


class RacingStore(SQLStore):
    """Another writer creates the experiment between the import's check and its write."""

    def import_experiment(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with open_store(self.url) as other:
            record = other.ensure_experiment(name, {"goal": "theirs"})
            other.add_note(record.id, "their own work")
        return super().import_experiment(name, *args, **kwargs)


def test_an_experiment_created_meanwhile_is_left_alone(tmp_path: Path) -> None:
    plan = sweep_plan(tmp_path / "sweep")
    with RacingStore(str(tmp_path / "tb.db")) as store:
        with pytest.raises(ConflictError, match="'old-sweep' already exists in this store; nothing was imported"):
            record_import(store, plan)
        theirs = store.get_experiment("old-sweep")
        assert dict(theirs.spec) == {"goal": "theirs"}
        assert [n.text for n in store.list_notes(theirs.id)] == ["their own work"]
        assert store.list_studies(theirs.id) == []


class DroppedConnection(InterruptingValues):
    """Curve values whose reading kills the importing PostgreSQL session, then reads fine."""

    def __init__(self, url: str) -> None:
        super().__init__(lambda: None)
        self.url = url

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        with SQLStore(self.url) as other, other.engine.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        return np.array([1.0, 0.5], dtype=dtype)


@pytest.mark.postgres
def test_postgres_connection_dropped_midway_leaves_nothing(tmp_path: Path, postgres_url: str) -> None:
    plan = sweep_plan(tmp_path / "sweep")
    dropped = with_curve(plan, 5, "train_loss", DroppedConnection(postgres_url))
    with open_store(postgres_url) as store:
        with pytest.raises(StoreError, match="nothing was written to the store: run the same import again"):
            record_import(store, dropped)
    assert row_counts(postgres_url) == dict.fromkeys(TABLES, 0)
    with open_store(postgres_url) as store:
        record_import(store, plan)
    assert_complete(postgres_url)
