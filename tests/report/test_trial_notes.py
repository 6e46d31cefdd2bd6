"""A trial's notes (``tunebook note --trial``) in the report's trial table, on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ui import stores
from tunebook.analysis import load
from tunebook.report.trial_table import trials_section
from tunebook.storage import open_store


def _table(html: str) -> dict:
    payload = html.split("<script type='application/json' class='trial-rows'>")[1].split("</script>")[0]
    return json.loads(payload)


def test_a_trials_notes_get_a_column_only_when_some_trial_has_one(tmp_path: Path) -> None:
    url = stores.demo_store(tmp_path / "demo.db", tmp_path / "runs")
    assert ">notes<" not in trials_section(load("demo", url, metrics=()))
    with open_store(url) as store:
        record = store.get_experiment("demo")
        study = next(s for s in store.list_studies(record.id) if s.key == "depth=2")
        trial = store.trial_by_number(study.id, 1)
        store.add_note(record.id, "lr too high <b>here</b>", trial_id=trial.id)
        store.add_note(record.id, "rerun with warmup", trial_id=trial.id)
    data = load("demo", url, metrics=())
    html = trials_section(data)
    assert ">notes<" in html and "<b>here</b>" not in html  # escaped
    table = _table(html)
    names, notes = table["cells"][0], table["cells"][-2]  # the notes column sits before the reason
    cell = notes[names.index("depth=2/1")]
    assert cell == {"t": "lr too high <b>here</b> · rerun with warmup", "h": "lr too high <b>here</b> · rerun with warmup"}
    assert all(c == "" for name, c in zip(names, notes) if name != "depth=2/1")
    # the experiment's own notes (the spec's, then tunebook note's), without the trial's
    assert [text for _, text in data.notes] == ["first round: depth 1 vs 2", "lr range looks right"]
