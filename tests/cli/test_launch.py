"""``tunebook launch``, ``launches`` and ``baseline`` on real SQLite stores: what a launch records, how the log
lists, the baseline as a spec's ``fixed:``, refusals that write nothing, and a tampered log named."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.plans.stored import falling, spec, store_experiment, trial
from tunebook.cli.main import main
from tunebook.core.spec import load_experiment
from tunebook.storage import SQLStore

SEEDS = tuple(range(6))


@pytest.fixture
def url(tmp_path: Path) -> str:
    """Experiment ``lrs``: lr 0.1 (trials 0-5) and 0.3 (trials 6-11) each run with seeds 0-5 (repeats; 0.3 is
    better by far), lr 1.0 infeasible (trial 12); a test curve every 7 steps. A second experiment ``wider`` adds
    ``width`` and drops ``batch_size``, in one trial."""
    url = f"sqlite:///{tmp_path / 'tunebook.db'}"
    rows = []
    for lr in (0.1, 0.3):
        for seed in SEEDS:
            curves = {"train/loss": falling(50, rate=lr / 10, noise=0.01, seed=seed),
                      "test/accuracy": [(s, 0.5 + lr + s / 1000) for s in range(0, 50, 7)]}
            rows.append(trial({"learning_rate": lr, "seed": seed, "batch_size": 32, "use_ema": True}, curves))
    rows.append(trial({"learning_rate": 1.0, "seed": 0, "batch_size": 32, "use_ema": True},
                      {"train/loss": [(0, 2.0), (1, float("nan"))]}, state="infeasible", reason="loss became NaN"))
    nuisance = {"learning_rate": {"low": 0.01, "high": 1.0, "scale": "log"}, "seed": list(SEEDS)}
    store_experiment(url, spec("lrs", nuisance=nuisance, fixed={"batch_size": 32, "use_ema": True}), rows)
    store_experiment(url, spec("wider", nuisance=nuisance, fixed={"width": 512, "use_ema": True}),
                     [trial({"learning_rate": 3e-4, "seed": 1, "width": 512, "use_ema": True},
                            {"train/loss": falling(50, rate=0.05)})])
    return url


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # the evidence block wraps at the terminal's width


def _launches(url: str, line: str = "main") -> list:
    with SQLStore(url) as store:
        return store.list_launches(line)


def test_a_first_launch_records_the_evidence(url: str, capsys) -> None:
    assert main(["launch", "lrs/default/7", "--note", "lr 0.3 trains faster", "--yes", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "Launch #0 of line 'main': lrs/default/7 becomes the baseline" in out
    assert "first baseline: nothing to compare" in out and "WARNING" not in out
    assert "seed 0: " in out and "(lrs/default/6)" in out and "(lrs/default/11)" in out  # its repeats
    assert "tunebook rerun lrs/default/7 --store sqlite:///" in out
    [record] = _launches(url)
    entry = record.entry
    assert entry["configuration"] == {"batch_size": 32, "learning_rate": 0.3, "seed": 1, "use_ema": True}
    assert entry["change"] is None and entry["comparison"]["decision"] is None
    runs = entry["retrain"]["runs"]
    assert [(r["trial"], r["seed"]) for r in runs] == [(f"lrs/default/{6 + seed}", seed) for seed in SEEDS]
    assert all(r["state"] == "complete" and r["value"] > 0 for r in runs)
    # test/accuracy is logged every 7 steps; the best step (the last, 49) was logged: 0.5 + 0.3 + 0.049
    [test] = entry["test_metrics"]
    assert test["metric"] == "test/accuracy" and test["step"] == 49 == test["best_step"]
    assert test["value"] == pytest.approx(0.849)
    assert entry["code_version"]["recorded"] is False  # stored through the Store API, not tunebook run
    assert entry["note"] == "lr 0.3 trains faster" and entry["experiment"] == "lrs"
    assert {p["id"] for p in entry["open_problems"]} <= {"late_variance", "best_step", "infeasible_fraction",
                                                         "search_space_boundary", "sampled_enough", "still_improving"}
    assert all(p["severity"] in ("warning", "problem") and p["summary"] for p in entry["open_problems"])


def test_the_next_launch_records_its_change_from_the_baseline(url: str, capsys) -> None:
    assert main(["launch", "lrs/default/7", "--note", "first", "--yes", "--store", url]) == 0
    assert main(["launch", "wider/default/0", "--note", "wider", "--yes", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "change from #0  learning_rate: 0.3 -> 0.0003; added: width=512;" in out and "removed: batch_size=32" in out
    first, second = _launches(url)
    assert second.entry["change"] == {"added": {"width": 512}, "removed": {"batch_size": 32},
                                      "changed": {"learning_rate": {"old": 0.3, "new": 0.0003}}}
    assert second.entry["previous"] == {"seq": 0, "trial": "lrs/default/7"}
    assert second.entry["comparison"]["baseline"] == "lrs/default/7" and second.prev_hash == first.hash
    assert second.entry["test_metrics"] == [] and "none logged" in out


def test_the_comparison_with_the_baseline_is_shown_and_a_keep_baseline_is_said_plainly(url: str, capsys) -> None:
    assert main(["launch", "lrs/default/1", "--note", "lr 0.1", "--yes", "--store", url]) == 0
    assert main(["launch", "lrs/default/7", "--note", "lr 0.3", "--yes", "--store", url]) == 0
    better = capsys.readouterr().out
    assert "comparison      against lrs/default/1 (launch #0): adopt" in better
    assert "The comparison with the current baseline (tunebook compare):\nADOPT: adopt lrs/default/7" in better
    assert "WARNING" not in better
    assert main(["launch", "lrs/default/2", "--note", "back to 0.1", "--yes", "--store", url]) == 0
    worse = capsys.readouterr().out
    assert "change from #1  learning_rate: 0.3 -> 0.1; seed: 1 -> 2 (another seed)" in worse
    assert "KEEP BASELINE: keep the baseline lrs/default/7" in worse  # the comparison, in full
    assert "WARNING: the comparison says KEEP THE BASELINE: the candidate is worse than the current baseline" in worse
    decisions = [r.entry["comparison"]["decision"] for r in _launches(url)]
    assert decisions == [None, "adopt", "keep baseline"]
    details = _launches(url)[2].entry["comparison"]["details"]
    assert details["baseline"]["n"] == 6 == details["candidate"]["n"] and details["p_better"] == 0.0


def test_a_candidate_judged_by_another_metric_is_launched_uncompared_and_said_so(url: str, capsys) -> None:
    store_experiment(url, spec("by-error", objective="train/error", fixed={"learning_rate": 0.3}),
                     [trial({"learning_rate": 0.3}, {"train/error": falling(20)})])
    assert main(["launch", "lrs/default/7", "--note", "by loss", "--yes", "--store", url]) == 0
    assert main(["launch", "by-error/default/0", "--note", "by error", "--yes", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "WARNING: the candidate was NOT COMPARED with the current baseline: the two cannot be compared" in out
    comparison = _launches(url)[1].entry["comparison"]
    assert comparison["decision"] is None and "is judged by train/error (min" in comparison["headline"]


def test_without_a_terminal_and_without_yes_nothing_is_launched(url: str, capsys) -> None:
    assert main(["launch", "lrs/default/7", "--note", "first", "--store", url]) == 1
    captured = capsys.readouterr()
    assert "Launch #0 of line 'main'" in captured.out  # the evidence is shown before refusing
    assert ("error: not launched: there is no terminal to confirm on (stdin is not a TTY); read the evidence "
            "above and pass --yes to launch without asking") in captured.err
    assert _launches(url) == []


@pytest.mark.parametrize("args, message", [
    (["lrs/default/12", "--note", "x"], "error: lrs/default/12 is infeasible; only a complete trial with an "
                                       "objective value can become a baseline"),
    (["lrs/default/7", "--note", "  "], "error: --note: say why this configuration is launched, got an empty note"),
    (["lrs/default/7", "--note", "x", "--min-effect", "-1"], "error: --min-effect: must be a finite number >= 0 "
                                                             "(in the objective's units), got -1.0"),
    (["lrs/default/7", "--note", "x", "--min-effect", "nan"], "got nan"),
    (["lrs/default/13", "--note", "x"], "error: lrs/default/13: study 'default' has no trial 13; its trial numbers: "
                                        "0..12"),
    (["nope/default/0", "--note", "x"], "error: no experiment named 'nope'"),
])
def test_bad_input_is_named_and_writes_nothing(url: str, capsys, args: list[str], message: str) -> None:
    assert main(["launch", *args, "--yes", "--store", url]) == 1
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err
    assert _launches(url) == []


@pytest.mark.parametrize("command", [["launches"], ["baseline"], ["launch", "lrs/default/7", "--note", "x", "--yes"]])
def test_a_store_that_is_not_there_is_named_and_not_created(tmp_path: Path, capsys, command: list[str]) -> None:
    missing = tmp_path / "typo.db"
    assert main([*command, "--store", str(missing)]) == 1
    assert f"error: no store at {missing}" in capsys.readouterr().err and not missing.exists()


def test_launching_the_current_baseline_again_is_refused(url: str, capsys) -> None:
    assert main(["launch", "lrs/default/7", "--note", "first", "--yes", "--store", url]) == 0
    assert main(["launch", "lrs/default/7", "--note", "again", "--yes", "--store", url]) == 1
    assert "error: lrs/default/7 is already the baseline of line 'main' (launch #0)" in capsys.readouterr().err
    assert len(_launches(url)) == 1


def test_lines_are_separate_and_an_unknown_line_is_named(url: str, capsys) -> None:
    assert main(["launch", "lrs/default/7", "--note", "a", "--line", "vision", "--yes", "--store", url]) == 0
    assert main(["launch", "wider/default/0", "--note", "b", "--yes", "--store", url]) == 0
    capsys.readouterr()
    assert [r.entry["trial"] for r in _launches(url, "vision")] == ["lrs/default/7"]
    assert _launches(url)[0].entry["change"] is None  # the first of line main, whatever vision holds
    assert main(["launches", "--line", "visoin", "--store", url]) == 1
    assert "error: line 'visoin' has no launches; lines with launches: vision, main" in capsys.readouterr().err


def test_the_log_lists_as_table_csv_and_json(url: str, capsys) -> None:
    assert main(["launches", "--store", url]) == 0
    assert "no launches yet on line 'main'" in capsys.readouterr().out
    assert main(["launch", "lrs/default/7", "--note", "first", "--yes", "--store", url]) == 0
    assert main(["launch", "wider/default/0", "--note", "wider, with a comma", "--yes", "--store", url]) == 0
    records = _launches(url)
    capsys.readouterr()
    assert main(["launches", "--store", url, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["trial"] for r in rows] == ["lrs/default/7", "wider/default/0"]
    assert rows[1]["note"] == "wider, with a comma" and rows[1]["decision"] == "not enough evidence"
    assert rows[1]["change"] == "learning_rate: 0.3 -> 0.0003; added: width=512; removed: batch_size=32"
    assert rows[1]["sha256"] == records[1].hash and rows[1]["prev_sha256"] == records[0].hash
    assert main(["launches", "--store", url, "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [item["seq"] for item in listed] == [0, 1] and listed[1]["entry"] == records[1].entry
    assert main(["launches", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "wider/default/0" in out and f"chain verified: 2 launches, newest hash {records[1].hash}" in out


def test_the_baseline_loads_as_a_specs_fixed_values(url: str, tmp_path: Path, capsys) -> None:
    assert main(["baseline", "--store", url]) == 1
    assert "error: line 'main' has no baseline yet: make one with tunebook launch" in capsys.readouterr().err
    assert main(["launch", "wider/default/0", "--note", "wide\nand slow", "--yes", "--store", url]) == 0
    capsys.readouterr()
    assert main(["baseline", "--store", url]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("# the baseline of line 'main': launch #0, trial wider/default/0\n")
    assert "note: wide and slow" in printed and "# seed: the seed this trial ran with" in printed
    next_round = tmp_path / "round2.yaml"
    next_round.write_text("name: round2\nobjective: {metric: train/loss, mode: min}\n"
                          "search: {trials: 4}\nnuisance:\n  dropout: [0.0, 0.1]\n" + printed)
    experiment = load_experiment(next_round)
    fixed = {hp.name: hp.domain.value for hp in experiment.space.with_role("fixed")}
    assert fixed == {"learning_rate": 3e-4, "seed": 1, "use_ema": True, "width": 512}
    assert type(fixed["learning_rate"]) is float and type(fixed["use_ema"]) is bool
    assert main(["baseline", "--store", url, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["configuration"] == fixed


def test_a_tampered_log_is_named_and_nothing_is_listed_as_valid(url: str, capsys) -> None:
    for trial_ref in ("lrs/default/7", "wider/default/0", "lrs/default/0"):
        assert main(["launch", trial_ref, "--note", "n", "--yes", "--store", url]) == 0
    with SQLStore(url) as store, store.engine.begin() as conn:
        entry = json.loads(conn.execute(text("SELECT entry FROM launches WHERE seq = 1")).scalar())
        entry["configuration"]["width"] = 1024
        conn.execute(text("UPDATE launches SET entry = :e WHERE seq = 1"), {"e": json.dumps(entry)})
    capsys.readouterr()
    for command in (["launches"], ["launches", "--format", "json"], ["baseline"],
                    ["launch", "lrs/default/1", "--note", "n", "--yes"]):
        assert main([*command, "--store", url]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert ("error: the launch log of line 'main' is broken at launch #1: its content does not match its hash: "
                "it was edited") in captured.err
    assert len(_launches(url)) == 3


@pytest.mark.slow  # a real terminal for a fresh tunebook process: ~10 s on 2 shared cores
def test_the_prompt_asks_and_a_yes_launches(url: str, tmp_path: Path) -> None:
    assert main(["launch", "lrs/default/7", "--note", "first", "--yes", "--store", url]) == 0
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "200"}
    process = subprocess.Popen([sys.executable, "-m", "tunebook.cli.main", "launch", "wider/default/0", "--note",
                                "wider", "--store", url], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=tmp_path)
    os.close(slave)
    os.write(master, b"y\n")
    out, err = process.communicate(timeout=120)
    os.close(master)
    assert process.returncode == 0, err
    assert "WARNING: the comparison says NOT ENOUGH EVIDENCE" in out  # 6 seeds against 1
    assert "Make wider/default/0 the baseline of line 'main' although the comparison says 'not enough evidence'? " \
           "[y/N]" in out
    assert "launched: wider/default/0 is launch #1 of line 'main'" in out
    assert [r.entry["trial"] for r in _launches(url)] == ["lrs/default/7", "wider/default/0"]


TOY = """
import math, random

def train(params, trial):
    rng = random.Random(int(params["seed"]))
    loss = 2.0
    for step in range(20):
        loss *= math.exp(-params["lr"])
        trial.log(step, {"valid_loss": loss * (1 + 0.05 * rng.gauss(0, 1)), "test/error": loss / 4})
"""


@pytest.mark.slow  # two tunebook runs and six CLI processes: ~40 s on 2 shared cores
def test_end_to_end_run_launch_twice_and_run_the_next_round_from_the_baseline(tmp_path: Path) -> None:
    from tests.execution.harness import run_cli

    (tmp_path / "toy.py").write_text(TOY)
    (tmp_path / "round1.yaml").write_text(
        "name: round1\nobjective: {metric: valid_loss, mode: min}\nnuisance:\n  lr: [0.1, 0.3]\n  seed: [0, 1, 2]\n"
        "fixed:\n  batch_size: 64\nsearch: {algorithm: grid}\nrun: {function: 'toy:train'}\n")
    url = f"sqlite:///{tmp_path / 'tunebook.db'}"
    assert run_cli("run", "round1.yaml", "--store", url, cwd=tmp_path).returncode == 0
    first = run_cli("launch", "round1/default/0", "--note", "the first", "--yes", "--store", url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    best = run_cli("launch", "round1", "--note", "lr 0.3 trains faster", "--yes", "--store", url, cwd=tmp_path)
    assert best.returncode == 0, best.stderr
    assert "change from #0  lr: 0.1 -> 0.3" in best.stdout and "test/error" in best.stdout
    assert "in no git repository; only the software and host are; tunebook" in best.stdout  # what tunebook run recorded
    listed = json.loads(run_cli("launches", "--format", "json", "--store", url, cwd=tmp_path).stdout)
    entry = listed[1]["entry"]
    assert entry["configuration"]["lr"] == 0.3 and entry["code_version"]["recorded"] is True
    assert [r["seed"] for r in entry["retrain"]["runs"]] == [0, 1, 2]
    baseline = run_cli("baseline", "--store", url, cwd=tmp_path).stdout
    (tmp_path / "round2.yaml").write_text(
        "name: round2\nobjective: {metric: valid_loss, mode: min}\nsearch: {trials: 2}\n"
        "nuisance:\n  width: [8, 16]\nrun: {function: 'toy:train'}\n" + baseline)
    done = run_cli("run", "round2.yaml", "--store", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with SQLStore(url) as store:
        trials = store.list_trials(experiment_id=store.get_experiment("round2").id)
    assert len(trials) == 2 and all(t.state.value == "complete" for t in trials)
    assert all({k: t.params[k] for k in ("lr", "seed", "batch_size")} == {"lr": 0.3, "seed": entry["configuration"]
                                                                           ["seed"], "batch_size": 64} for t in trials)
