"""tunebook ui's pages and JSON API over a real SQLite store: what each shows, and the trials table's
server-side sort, filter and pagination checked against the store's own trials."""

from __future__ import annotations

import json
import math

import pytest

from tests.ui.conftest import client_for
from tunebook.core.records import trial_name
from tunebook.core.states import TrialState
from tunebook.storage import open_store


def _trials(url: str, name: str = "demo") -> dict[str, object]:
    with open_store(url) as store:
        record = store.get_experiment(name)
        keys = {s.id: s.key for s in store.list_studies(record.id)}
        return {trial_name(keys[t.study_id], t.number): t for t in store.list_trials(experiment_id=record.id)}


def test_the_spreadsheet_counts_trials_by_state_and_names_the_best(client, demo):
    trials = _trials(demo[0])
    rows = {r["experiment"]: r for r in client.get("/api/experiments").json()["experiments"]}
    assert set(rows) == {"demo", "empty-one"}
    demo_row = rows["demo"]
    for state in ("complete", "infeasible", "failed"):
        assert demo_row[state] == sum(t.state.value == state for t in trials.values()), state
    complete = {n: t.objective for n, t in trials.items() if t.state is TrialState.COMPLETE}
    best = min(complete, key=complete.get)
    assert demo_row["best_objective"] == pytest.approx(complete[best])
    assert demo_row["best_trial"].startswith(best + " (step")
    assert demo_row["studies"] == ["depth=1", "depth=2"] and demo_row["notes"] == ["first round: depth 1 vs 2",
                                                                                   "lr range looks right"]
    assert rows["empty-one"]["trials"] == 0
    page = client.get("/").text
    assert "Experiments" in page and "empty-one" in page


def _page(client, **params):
    answer = client.get("/api/trials", params={"name": "demo", **params})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body, [dict(zip(body["columns"], row)) for row in body["rows"]]


def test_the_trials_table_sorts_on_the_server_with_missing_values_last(client):
    body, rows = _page(client, sort="objective", size=500)
    objectives = [r["objective"] for r in rows]
    scored = [o for o in objectives if o is not None]
    assert scored == sorted(scored) and objectives[:len(scored)] == scored  # None (infeasible, failed) last
    assert len(scored) < len(objectives)
    _, down = _page(client, sort="objective", desc=1, size=500)
    assert [r["objective"] for r in down][:len(scored)] == sorted(scored, reverse=True)
    _, by_lr = _page(client, sort="lr", size=500)
    assert [r["lr"] for r in by_lr] == sorted(r["lr"] for r in by_lr)


def test_the_trials_table_filters_by_state_study_and_range_and_pages_without_overlap(client, demo):
    trials = _trials(demo[0])
    body, infeasible = _page(client, state="infeasible,failed", size=500)
    expected = {n for n, t in trials.items() if t.state.value in ("infeasible", "failed")}
    assert {r["trial"] for r in infeasible} == expected and body["matching"] == len(expected)
    _, study = _page(client, study="depth=2", size=500)
    assert {r["study"] for r in study} == {"depth=2"} and len(study) == sum(n.startswith("depth=2/") for n in trials)
    _, ranged = _page(client, range="lr:0.001:0.1", size=500)
    assert ranged and all(0.001 <= r["lr"] <= 0.1 for r in ranged)
    assert len(ranged) == sum(0.001 <= t.params["lr"] <= 0.1 for t in trials.values())
    seen = []
    for number in range(4):
        body, rows = _page(client, size=5, page=number, sort="lr")
        seen += [r["trial"] for r in rows]
    assert sorted(seen) == sorted(trials) and body["total"] == len(trials)  # 16 trials: pages 0..3 cover them once


@pytest.mark.parametrize("query", [
    "sort=objective", "sort=objective&desc=1&size=7&page=1", "sort=state", "sort=trial&desc=1", "sort=reason",
    "sort=best_step&desc=1&study=depth%3D2", "state=complete,infeasible&range=objective:0.2:0.5&sort=objective",
    "range=attempt::0&sort=attempt&desc=1", "sort=lr", "sort=beta1[optimizer=adam]&desc=1&range=lr:0.001:0.1",
    "sort=depth&desc=1&range=beta1[optimizer=adam]:0.85:", "sort=optimizer&range=lr::0.01",
])
def test_the_stores_pages_are_the_cached_tables_pages(client, demo, query):
    """A page the database sorts, filters and cuts (``Store.page_trials``) holds the same rows, in the same
    order, with the same columns and counts, as the page made from the experiment's trials read whole."""
    from starlette.requests import Request

    from tunebook.analysis import load
    from tunebook.ui.trials_table import columns_of, filtered, page_rows, sorted_rows

    body = client.get(f"/api/trials?name=demo&size=500&{query}").json()
    request = Request({"type": "http", "query_string": query.encode()})
    data = load("demo", demo[0], metrics=())
    size, page = int(request.query_params.get("size", 500)), int(request.query_params.get("page", 0))
    rows = sorted_rows(filtered(data, request), request.query_params["sort"], "desc" in request.query_params, data)
    assert body["columns"] == columns_of(data)
    assert body["rows"] == page_rows(data, rows.iloc[page * size:(page + 1) * size])
    assert body["matching"] == len(rows) and body["total"] == len(data.trials)


def test_the_first_page_is_current_at_once_while_a_run_adds_trials(tmp_path):
    """Served from the store, the table's first page shows a trial the moment it is claimed (no cache)."""
    from tests.ui import stores

    url = stores.demo_store(tmp_path / "demo.db", tmp_path / "runs")
    client = client_for(url, tmp_path / "runs")
    before = client.get("/api/trials", params={"name": "demo", "sort": "state", "state": "running"}).json()
    assert before["matching"] == 0
    with open_store(url) as store:
        study = store.ensure_study(store.get_experiment("demo").id, "depth=3", {"depth": 3}, budget=1)
        store.claim_trial(study.id, "w", lambda n: {"depth": 3, "optimizer": "sgd", "lr": 0.02})
    after = client.get("/api/trials", params={"name": "demo", "sort": "state", "state": "running"}).json()
    assert after["matching"] == 1 and after["total"] == before["total"] + 1
    assert after["rows"][0][:3] == ["depth=3/0", "depth=3", "running"] and "depth=3" in after["studies"]


@pytest.mark.parametrize("params, words", [
    ({"sort": "nope"}, "sort='nope' is not a column"),
    ({"state": "done"}, "state='done' is not a trial state"),
    ({"range": "nope:1:2"}, "range='nope:1:2': no column 'nope'"),
    ({"range": "lr:x:2"}, "range low of lr='x' is not a number"),
    ({"size": "0"}, "size=0 is outside 1..500"),
    ({"page": "two"}, "page='two' is not a whole number"),
])
def test_bad_table_parameters_get_400_naming_the_value(client, params, words):
    answer = client.get("/api/trials", params={"name": "demo", **params})
    assert answer.status_code == 400 and words in answer.json()["error"]


def test_unknown_names_get_404_pages_and_json(client):
    page = client.get("/experiment", params={"name": "nope"})
    assert page.status_code == 404 and "nope" in page.text and "Traceback" not in page.text
    answer = client.get("/api/curves", params={"name": "demo", "trial": "depth=1/99"})
    assert answer.status_code == 404 and "no trial 'depth=1/99'" in answer.json()["error"]
    assert client.get("/api/curves", params={"name": "demo", "trial": "depth=1"}).status_code == 400


def test_the_trial_page_shows_conditional_ids_reason_checkpoint_and_reproduction(client, demo):
    trials = _trials(demo[0])
    adam = next(n for n, t in trials.items() if "beta1[optimizer=adam]" in t.params)
    page = client.get("/trial", params={"name": "demo", "trial": adam}).text
    assert "beta1[optimizer=adam]" in page and "(conditional)" in page
    bad = next(n for n, t in trials.items() if t.state is TrialState.INFEASIBLE)
    page = client.get("/trial", params={"name": "demo", "trial": bad}).text
    assert "diverged: train/loss is inf" in page and "infeasible" in page
    first = client.get("/trial", params={"name": "demo", "trial": "depth=1/0"}).text
    assert "ckpt-290.pt" in first  # the checkpoint
    assert "No command reproduces it: no code version and no spec file recorded." in first  # imported: says so


def test_curves_keep_inf_and_nan_as_json_strings_and_after_sends_only_newer_points(client, demo):
    trials = _trials(demo[0])
    bad = next(n for n, t in trials.items() if t.state is TrialState.INFEASIBLE)
    raw = client.get("/api/curves", params={"name": "demo", "trial": bad}).text
    body = json.loads(raw)  # strict JSON: no bare NaN
    values = body["metrics"]["valid/loss"]["values"]
    assert values[-2:] == ["Infinity", "NaN"] and body["state"] == "infeasible"
    full = client.get("/api/curves", params={"name": "demo", "trial": "depth=1/0"}).json()
    steps = full["metrics"]["valid/loss"]["steps"]
    newer = client.get("/api/curves", params={"name": "demo", "trial": "depth=1/0", "after": steps[-4]}).json()
    assert newer["metrics"]["valid/loss"]["steps"] == steps[-3:] and newer["last_step"] == steps[-1]


def test_a_million_points_come_back_thinned_with_the_spike_kept(tmp_path):
    import numpy as np

    from tests.ui import stores

    url = f"sqlite:///{tmp_path / 'big.db'}"
    with open_store(url) as store:
        trial = stores.running_trial(store)
        steps = np.arange(1_000_000)
        values = 1.0 / (1.0 + steps / 1000.0)
        values[654_321] = 50.0  # one spike in a million points
        store.log_curves(trial.id, {"valid/loss": (steps.tolist(), values.tolist())})
    client = client_for(url, tmp_path)
    body = client.get("/api/curves", params={"name": "live", "trial": "depth=1/0"}).json()
    curve = body["metrics"]["valid/loss"]
    assert len(curve["steps"]) <= 1000 and 654_321 in curve["steps"] and max(curve["values"]) == 50.0
    assert body["last_step"] == 999_999 and body["state"] == "running"


def test_logs_are_tailed_from_the_trial_folder_only(client, demo):
    answer = client.get("/api/log", params={"name": "demo", "trial": "depth=1/0", "lines": 3}).json()
    assert answer["lines"] == ["step 497 loss 0.002", "step 498 loss 0.002", "step 499 loss 0.002"]
    err = client.get("/api/log", params={"name": "demo", "trial": "depth=1/0", "stream": "stderr"}).json()
    assert err["lines"] == ["warning: something odd"]
    missing = client.get("/api/log", params={"name": "demo", "trial": "depth=2/0"}).json()
    assert missing["lines"] == [] and "no stdout.log" in missing["missing"]
    traversal = client.get("/api/log", params={"name": "demo", "trial": "depth=1/0", "stream": "../../etc/passwd"})
    assert traversal.status_code == 400 and "is not stdout or stderr" in traversal.json()["error"]


def test_a_log_symlinked_out_of_the_trial_folder_is_refused(tmp_path):
    from tests.ui import stores

    url = stores.demo_store(tmp_path / "s.db", tmp_path / "runs")
    secret = tmp_path / "secret.txt"
    secret.write_text("do not show\n")
    folder = stores.write_logs(tmp_path / "runs", "demo", "depth=2", 1, "")
    (folder / "stdout.log").unlink()
    (folder / "stdout.log").symlink_to(secret)
    answer = client_for(url, tmp_path / "runs").get("/api/log", params={"name": "demo", "trial": "depth=2/1"}).json()
    assert answer["lines"] == [] and "outside the trial's folder" in answer["missing"]


@pytest.mark.slow  # the judgement runs in a spawned worker process: ~5 s of imports and checklist
def test_the_experiment_page_analysis_and_figures_are_the_reports(client):
    page = client.get("/experiment", params={"name": "demo"}).text
    assert "Does depth 2 beat depth 1?" in page and "lr range looks right" in page
    assert client.get("/api/analysis", params={"name": "demo"}).json()["computing"] is True  # until it is made
    analysis = client.get("/api/analysis", params={"name": "demo", "wait": 1}).json()
    assert analysis["verdict"]["headline"] and {r["group"] for r in analysis["best"]} == {"depth=1", "depth=2"}
    order = {"problem": 0, "warning": 1, "info": 2}
    ranks = [order[f["severity"]] for f in analysis["findings"]]
    assert ranks == sorted(ranks)  # problems first
    figures = client.get("/api/figures", params={"name": "demo"}).json()["figures"]  # made: served at once
    titles = [f["title"] for f in figures]
    assert any(t.startswith("Isolation plot") for t in titles) and any(t.startswith("Training curves") for t in titles)
    assert all(f["figure"]["data"] for f in figures)


def test_plotly_is_served_from_the_installed_package_at_a_url_named_by_its_content(client):
    import hashlib
    import re

    from tunebook.ui.app import plotly_file

    answer = client.get("/static/plotly.min.js")
    assert answer.status_code == 200 and answer.content == plotly_file().read_bytes()
    assert "plotly.js v" in answer.text[:100]
    assert client.get("/static/../app.py").status_code == 404
    named = re.search(r'<meta name="plotly-src" content="([^"]+)">', client.get("/").text).group(1)
    digest = hashlib.sha256(plotly_file().read_bytes()).hexdigest()[:16]
    assert named == f"/static/plotly-{digest}.min.js"
    kept = client.get(named)  # the browser keeps it a year and never asks again: a new plotly is a new URL
    assert kept.content == answer.content and kept.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/static/plotly-0123456789abcdef.min.js").status_code == 404  # another plotly's


def test_the_trial_page_holds_its_text_and_log_tail_and_the_objective_to_four_digits(client, demo):
    from tunebook.core.readable import format_number

    trial = _trials(demo[0])["depth=1/0"]
    page = client.get("/trial", params={"name": "demo", "trial": "depth=1/0"}).text
    shown = format_number(trial.objective)
    assert f'title="{trial.objective!r}">{shown}</b>' in page  # as the report writes it; the full value on hover
    assert len(repr(trial.objective)) > len(shown) and f">{trial.objective!r}<" not in page
    log = page[page.index('<pre id="log"'):page.index("</pre>", page.index('<pre id="log"'))]
    assert log.endswith("step 499 loss 0.002") and "step 300 loss" in log  # before any script runs
    assert "last 200 lines of stdout.log" in page


def test_spec_page_and_empty_experiment(client):
    assert '"goal": "Does depth 2 beat depth 1?"' in client.get("/spec", params={"name": "demo"}).text.replace("&#34;", '"')
    empty = client.get("/experiment", params={"name": "empty-one"})
    assert empty.status_code == 200 and "0 trials" in empty.text
    assert client.get("/api/trials", params={"name": "empty-one"}).json()["rows"] == []
    assert math.isfinite(len(client.get("/api/figures", params={"name": "empty-one", "wait": 1}).json()["figures"]))
