"""Conformance tests for a Store's launch log; subclass with a ``store_url`` fixture, as for ``StoreConformance``.

Tampering is done with SQL on ``store.engine``, as a user editing the
database by hand would: every edit, deletion or reordering must be named.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import text

from tunebook.core.errors import ConflictError
from tunebook.storage import SQLStore, open_store
from tunebook.storage.launches import BrokenChainError, entry_hash, verify_chain
from tunebook.testing.storage import run_in_processes


def _three(store: SQLStore, line: str = "main") -> None:
    for n in range(3):
        store.append_launch(line, {"trial": f"exp/default/{n}", "configuration": {"lr": 0.1 * (n + 1)}, "n": n})


def _sql(store: SQLStore, statement: str, **params: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def _append_many(url: str, worker: int, count: int) -> list[int]:
    with open_store(url) as store:
        return [store.append_launch("main", {"worker": worker, "i": i}).seq for i in range(count)]


class LaunchLogConformance:
    """How every Store keeps the launch log: chained, verified, one seq per append."""

    def test_entries_chain_by_sha256_of_previous_hash_and_canonical_json(self, store_url: str) -> None:
        with open_store(store_url) as store:
            first = store.append_launch("main", {"b": [1, 2.5], "a": {"y": None, "x": "é"}})
            second = store.append_launch("main", {"a": 1})
            listed = store.list_launches("main")
        assert [r.seq for r in listed] == [0, 1] and listed == [first, second]
        canonical = '{"a":{"x":"\\u00e9","y":null},"b":[1,2.5]}'
        assert first.prev_hash is None and first.hash == hashlib.sha256(canonical.encode()).hexdigest()
        assert second.prev_hash == first.hash
        assert second.hash == hashlib.sha256((first.hash + '{"a":1}').encode()).hexdigest()
        verify_chain("main", listed)

    def test_lines_are_separate_chains(self, store_url: str) -> None:
        with open_store(store_url) as store:
            assert store.launch_lines() == [] and store.list_launches("main") == []
            store.append_launch("vision", {"n": 0})
            store.append_launch("main", {"n": 0})
            store.append_launch("vision", {"n": 1})
            assert store.launch_lines() == ["vision", "main"]
            assert [r.seq for r in store.list_launches("main")] == [0]
            assert [r.entry["n"] for r in store.list_launches("vision")] == [0, 1]
            with pytest.raises(ValueError, match="a launch line needs a name, got ' '"):
                store.append_launch(" ", {"n": 0})

    def test_an_edited_entry_is_named(self, store_url: str) -> None:
        with open_store(store_url) as store:
            _three(store)
            edited = {"trial": "exp/default/1", "configuration": {"lr": 0.9}, "n": 1}
            _sql(store, "UPDATE launches SET entry = :entry WHERE line = 'main' AND seq = 1",
                 entry=json.dumps(edited))
            with pytest.raises(BrokenChainError, match=r"broken at launch #1: its content does not match its hash: "
                                                       r"it was edited") as caught:
                verify_chain("main", store.list_launches("main"))
            assert caught.value.seq == 1

    def test_an_edit_that_keeps_the_data_but_not_the_spacing_is_not_tampering(self, store_url: str) -> None:
        with open_store(store_url) as store:
            _three(store)
            spaced = json.dumps({"n": 1, "configuration": {"lr": 0.2}, "trial": "exp/default/1"}, indent=2)
            _sql(store, "UPDATE launches SET entry = :entry WHERE seq = 1", entry=spaced)
            verify_chain("main", store.list_launches("main"))

    def test_an_edit_that_recomputes_its_own_hash_breaks_the_next_link(self, store_url: str) -> None:
        with open_store(store_url) as store:
            _three(store)
            records = store.list_launches("main")
            forged = {**records[1].entry, "configuration": {"lr": 0.9}}
            _sql(store, "UPDATE launches SET entry = :entry, hash = :hash WHERE seq = 1",
                 entry=json.dumps(forged), hash=entry_hash(records[1].prev_hash, forged))
            with pytest.raises(BrokenChainError, match=r"broken at launch #2: its previous hash is not launch #1's"):
                verify_chain("main", store.list_launches("main"))

    @pytest.mark.parametrize("seq, named, why", [
        (1, 1, r"it is missing \(the next entry is #2\): deleted"),
        (0, 0, r"it is missing \(the next entry is #1\): deleted"),
    ])
    def test_a_deleted_entry_is_named(self, store_url: str, seq: int, named: int, why: str) -> None:
        with open_store(store_url) as store:
            _three(store)
            _sql(store, "DELETE FROM launches WHERE line = 'main' AND seq = :seq", seq=seq)
            with pytest.raises(BrokenChainError, match=rf"broken at launch #{named}: {why}"):
                verify_chain("main", store.list_launches("main"))

    def test_a_deletion_hidden_by_renumbering_is_named(self, store_url: str) -> None:
        with open_store(store_url) as store:
            _three(store)
            _sql(store, "DELETE FROM launches WHERE seq = 1")
            _sql(store, "UPDATE launches SET seq = 1 WHERE seq = 2")
            with pytest.raises(BrokenChainError, match=r"broken at launch #1: its previous hash is not launch #0's: "
                                                       r"entries were deleted or reordered"):
                verify_chain("main", store.list_launches("main"))

    def test_reordered_entries_are_named(self, store_url: str) -> None:
        with open_store(store_url) as store:
            _three(store)
            _sql(store, "UPDATE launches SET seq = 99 WHERE seq = 1")
            _sql(store, "UPDATE launches SET seq = 1 WHERE seq = 2")
            _sql(store, "UPDATE launches SET seq = 2 WHERE seq = 99")
            with pytest.raises(BrokenChainError, match=r"broken at launch #1: its previous hash is not launch #0's"):
                verify_chain("main", store.list_launches("main"))

    def test_appending_to_a_broken_line_appends_nothing(self, store_url: str) -> None:
        with open_store(store_url) as store:
            _three(store)
            _sql(store, "UPDATE launches SET entry = '{\"n\": 7}' WHERE seq = 2")
            with pytest.raises(BrokenChainError, match="broken at launch #2"):
                store.append_launch("main", {"n": 3})
            assert len(store.list_launches("main")) == 3
            store.append_launch("other", {"n": 0})  # other lines are untouched by one line's damage

    def test_concurrent_appends_get_one_seq_each_and_one_chain(self, store_url: str) -> None:
        open_store(store_url).close()  # the schema exists before the racers start
        workers, each = 4, 5
        got = run_in_processes(_append_many, [(store_url, w, each) for w in range(workers)])
        seqs = sorted(s for per_worker in got for s in per_worker)
        assert seqs == list(range(workers * each))  # exactly one append got each seq
        with open_store(store_url) as store:
            records = store.list_launches("main")
        verify_chain("main", records)  # and each is chained to the one before it
        assert sorted((r.entry["worker"], r.entry["i"]) for r in records) == [(w, i) for w in range(workers)
                                                                              for i in range(each)]

    def test_an_append_that_expects_a_seq_already_taken_appends_nothing(self, store_url: str) -> None:
        with open_store(store_url) as store:
            store.append_launch("main", {"n": 0}, expect_seq=0)
            with pytest.raises(ConflictError, match=r"line 'main' changed while this launch was prepared: its newest "
                                                    r"launch is now #0 \(\?\), so this one would be #1, not #0"):
                store.append_launch("main", {"n": 1}, expect_seq=0)
            assert [r.entry for r in store.list_launches("main")] == [{"n": 0}]
            assert store.append_launch("main", {"n": 1}, expect_seq=1).seq == 1
