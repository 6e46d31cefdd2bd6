"""Safe by default: Host header (DNS rebinding), security headers, read-only unless --allow-write, CSRF and
Origin checks on writes, a concurrent note edit answered 409, every user text escaped in the HTML."""

from __future__ import annotations

import re

import pytest

from tests.ui import stores
from tests.ui.conftest import client_for
from tunebook.storage import open_store


def _note_texts(url: str, name: str = "demo") -> list[str]:
    with open_store(url) as store:
        return [n.text for n in store.list_notes(store.get_experiment(name).id)]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.evil.example", "10.0.0.8:8765"])
def test_other_hosts_are_refused_dns_rebinding(client, host):
    answer = client.get("/api/experiments", headers={"host": host})
    assert answer.status_code == 400 and "is not served here" in answer.text and "demo" not in answer.text


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765", "localhost"])
def test_local_hosts_are_served_with_a_strict_content_security_policy(client, host):
    answer = client.get("/", headers={"host": host})
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert answer.headers["x-frame-options"] == "DENY"


def test_read_only_refuses_notes_and_leaves_the_store_untouched(client, demo):
    before = _note_texts(demo[0])
    answer = client.post("/api/notes", data={"name": "demo", "text": "hi", "seen": "0"})
    assert answer.status_code == 403 and "read-only" in answer.json()["error"]
    assert _note_texts(demo[0]) == before
    assert "note-form" not in client.get("/experiment", params={"name": "demo"}).text


@pytest.fixture()
def writable(tmp_path):
    url = stores.demo_store(tmp_path / "w.db", tmp_path / "runs")
    client = client_for(url, tmp_path / "runs", allow_write=True)
    page = client.get("/experiment", params={"name": "demo"}).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    seen = re.search(r'name="seen" value="(\d+)"', page).group(1)
    return url, client, token, seen


def test_a_note_needs_the_csrf_token_and_this_origin(writable):
    url, client, token, seen = writable
    before = _note_texts(url)
    form = {"name": "demo", "text": "sneaky", "seen": seen}
    assert client.post("/api/notes", data=form).status_code == 403
    assert client.post("/api/notes", data={**form, "csrf_token": "wrong"}).status_code == 403
    other = client.post("/api/notes", data={**form, "csrf_token": token}, headers={"origin": "http://evil.example"})
    assert other.status_code == 403 and "another site" in other.json()["error"]
    assert _note_texts(url) == before
    added = client.post("/api/notes", data={**form, "text": "depth 2 wins", "csrf_token": token},
                        headers={"origin": "http://127.0.0.1:8765"})
    assert added.status_code == 201 and _note_texts(url) == before + ["depth 2 wins"]


def test_a_concurrent_note_gets_a_clear_409_and_nothing_is_overwritten(writable):
    url, client, token, seen = writable
    with open_store(url) as store:  # a colleague (tunebook note) writes after this page was loaded
        store.add_note(store.get_experiment("demo").id, "theirs: try lr 0.03")
    before = _note_texts(url)
    answer = client.post("/api/notes", data={"name": "demo", "text": "mine", "seen": seen, "csrf_token": token})
    assert answer.status_code == 409
    body = answer.json()
    assert "conflict" in body["error"] and "NOT saved" in body["error"]
    assert [n["text"] for n in body["newer"]] == ["theirs: try lr 0.03"]
    assert _note_texts(url) == before
    again = client.post("/api/notes", data={"name": "demo", "text": "mine", "seen": body["latest"],
                                            "csrf_token": token})
    assert again.status_code == 201 and _note_texts(url) == before + ["mine"]


def test_trial_notes_are_kept_apart_and_bad_notes_are_refused(writable):
    url, client, token, _ = writable
    ok = client.post("/api/notes", data={"name": "demo", "trial": "depth=1/0", "text": "best curve", "seen": "0",
                                         "csrf_token": token})
    assert ok.status_code == 201
    trial_page = client.get("/trial", params={"name": "demo", "trial": "depth=1/0"}).text
    assert "best curve" in trial_page
    assert "best curve" not in client.get("/experiment", params={"name": "demo"}).text
    with open_store(url) as store:  # stored on the trial (notes.trial_id), not as an experiment note
        record = store.get_experiment("demo")
        (study,) = [s for s in store.list_studies(record.id) if s.key == "depth=1"]
        trial = store.trial_by_number(study.id, 0)
        assert [n.text for n in store.list_notes(record.id, trial_id=trial.id)] == ["best curve"]
        store.add_note(record.id, "from tunebook note --trial", trial_id=trial.id)
    assert "best curve" not in _note_texts(url)
    assert "from tunebook note --trial" in client.get("/trial", params={"name": "demo", "trial": "depth=1/0"}).text
    missing = client.post("/api/notes", data={"name": "demo", "trial": "depth=1/999", "text": "x", "seen": "0",
                                              "csrf_token": token})
    assert missing.status_code == 404 and "has no trial 'depth=1/999'" in missing.text
    empty = client.post("/api/notes", data={"name": "demo", "text": "  ", "seen": "0", "csrf_token": token})
    assert empty.status_code == 400 and "'text' is empty" in empty.json()["error"]
    unknown = client.post("/api/notes", data={"name": "nope", "text": "x", "seen": "0", "csrf_token": token})
    assert unknown.status_code == 404


def test_every_user_text_is_escaped_in_the_pages(tmp_path):
    url, name = stores.xss_store(tmp_path / "x.db", tmp_path / "runs")
    client = client_for(url, tmp_path / "runs")
    with open_store(url) as store:
        record = store.get_experiment(name)
        trial = store.list_trials(experiment_id=record.id)[0]
        study = {s.id: s.key for s in store.list_studies(record.id)}[trial.study_id]
    pages = [client.get("/"), client.get("/experiment", params={"name": name}),
             client.get("/trial", params={"name": name, "trial": f"{study}/{trial.number}"}),
             client.get("/live", params={"name": name}), client.get("/spec", params={"name": name}),
             client.get("/experiment", params={"name": name + "<b>"})]
    for page in pages:
        assert page.status_code in (200, 404)
        assert "<script>window.__xss" not in page.text and "<img src=x" not in page.text
        assert 'onmouseover="window' not in page.text
    assert "&lt;script&gt;window.__xss=1" in pages[1].text  # shown, as text
    log = client.get("/api/log", params={"name": name, "trial": f"{study}/{trial.number}"}).json()
    assert log["lines"] == ["log line " + stores.XSS]  # JSON data: the page sets it as text


def test_the_cli_refuses_a_missing_store_and_creates_nothing(tmp_path):
    from tunebook.cli.main import main

    missing = tmp_path / "nope.db"
    assert main(["ui", "--store", str(missing)]) == 1
    assert not missing.exists()
