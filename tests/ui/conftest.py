"""Fixture stores and a TestClient per store, shared within a module (each store is written once)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.ui import stores

BASE = "http://127.0.0.1:8765"


def client_for(url: str, runs: Path, allow_write: bool = False) -> Any:
    """A TestClient of ``tunebook ui`` over the store at ``url`` (Host 127.0.0.1:8765, as a browser sends it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    from tunebook.storage import open_store
    from tunebook.ui import create_app

    store = open_store(url)
    return TestClient(create_app(store, runs, allow_write=allow_write), base_url=BASE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: Any) -> Any:
    """(url, runs folder) of ``stores.demo_store``."""
    folder = tmp_path_factory.mktemp("demo")
    return stores.demo_store(folder / "demo.db", folder / "runs"), folder / "runs"


@pytest.fixture(scope="module")
def client(demo: Any) -> Any:
    """A read-only client over the demo store."""
    url, runs = demo
    return client_for(url, runs)
