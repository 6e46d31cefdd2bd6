"""Code versions in the store, on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunebook.testing.code_versions import CodeVersionConformance


class TestSQLiteCodeVersions(CodeVersionConformance):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.mark.postgres
class TestPostgresCodeVersions(CodeVersionConformance):
    @pytest.fixture
    def store_url(self, postgres_url: str) -> str:
        return postgres_url
