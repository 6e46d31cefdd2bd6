"""The UI's read cache: a stale read is served at once and redone in the background only when the store
says a trial changed, so paging a 50,000-trial table never waits for (or keeps repeating) the full read."""

from __future__ import annotations

import time

from tests.ui import stores
from tunebook.storage import open_store
from tunebook.ui.context import UIContext


def _age(ui: UIContext, name: str, seconds: float) -> None:
    ui._cache[("trials", name)].made -= seconds  # as if read that long ago


def _settled(ui: UIContext, name: str) -> None:
    deadline = time.monotonic() + 30
    while ui._cache[("trials", name)].refreshing and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_stale_read_is_served_at_once_and_redone_only_after_a_change(tmp_path, monkeypatch):
    import tunebook.ui.context as context

    monkeypatch.setattr(context, "CHANGE_LAG_S", 0.0)
    url = stores.demo_store(tmp_path / "c.db", tmp_path / "runs")
    store = open_store(url)
    ui = UIContext(store, tmp_path / "runs", False, url)
    first = ui.trials("demo")
    assert ui.trials("demo") is first  # fresh: the same read
    time.sleep(0.05)
    _age(ui, "demo", 3600)
    assert ui.trials("demo") is first  # stale: served at once, checked in the background
    _settled(ui, "demo")
    assert ui.trials("demo") is first  # nothing changed in the store: not read again
    trial = store.list_trials(experiment_id=store.get_experiment("demo").id)[0]
    store.heartbeat(trial.id)
    _age(ui, "demo", 3600)
    assert ui.trials("demo") is first
    _settled(ui, "demo")
    assert ui.trials("demo") is not first  # a trial changed: read anew
    store.close()
