"""The launch log on a real SQLite file and a real PostgreSQL server: the conformance suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunebook.testing.launches import LaunchLogConformance


class TestSQLiteLaunchLog(LaunchLogConformance):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.mark.postgres
class TestPostgresLaunchLog(LaunchLogConformance):
    @pytest.fixture
    def store_url(self, postgres_url: str) -> str:
        return postgres_url
