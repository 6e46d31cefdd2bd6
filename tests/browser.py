"""The headless Chromium every browser test drives: the system's ``/usr/bin/chromium`` through playwright
(never ``playwright install``). Missing pieces skip the test, or fail it when ``TUNEBOOK_REQUIRE_BROWSER``
is set (CI sets it, so the browser tests cannot pass by being skipped)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def missing(why: str) -> None:
    """Skip, or fail when the browser is required, saying what is missing."""
    if os.environ.get("TUNEBOOK_REQUIRE_BROWSER"):
        pytest.fail(f"TUNEBOOK_REQUIRE_BROWSER is set but {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser():
    """One launched Chromium for the module."""
    if not os.path.exists(CHROMIUM):
        missing(f"no chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield launched
        launched.close()
