"""The PostgreSQL store: the conformance suite against a real server."""

from __future__ import annotations

import pytest

from tunebook.core.errors import StoreError
from tunebook.storage import SQLStore
from tunebook.testing.storage import StoreConformance


@pytest.mark.postgres
class TestPostgresStore(StoreConformance):
    @pytest.fixture
    def store_url(self, postgres_url: str) -> str:
        return postgres_url


@pytest.mark.postgres
def test_timestamps_are_timezone_aware_columns(postgres_url: str) -> None:
    with SQLStore(postgres_url) as store:
        with store.engine.connect() as conn:
            kind = conn.exec_driver_sql(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'trials' AND column_name = 'started_at'"
            ).scalar()
    assert kind == "timestamp with time zone"


def test_unreachable_server_names_url_without_password() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgres://alice:s3cret@127.0.0.1:{port}/nowhere"
    with pytest.raises(StoreError) as caught:
        SQLStore(url)
    message = str(caught.value)
    assert f"postgresql://alice:***@127.0.0.1:{port}/nowhere" in message
    assert "s3cret" not in message
    assert "refused" in message or "connect" in message
