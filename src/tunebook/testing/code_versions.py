"""Conformance tests for a Store's code versions; subclass with a ``store_url`` fixture, as for ``StoreConformance``."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from tunebook.core.errors import NotFoundError, StoreError
from tunebook.storage import Store, open_store
from tunebook.storage.schema import code_versions
from tunebook.testing.storage import StoreFixtures, assert_recent_utc, params_for, run_in_processes

INFO = {
    "git": {"root": "/src/repo", "commit": "a" * 40, "branch": "main", "dirty": True, "remote": None},
    "python": {"version": "3.11.7", "implementation": "CPython"},
    "packages": {"torch": "2.3.0", "numpy": "1.26.4"},
    "host": "gpu-7",
}
DIFF = "diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-lr = 1\n+lr = 2\n"


def _add(url: str, diff: str) -> int:
    with open_store(url) as store:
        return store.add_code_version(INFO, diff)


def _rows(store: Store) -> int:
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        return conn.execute(select(func.count()).select_from(code_versions)).scalar_one()


class CodeVersionConformance(StoreFixtures):
    """How every Store keeps code versions and links trials to them."""

    def test_round_trip(self, store: Store) -> None:
        version = store.get_code_version(store.add_code_version(INFO, DIFF))
        assert (dict(version.info), version.diff) == (INFO, DIFF)
        canonical = json.dumps({"info": INFO, "diff": DIFF}, sort_keys=True, separators=(",", ":"))
        assert version.digest == hashlib.sha256(canonical.encode()).hexdigest()
        assert (version.commit, version.dirty, version.not_exact) == ("a" * 40, True, [])
        assert_recent_utc(version.created_at)
        clean = store.get_code_version(store.add_code_version({"host": "h"}, None))
        assert (clean.diff, clean.commit, clean.dirty) == (None, None, None)

    def test_identical_versions_share_one_row(self, store: Store) -> None:
        reordered = json.loads(json.dumps(INFO))
        reordered = {key: reordered[key] for key in reversed(list(reordered))}
        first = store.add_code_version(INFO, DIFF)
        assert store.add_code_version(reordered, DIFF) == first
        assert store.add_code_version(INFO, DIFF + "+x = 1\n") != first
        assert store.add_code_version(INFO, None) != first
        assert _rows(store) == 3

    def test_unknown_version_is_not_found(self, store: Store) -> None:
        with pytest.raises(NotFoundError, match="no code version with id 99"):
            store.get_code_version(99)

    def test_unstorable_info_is_refused_and_stores_nothing(self, store: Store) -> None:
        with pytest.raises(StoreError, match="cannot store a code version"):
            store.add_code_version({"host": object()}, None)
        assert _rows(store) == 0

    def test_every_claim_records_the_version_that_runs_it(self, store: Store, study: Any) -> None:
        old, new = store.add_code_version(INFO, DIFF), store.add_code_version(INFO, None)
        first = store.claim_trial(study.id, "w", params_for, code_version_id=old)
        assert first.code_version_id == old == store.get_trial(first.id).code_version_id
        store.release_trial(first.id, reason="interrupted")
        again = store.claim_trial(study.id, "w", params_for, code_version_id=new)
        assert (again.id, again.code_version_id) == (first.id, new)  # re-queued: now produced by the new code
        unknown = store.claim_trial(study.id, "w", params_for)
        assert unknown.code_version_id is None

    def test_processes_adding_one_version_at_once_share_its_row(self, store: Store, store_url: str) -> None:
        ids = run_in_processes(_add, [(store_url, DIFF)] * 6)
        assert len(set(ids)) == 1 and _rows(store) == 1
