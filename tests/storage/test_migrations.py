"""Schema versions on SQLite and PostgreSQL: create, upgrade in order, refuse newer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from tunebook.core.errors import StoreError
from tunebook.storage import SQLStore, migrations
from tunebook.storage.schema import SCHEMA_VERSION
from tunebook.testing.storage import SPEC


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


def _version(store: SQLStore) -> int | None:
    with store.engine.connect() as conn:
        return migrations.read_version(conn)


def _set_version(store: SQLStore, version: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE tunebook_meta SET value = :v WHERE key = 'schema_version'"), {"v": str(version)})


def _add_tags(conn: Connection) -> None:
    conn.execute(text("CREATE TABLE tags (trial_id INTEGER, tag TEXT)"))
    conn.execute(text("INSERT INTO tags VALUES (0, 'from step 2')"))


def _add_color(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE tags ADD COLUMN color TEXT"))


def _broken(conn: Connection) -> None:
    conn.execute(text("CREATE TABLE half_done (x INTEGER)"))
    raise RuntimeError("step 2 broke")


def test_fresh_store_is_created_at_current_version(url: str) -> None:
    with SQLStore(url) as store:
        assert _version(store) == SCHEMA_VERSION
        with store.engine.connect() as conn:
            rows = conn.execute(text("SELECT key, value FROM tunebook_meta")).all()
    assert [tuple(r) for r in rows] == [("schema_version", str(SCHEMA_VERSION))]


def test_old_store_is_upgraded_step_by_step(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with SQLStore(url) as store:
        store.ensure_experiment("kept", SPEC)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", SCHEMA_VERSION + 2)
    monkeypatch.setattr(migrations, "STEPS", [(SCHEMA_VERSION + 2, _add_color), (SCHEMA_VERSION + 1, _add_tags)])
    with SQLStore(url) as store:
        assert _version(store) == SCHEMA_VERSION + 2
        assert store.get_experiment("kept").spec == SPEC
        with store.engine.connect() as conn:
            assert {c["name"] for c in inspect(conn).get_columns("tags")} == {"trial_id", "tag", "color"}
    with SQLStore(url) as store:  # already current: no step runs twice
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM tags")).scalar() == 1


def test_failed_step_leaves_the_store_untouched(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    SQLStore(url).close()
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(migrations, "STEPS", [(SCHEMA_VERSION + 1, _broken)])
    with pytest.raises(RuntimeError, match="step 2 broke"):
        SQLStore(url)
    monkeypatch.undo()
    with SQLStore(url) as store:
        assert _version(store) == SCHEMA_VERSION
        with store.engine.connect() as conn:
            assert not inspect(conn).has_table("half_done")


def test_missing_step_is_an_error(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    SQLStore(url).close()
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", SCHEMA_VERSION + 2)
    monkeypatch.setattr(migrations, "STEPS", [(SCHEMA_VERSION + 2, _add_color)])
    with pytest.raises(StoreError, match=f"no migration from version {SCHEMA_VERSION} to {SCHEMA_VERSION + 1}"):
        SQLStore(url)


def test_newer_store_asks_to_upgrade_tunebook(url: str) -> None:
    with SQLStore(url) as store:
        _set_version(store, SCHEMA_VERSION + 5)
        shown = store.display_url
    expected = (
        f"store at {shown} has schema version {SCHEMA_VERSION + 5}, "
        f"this tunebook knows up to {SCHEMA_VERSION}: upgrade tunebook"
    )
    with pytest.raises(StoreError) as caught:
        SQLStore(url)
    assert str(caught.value) == expected


def test_foreign_tables_are_not_taken_over(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE experiments (whatever TEXT)")
    with pytest.raises(StoreError, match="not a tunebook store"):
        SQLStore(str(path))



def _v1_store(url: str) -> None:
    """A store as tunebook wrote it at schema version 1 (one experiment, study and trial).

    SQLite: ``store_v1.sql``, the dump of a store made by tunebook at v1.
    PostgreSQL: a current store with v2's and v3's tables and columns dropped.
    """
    if url.startswith("sqlite"):
        _load_dump(url, "store_v1.sql")
        return
    with SQLStore(url) as store:
        record = store.ensure_experiment("kept", SPEC)
        study = store.ensure_study(record.id, "default", {}, 2)
        store.claim_trial(study.id, "w", lambda n: {"lr": 0.1})
        with store.engine.begin() as conn:
            for table, column in (("trials", "code_version_id"), ("trials", "suggestion"),
                                  ("studies", "source_trial_id")):
                conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
            for table in ("launches", "code_versions"):
                conn.execute(text(f"DROP TABLE {table}"))
            conn.execute(text("DROP INDEX ix_notes_trial"))  # and v3's
            conn.execute(text("ALTER TABLE notes DROP COLUMN trial_id"))
            conn.execute(text("UPDATE tunebook_meta SET value = '1' WHERE key = 'schema_version'"))


def test_version_1_store_gains_code_versions_launches_and_links(url: str) -> None:
    _v1_store(url)
    with SQLStore(url) as store:
        assert _version(store) == SCHEMA_VERSION  # through v2 and every later step
        record = store.get_experiment("kept")
        (study,) = store.list_studies(record.id)
        (trial,) = store.list_trials(study_id=study.id)
        assert trial.params == {"lr": 0.1} and trial.code_version_id is None and trial.suggestion is None
        assert study.source_trial_id is None
        with store.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    assert {"code_versions", "launches"} <= tables


def _load_dump(url: str, dump: str) -> None:
    """Replay ``dump`` (an SQL dump of a store an older tunebook wrote, next to this file) into the SQLite ``url``."""
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.executescript((Path(__file__).parent / dump).read_text())


def _v2_store(url: str) -> None:
    """A store as tunebook wrote it at schema version 2: experiment ``kept``, study ``depth=1`` of trials 0 and
    1, and four notes, three written the old way ``tunebook ui`` wrote a trial's note (``trial STUDY/NUMBER: ``).

    SQLite: ``store_v2.sql``, the dump of a store made by tunebook at v2 (main at 7cef528).
    PostgreSQL: a current store with v3's column dropped and the same notes.
    """
    if url.startswith("sqlite"):
        _load_dump(url, "store_v2.sql")
        return
    with SQLStore(url) as store:
        record = store.ensure_experiment("kept", SPEC)
        study = store.ensure_study(record.id, "depth=1", {"depth": 1}, 2)
        for lr in (0.1, 0.01):
            store.claim_trial(study.id, "w", lambda n, lr=lr: {"lr": lr})
        with store.engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_notes_trial"))
            conn.execute(text("ALTER TABLE notes DROP COLUMN trial_id"))
            conn.execute(text("UPDATE tunebook_meta SET value = '2' WHERE key = 'schema_version'"))
        with store.engine.begin() as conn:
            for note in ("plain note on the experiment", "trial depth=1/1: lr 0.01 looks best",
                         "trial depth=9/0: a study that does not exist", "trial depth=1/7: a trial that does not exist"):
                conn.execute(text("INSERT INTO notes (experiment_id, text, created_at) VALUES (:e, :t, :at)"),
                             {"e": record.id, "t": note, "at": "2026-12-03 12:00:00"})


def test_version_2_store_gains_trial_notes_and_adopts_the_prefixed_ones(url: str) -> None:
    _v2_store(url)
    with SQLStore(url) as store:
        assert _version(store) == SCHEMA_VERSION
        record = store.get_experiment("kept")
        (study,) = store.list_studies(record.id)
        first, second = store.list_trials(study_id=study.id)
        assert [n.text for n in store.list_notes(record.id, trial_id=second.id)] == ["lr 0.01 looks best"]
        assert store.list_notes(record.id, trial_id=first.id) == []
        assert [n.text for n in store.list_notes(record.id)] == [  # what names no trial of it stays as it was
            "plain note on the experiment", "trial depth=9/0: a study that does not exist",
            "trial depth=1/7: a trial that does not exist"]
        assert [(n.trial_id, n.text) for n in store.list_trial_notes(record.id)] == [(second.id, "lr 0.01 looks best")]
        store.add_note(record.id, "new, on trial 0", trial_id=first.id)
        assert [n.text for n in store.list_notes(record.id, trial_id=first.id)] == ["new, on trial 0"]
