"""The Live API over a store another process writes: only what changed since the cursor comes back, and a
running trial's new points arrive with ``after``; the store's own change and count queries agree with its trials."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.ui import stores
from tests.ui.conftest import client_for
from tunebook.core.states import TrialState
from tunebook.storage import open_store


def test_a_poll_returns_only_trials_changed_since_the_cursor(tmp_path, monkeypatch):
    import tunebook.ui.live as live

    monkeypatch.setattr(live, "LAG_S", 0.0)  # the cursor at the read itself, so "nothing changed" is exact
    url = f"sqlite:///{tmp_path / 'live.db'}"
    with open_store(url) as store:
        running = stores.running_trial(store)
        store.log_curves(running.id, {"valid/loss": ([0, 1], [1.0, 0.9])})
    client = client_for(url, tmp_path)
    first = client.get("/api/live", params={"name": "live"}).json()
    assert [t["trial"] for t in first["changed"]] == ["depth=1/0"] and first["counts"] == {"running": 1}
    time.sleep(0.05)
    quiet = client.get("/api/live", params={"name": "live", "since": first["cursor"]}).json()
    assert quiet["changed"] == [] and quiet["total"] == 1
    with open_store(url) as writer:  # the runner: a new trial starts, the first one logs and finishes
        second = writer.claim_trial(running.study_id, "w2", lambda n: {"depth": 1, "optimizer": "sgd", "lr": 0.1})
        writer.log_curves(running.id, {"valid/loss": ([2, 3], [0.8, 0.7])})
        writer.finish_trial(running.id, TrialState.COMPLETE, objective=0.7, best_step=3)
    changed = client.get("/api/live", params={"name": "live", "since": quiet["cursor"]}).json()
    assert {t["trial"]: t["state"] for t in changed["changed"]} == {"depth=1/0": "complete", "depth=1/1": "running"}
    assert changed["counts"] == {"complete": 1, "running": 1} and second.number == 1
    grown = client.get("/api/curves", params={"name": "live", "trial": "depth=1/0", "after": 1}).json()
    assert grown["metrics"]["valid/loss"] == {"steps": [2, 3], "values": [0.8, 0.7]} and grown["state"] == "complete"


def test_the_default_cursor_lags_so_a_late_commit_is_never_missed(tmp_path):
    url = f"sqlite:///{tmp_path / 'lag.db'}"
    with open_store(url) as store:
        stores.running_trial(store)
    answer = client_for(url, tmp_path).get("/api/live", params={"name": "live", "limit": 0}).json()
    cursor = datetime.fromisoformat(answer["cursor"])
    assert answer["changed"] == [] and datetime.now(timezone.utc) - cursor >= timedelta(seconds=4.9)


def test_the_stores_change_and_count_queries_match_its_trials(tmp_path):
    _check_change_and_count_queries(stores.demo_store(tmp_path / "d.db", tmp_path / "runs"))


@pytest.mark.postgres
def test_the_change_and_count_queries_on_postgresql(postgres_url, tmp_path):
    with open_store(postgres_url) as store:  # the multi-row import too
        stores.import_sweep(store, "demo", stores.spec("demo", 8))
    _check_change_and_count_queries(postgres_url)


def _check_change_and_count_queries(url: str) -> None:
    with open_store(url) as store:
        record = store.get_experiment("demo")
        every = store.list_trials(experiment_id=record.id)
        counts = {}
        for t in every:
            counts[t.state] = counts.get(t.state, 0) + 1
        assert store.count_trials(record.id) == counts
        past = datetime(2000, 1, 1, tzinfo=timezone.utc)
        assert [t.id for t in store.list_trials_changed(record.id, past)] == [t.id for t in every]
        assert store.list_trials_changed(record.id, datetime.now(timezone.utc) + timedelta(seconds=1)) == []
        time.sleep(0.2)
        just_now = datetime.now(timezone.utc)
        store.heartbeat(every[0].id)  # a heartbeat is a change
        assert [t.id for t in store.list_trials_changed(record.id, just_now)] == [every[0].id]
