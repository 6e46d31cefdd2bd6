"""A judgement that fails in the background (a spec this tunebook cannot read, the worker process killed)
ends in an error the Experiment page shows, never in an endless "computing": the API answers 400 with the
cause, and after ``RETRY_AFTER_S`` a new worker judges again."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

from tests.ui import stores
from tests.ui.conftest import client_for
from tunebook.storage import open_store


def _until_judged(client, path: str, name: str, timeout: float = 120.0):
    """The first answer of ``path`` for experiment ``name`` that is not 202 ("computing"), polled as the page does."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(path, params={"name": name})
        if answer.status_code != 202 or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def test_a_spec_this_tunebook_cannot_read_ends_in_its_error_on_the_page_and_the_api(tmp_path):
    url = stores.demo_store(tmp_path / "s.db", tmp_path / "runs")
    with open_store(url) as store:
        store.ensure_experiment("newer", stores.unreadable_spec("newer"))
    client = client_for(url, tmp_path / "runs")
    page = client.get("/experiment", params={"name": "newer"})
    assert page.status_code == 200 and "cannot read the experiment's spec" in page.text
    assert "nuisance.lr.scale: must be linear or log, got &#39;cubic&#39;" in page.text
    assert "newer" in client.get("/api/experiments").json()["experiments"][-1]["experiment"]  # the spreadsheet too
    for path in ("/api/analysis", "/api/figures"):
        answer = _until_judged(client, path, "newer")
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["error"].startswith("could not judge experiment 'newer': invalid experiment spec: "
                                                 "nuisance.lr.scale"), answer.json()
    client.close()


def test_a_killed_judging_worker_is_reported_then_replaced_by_a_new_one(tmp_path, monkeypatch):
    import tunebook.ui.context as context

    url = stores.demo_store(tmp_path / "s.db", tmp_path / "runs")
    client = client_for(url, tmp_path / "runs")
    before = {p.pid for p in multiprocessing.active_children()}
    assert client.get("/api/analysis", params={"name": "demo"}).status_code == 202
    deadline = time.monotonic() + 30
    while not (started := {p.pid for p in multiprocessing.active_children()} - before):
        assert time.monotonic() < deadline, "no worker process started"
        time.sleep(0.02)
    os.kill(started.pop(), signal.SIGKILL)  # the OOM killer, or a user's kill -9
    answer = _until_judged(client, "/api/analysis", "demo")
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("could not judge experiment 'demo': the worker process stopped while "
                                             "working on it (killed, or out of memory?)"), answer.json()
    assert client.get("/api/analysis", params={"name": "demo"}).status_code == 400  # the same, until RETRY_AFTER_S
    monkeypatch.setattr(context, "RETRY_AFTER_S", 0.0)
    again = _until_judged(client, "/api/analysis", "demo")
    assert again.status_code == 200 and again.json()["findings"], again.text  # a new worker judged it
    client.close()
