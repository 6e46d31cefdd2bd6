"""Store URLs: defaults, paths, schemes, and the errors for everything else."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tunebook.core.errors import MissingExtraError, StoreError
from tunebook.storage import default_store_url
from tunebook.storage.url import command_url, display_url, engine_url, normalize_url


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TUNEBOOK_STORE", raising=False)


def test_default_is_tunebook_db_here(tmp_path: Path) -> None:
    assert default_store_url() == f"sqlite:///{tmp_path / 'tunebook.db'}"
    assert normalize_url(None) == f"sqlite:///{tmp_path / 'tunebook.db'}"


def test_environment_beats_default_and_argument_beats_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEBOOK_STORE", "env/store.db")
    assert normalize_url(None) == f"sqlite:///{tmp_path / 'env/store.db'}"
    assert normalize_url("postgresql://u@h/db") == "postgresql://u@h/db"


@pytest.mark.parametrize(
    ("given", "relative"),
    [
        ("runs/x.db", "runs/x.db"),
        ("sqlite:///runs/y.db", "runs/y.db"),
        ("./a/../b.db", "b.db"),
    ],
)
def test_sqlite_paths_become_absolute_with_their_folder(given: str, relative: str, tmp_path: Path) -> None:
    url = normalize_url(given)
    assert url == f"sqlite:///{tmp_path / relative}"
    assert (tmp_path / relative).parent.is_dir()


def test_absolute_sqlite_url_keeps_its_query(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}?timeout=5"
    assert normalize_url(url) == url
    assert engine_url(url).query == {"timeout": "5"}


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgres_urls_use_psycopg(scheme: str) -> None:
    url = normalize_url(f"{scheme}://bob:pw@db.example:5433/runs")
    assert url == "postgresql://bob:pw@db.example:5433/runs"
    sa_url = engine_url(url)
    assert (sa_url.drivername, sa_url.host, sa_url.port, sa_url.database) == ("postgresql+psycopg", "db.example", 5433, "runs")


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    with pytest.raises(MissingExtraError, match=r"tunebook\[postgres\]"):
        engine_url("postgresql://u@h/db")


@pytest.mark.parametrize("url", ["mysql://u:secret@h/db", "redis://h", "sqlite+pysqlcipher:///x.db"])
def test_unknown_schemes_are_refused_without_password(url: str) -> None:
    with pytest.raises(StoreError, match="unsupported store URL") as caught:
        normalize_url(url)
    assert "secret" not in str(caught.value)
    assert url.split("://")[0] in str(caught.value)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_is_refused(url: str) -> None:
    with pytest.raises(StoreError, match="in-memory"):
        normalize_url(url)


def test_display_hides_password() -> None:
    assert display_url("postgresql://u:pw@h:1/db") == "postgresql://u:***@h:1/db"
    assert display_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_importing_storage_does_not_import_pandas() -> None:
    import subprocess

    code = "import sys, tunebook.storage; assert 'pandas' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_printed_command_carries_a_runnable_url_without_the_password() -> None:
    # '***' would make the printed command fail; without a password psycopg reads PGPASSWORD or ~/.pgpass
    assert command_url("postgresql://u:pw@h:1/db") == "postgresql://u@h:1/db"
    assert "pw" not in command_url("postgresql+psycopg://u:pw@h/db?sslmode=require")
    assert command_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert command_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
