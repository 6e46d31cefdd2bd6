"""``tunebook status``, ``tunebook trials`` and ``tunebook note`` on a store that ``tunebook run`` filled."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tunebook.cli.status import COLUMNS
from tunebook.storage import SQLStore

from ..execution.harness import run_cli, store_url, write_program, write_spec

# per study: lr 0.1 completes, lr 0.5 diverges (infeasible), lr 0.9 crashes (failed)
TRAIN = """
def train(params, trial):
    if params["lr"] > 0.8:
        raise RuntimeError("out of memory")
    for step in range(3):
        loss = float("nan") if params["lr"] == 0.5 and step == 1 else params["width"] * params["lr"] / (step + 1)
        trial.log(step * 10, {"valid_loss": loss})
"""


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> tuple[Path, str, Path]:
    """(folder, store URL, spec): one experiment of two studies, run to its budget."""
    folder = tmp_path_factory.mktemp("status")
    write_program(folder, "model.py", TRAIN)
    search = {"algorithm": "explicit", "points": [{"lr": 0.1}, {"lr": 0.5}, {"lr": 0.9}]}
    spec = write_spec(folder, {"function": "model:train", "retries": 0}, scientific={"width": [4, 16]},
                      search=search)
    url = store_url(folder)
    done = run_cli("run", str(spec), "--store", url, cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "exp: 6 trial(s) finished (2 failed)." in done.stdout
    return folder, url, spec


def test_status_table_is_the_tracking_spreadsheet(filled):
    folder, url, spec = filled
    done = run_cli("status", "--store", url, cwd=folder)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["exp", "does", "width", "matter?"]
    assert f"  config: {spec}" in lines
    # no git repository here: the code line says what was not recorded; the best trial reruns by name
    assert "  code: not recorded: the spec and the program are in no git repository; only the software and host are" in lines
    assert f"  reproduce: tunebook rerun exp/width=4/0 --store {url} (the best trial)" in lines
    table = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
             for line in lines if line.startswith("│") and "width=" in line}
    assert list(table) == ["width=4", "width=16"]
    for cells, width in zip(table.values(), (4, 16)):
        assert cells[:5] == ["3/3", "1", "1", "1", "0"]  # trials, complete, infeasible, failed, running
        assert float(cells[5]) == pytest.approx(width * 0.1 / 3, rel=1e-3) and cells[6] == f"width={width}/0 (step 20)"


def test_status_csv_has_the_spreadsheet_columns_and_one_row_per_study(filled):
    folder, url, spec = filled
    done = run_cli("status", "--store", url, "--format", "csv", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "experiment,study,goal,notes,config,trials,complete,infeasible,failed,running,stale,"
        "best objective,best trial,code,reproduce"
    )
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["study"] for r in rows] == ["width=4", "width=16"]
    for row, width in zip(rows, (4, 16)):
        assert (row["trials"], row["complete"], row["infeasible"], row["failed"], row["running"]) == (
            "3/3", "1", "1", "1", "0"
        )
        assert float(row["best objective"]) == pytest.approx(width * 0.1 / 3)
        assert row["best trial"] == f"width={width}/0 (step 20)" and row["stale"] == "0"
        assert row["config"] == str(spec) and row["reproduce"] == f"tunebook rerun exp/width={width}/0 --store {url}"
        assert row["code"].startswith("not recorded: the spec and the program are in no git repository")


def test_status_json_parses_and_holds_numbers(filled):
    folder, url, _ = filled
    done = run_cli("status", "exp", "--store", url, "--format", "json", cwd=folder)
    rows = json.loads(done.stdout)
    assert [tuple(r) for r in rows] == [COLUMNS, COLUMNS]
    assert rows[0]["experiment"] == "exp" and rows[0]["complete"] == 1
    assert rows[1]["best objective"] == pytest.approx(16 * 0.1 / 3)


@pytest.mark.parametrize("command", ["status", "trials", "note", "report"])
@pytest.mark.parametrize(("name", "hint"), [("nope", "; it has: exp"), ("epx", "; did you mean 'exp'?")])
def test_an_unknown_experiment_is_a_clear_error_with_a_did_you_mean(filled, command, name, hint):
    folder, url, _ = filled
    args = [command, name, *(["some text"] if command == "note" else []), "--store", url]
    done = run_cli(*args, cwd=folder)
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: no experiment named {name!r} in store {url}{hint}"
    assert done.stdout == "" and not (folder / "tunebook-reports").exists()


def test_an_unknown_experiment_in_an_empty_store_asks_whether_it_is_the_right_store(tmp_path):
    url = store_url(tmp_path)
    SQLStore(url).close()  # a store that exists and holds nothing
    done = run_cli("trials", "digits-depth", "--store", url, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (f"error: no experiment named 'digits-depth' in store {url} "
                                   "(it is empty: is --store, or TUNEBOOK_STORE, the store the experiment ran with?)")


def test_trials_json_lists_every_trial_with_its_outcome(filled):
    folder, url, _ = filled
    done = run_cli("trials", "exp", "--store", url, "--format", "json", cwd=folder)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["study"], r["trial"], r["params"]["lr"], r["state"]) for r in rows] == [
        (study, n, lr, state)
        for study in ("width=4", "width=16")
        for n, (lr, state) in enumerate([(0.1, "complete"), (0.5, "infeasible"), (0.9, "failed")])
    ]
    for row in rows:
        assert set(row) == {"study", "trial", "name", "params", "state", "objective", "best step", "duration s",
                            "attempt", "reason", "code", "code_version"}
        assert row["code"] == "no git (not exact)" and row["code_version"]["commit"] is None
        assert row["code_version"]["exact"] is False
        assert row["name"] == f"{row['study']}/{row['trial']}"
        assert row["duration s"] >= 0 and row["attempt"] == 0
        if row["state"] == "complete":
            assert row["best step"] == 20 and row["reason"] is None
        elif row["state"] == "infeasible":
            assert row["reason"] == "valid_loss is nan at step 10" and row["objective"] is None
        else:
            assert row["reason"].startswith("exit code 1 after 1 attempt(s)")
            assert row["reason"].endswith("RuntimeError: out of memory")


def test_trials_csv_has_a_column_per_param(filled):
    folder, url, _ = filled
    done = run_cli("trials", "exp", "--store", url, "--format", "csv", cwd=folder)
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    columns = list(rows[0])
    assert columns[:2] == ["study", "trial"] and set(columns[2:4]) == {"width", "lr"}
    assert columns[4:] == ["state", "objective", "best step", "duration s", "attempt", "reason", "code"]
    assert len(rows) == 6 and rows[3]["width"] == "16" and rows[3]["lr"] == "0.1"
    assert rows[2]["reason"].endswith("RuntimeError: out of memory")  # multi-line reasons survive CSV


def test_trials_table_shows_each_trial_and_the_first_line_of_its_reason(filled):
    folder, url, _ = filled
    done = run_cli("trials", "exp", "--store", url, cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "trials of exp" in done.stdout
    for cell in ("complete", "infeasible", "failed", "valid_loss is nan at step 10", "exit code 1 after 1"):
        assert cell in done.stdout
    assert "Traceback" not in done.stdout  # only a reason's first line goes in a cell


def test_a_note_shows_in_status(tmp_path, filled):
    folder, url, _ = filled
    done = run_cli("note", "exp", "lr above 0.8 runs out of memory", "--store", url, cwd=folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("noted on exp at ") and done.stdout.strip().endswith("UTC")
    rows = json.loads(run_cli("status", "--store", url, "--format", "json", cwd=folder).stdout)
    assert [[n["text"] for n in r["notes"]] for r in rows] == [["lr above 0.8 runs out of memory"]] * 2
    assert "lr above 0.8 runs out of memory" in run_cli("status", "--store", url, cwd=folder).stdout


def test_a_trial_note_shows_with_that_trial_only(filled):
    folder, url, _ = filled
    done = run_cli("note", "exp", "diverged: try warmup", "--trial", "width=4/1", "--store", url, cwd=folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("noted on trial width=4/1 of exp at ")
    shown = run_cli("trials", "exp", "--show", "width=4/1", "--store", url, cwd=folder)
    assert any(line.split()[:1] == ["note"] and line.endswith("UTC: diverged: try warmup")
               for line in shown.stdout.splitlines()), shown.stdout
    as_json = json.loads(run_cli("trials", "exp", "--show", "width=4/1", "--format", "json", "--store", url,
                                 cwd=folder).stdout)
    assert [n["text"] for n in as_json["notes"]] == ["diverged: try warmup"]
    rows = json.loads(run_cli("status", "--store", url, "--format", "json", cwd=folder).stdout)
    assert all("diverged: try warmup" not in n["text"] for r in rows for n in r["notes"])


@pytest.mark.parametrize(("ref", "message"), [
    ("width=8/0", "--trial 'width=8/0': experiment 'exp' has no study 'width=8'"),
    ("width=4/9", "--trial 'width=4/9': study 'width=4' has no trial '9'; its trial numbers: 0..2"),
])
def test_a_note_on_an_unknown_trial_is_refused_and_nothing_is_written(filled, ref, message):
    folder, url, _ = filled
    with SQLStore(url) as store:
        record = store.get_experiment("exp")
        before = store.list_notes(record.id), store.list_trial_notes(record.id)
    done = run_cli("note", "exp", "lost", "--trial", ref, "--store", url, cwd=folder)
    assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr
    with SQLStore(url) as store:
        assert (store.list_notes(record.id), store.list_trial_notes(record.id)) == before


def test_an_empty_note_is_refused(filled):
    folder, url, _ = filled
    done = run_cli("note", "exp", "   ", "--store", url, cwd=folder)
    assert done.returncode == 2 and "a note needs some text" in done.stderr


def test_an_empty_store_gets_a_friendly_message(tmp_path):
    url = store_url(tmp_path)
    SQLStore(url).close()
    done = run_cli("status", "--store", url, cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.strip() == f"no experiments in store {url} yet; start one with: tunebook run SPEC"
    assert json.loads(run_cli("status", "--store", url, "--format", "json", cwd=tmp_path).stdout) == []
    assert run_cli("status", "--store", url, "--format", "csv", cwd=tmp_path).stdout.startswith("experiment,study,")


def test_without_store_it_reads_tunebook_db_here(filled):
    folder, _, _ = filled
    rows = json.loads(run_cli("status", "--format", "json", cwd=folder).stdout)
    assert [r["study"] for r in rows] == ["width=4", "width=16"]


def test_notes_keep_their_history_the_specs_first_with_dates(tmp_path):
    write_program(tmp_path, "model.py", "def train(params, trial):\n    trial.log(0, {'valid_loss': params['lr']})\n")
    spec = write_spec(tmp_path, {"function": "model:train"}, trials=1, notes="lr range from the last round")
    url = store_url(tmp_path)
    assert run_cli("run", str(spec), "--store", url, cwd=tmp_path).returncode == 0
    for text in ("first look: lr matters", "second look: it does not"):
        assert run_cli("note", "exp", text, "--store", url, cwd=tmp_path).returncode == 0
    rows = json.loads(run_cli("status", "exp", "--store", url, "--format", "json", cwd=tmp_path).stdout)
    notes = rows[0]["notes"]
    assert [n["text"] for n in notes] == ["lr range from the last round", "first look: lr matters",
                                          "second look: it does not"]
    assert notes[0]["at"] is None and notes[1]["at"] <= notes[2]["at"]
    lines = run_cli("status", "--store", url, cwd=tmp_path).stdout.splitlines()
    shown = [line for line in lines if "look:" in line or "last round" in line]
    assert shown[0] == "  notes: spec  lr range from the last round"
    assert [line.split("UTC  ")[1] for line in shown[1:]] == ["first look: lr matters", "second look: it does not"]


@pytest.mark.parametrize("args", [["status"], ["trials", "digits-depth"], ["report", "digits-depth"],
                                  ["note", "digits-depth", "text"], ["advise", "instability", "digits-depth"],
                                  ["plan", "round2", "digits-depth", "--steps", "10"]])
def test_reading_a_store_that_is_not_there_says_so_and_creates_nothing(tmp_path, args):
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (f"error: no store at {tmp_path / 'tunebook.db'}: nothing has run with it yet. "
                                   "Name another store with --store PATH (or TUNEBOOK_STORE); "
                                   "`tunebook run SPEC` creates this one")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_store_beside_the_demo_points_at_the_demo_store(tmp_path):
    demo = tmp_path / "tunebook-demo"
    demo.mkdir()
    SQLStore(store_url(demo)).close()
    done = run_cli("trials", "digits-depth", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().endswith(
        "; the demo's store is tunebook-demo/tunebook.db: add --store tunebook-demo/tunebook.db")
    assert run_cli("status", "--store", "tunebook-demo/tunebook.db", cwd=tmp_path).returncode == 0
