"""PostgreSQL under load: 16 runners on one experiment, 16 trials logging at once,
claims as cheap at 20,000 trials as at the first, and a server restart mid-run.

Each test prints its figures (run with ``-s``, or read the ``postgres load``
section at the end of the session).
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.execution.harness import (
    all_trials, clean_up_after_failure, curves_of, run_cli, start_cli, wait_for, write_program, write_spec,
)
from tests.faults.harness import check_after, faulty_spec, write_faulty
from tunebook.core.states import TrialState
from tunebook.storage import SQLStore
from tunebook.storage.schema import curve_chunks, trials

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


LOSS = {"metric": "loss", "mode": "min"}

RECORDING = '''
import os

def train(params, trial):
    fd = os.open(os.path.join({ran!r}, f"{{trial.id}}-{{os.getpid()}}"), os.O_WRONLY | os.O_CREAT)
    os.close(fd)
    for step in range({steps}):
        trial.log(step, loss=params["lr"] / (1 + step))
        if (step + 1) % {per_flush} == 0:
            trial.flush()
'''


def _say(capsys: pytest.CaptureFixture, line: str) -> None:
    """Print a figure past pytest's capture, so a CI log shows it."""
    with capsys.disabled():
        print(f"\n[postgres load] {line}")


def _recording_program(folder: Path, steps: int, per_flush: int) -> Path:
    ran = folder / "ran"
    ran.mkdir()
    write_program(folder, "recording.py", RECORDING.format(ran=str(ran), steps=steps, per_flush=per_flush))
    return ran


def test_16_runners_claim_every_trial_exactly_once(tmp_path, postgres_url, capsys):
    ran = _recording_program(tmp_path, steps=3, per_flush=1)
    budget = 24
    spec = write_spec(tmp_path, {"function": "recording:train", "parallel": 1}, trials=budget, objective=LOSS,
                      scientific={"width": [1, 2]})
    started = time.monotonic()
    runners = [start_cli("run", str(spec), "--store", postgres_url, cwd=tmp_path, log=tmp_path / f"r{i}.log")
               for i in range(16)]
    try:
        codes = [runner.wait(timeout=400) for runner in runners]
    except BaseException:
        for runner in runners:
            clean_up_after_failure(runner, [])
        raise
    seconds = time.monotonic() - started
    assert codes == [0] * 16, [(tmp_path / f"r{i}.log").read_text()[-2000:] for i, c in enumerate(codes) if c]
    found = all_trials(postgres_url)
    runs = [path.name.split("-")[0] for path in ran.iterdir()]
    duplicated = len(runs) - len(set(runs))
    lost = 2 * budget - len(set(runs))
    workers = {t.worker for t in found}
    _say(capsys, f"16 runners, {2 * budget} trials: {duplicated} run twice, {lost} lost, "
                   f"{len(workers)} runners got trials, {seconds:.1f} s")
    assert sorted((t.study_id, t.number) for t in found) == sorted({(t.study_id, t.number) for t in found})
    assert len(found) == 2 * budget and all(t.state is TrialState.COMPLETE for t in found)
    assert duplicated == 0 and lost == 0 and sorted(runs) == sorted(str(t.id) for t in found)
    assert len(workers) >= 4, f"only {len(workers)} of 16 runners got a trial"


def test_16_trials_logging_10000_points_at_once_lose_no_row(tmp_path, postgres_url, capsys):
    _recording_program(tmp_path, steps=10_000, per_flush=250)
    spec = write_spec(tmp_path, {"function": "recording:train", "parallel": 16}, trials=16, objective=LOSS)
    started = time.monotonic()
    done = run_cli("run", str(spec), "--store", postgres_url, cwd=tmp_path, timeout=240)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    found = all_trials(postgres_url)
    assert len(found) == 16 and all(t.state is TrialState.COMPLETE for t in found)
    stored = curves_of(postgres_url, [t.id for t in found])
    rows = sum(len(points) for points in stored.values())
    _say(capsys, f"16 trials x 10,000 points at once: {rows:,} rows stored of 160,000, {seconds:.1f} s")
    for trial in found:
        assert [step for step, _ in stored[(trial.id, "loss")]] == list(range(10_000)), trial.number
    assert rows == 160_000


def _bulk_trials(store: SQLStore, study_id: int, first: int, count: int) -> None:
    """``count`` finished trials numbered from ``first``, each with a 10-point curve chunk."""
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows = [dict(study_id=study_id, number=n, params='{"lr": 0.1}', state="COMPLETE", attempt=0,
                 created_at=now, objective=0.5) for n in range(first, first + count)]
    with store.engine.begin() as conn:
        ids = conn.execute(trials.insert().returning(trials.c.id), rows).scalars().all()
        blob = bytes(80)
        conn.execute(curve_chunks.insert(), [dict(trial_id=i, metric="loss", n=10, steps=blob, vals=blob) for i in ids])
        conn.execute(text("UPDATE studies SET next_number = :n WHERE id = :id"), {"n": first + count, "id": study_id})


def _time_one_trial(store: SQLStore, study_id: int) -> float:
    """Seconds of a trial's store work in a runner: claim, heartbeat, 1 curve write, its curve read, finish."""
    start = time.perf_counter()
    trial = store.claim_trial(study_id, "bench:1", lambda n: {"lr": 0.1})
    store.heartbeat(trial.id)
    store.log_curves(trial.id, {"loss": ([0, 1, 2], [1.0, 0.5, 0.25])})
    store.load_curves(trial_ids=[trial.id])
    store.finish_trial(trial.id, TrialState.COMPLETE, objective=0.25, best_step=2)
    return time.perf_counter() - start


SEQ_SCANS_ALLOWED = {"studies", "experiments", "tunebook_meta"}  # a handful of rows each


def _seq_scans(store: SQLStore, study_id: int, trial_id: int) -> list[str]:
    """Tables the claim's, the curve read's and the listing's plans read whole (EXPLAIN)."""
    statements = [
        f"SELECT id FROM trials WHERE study_id = {study_id} AND state = 'WAITING' ORDER BY number LIMIT 1",
        f"SELECT id FROM trials WHERE study_id = {study_id} AND number = 5",
        f"SELECT id, trial_id, metric, n FROM curve_chunks WHERE trial_id IN ({trial_id})",
        f"UPDATE trials SET heartbeat_at = now() WHERE id = {trial_id}",
        f"SELECT t.id FROM trials t JOIN studies s ON t.study_id = s.id WHERE t.study_id = {study_id} "
        "AND t.state = 'RUNNING'",
    ]
    found = []
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
        for statement in statements:
            plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {statement}")))
            found += [line for line in plan.splitlines() if "Seq Scan on" in line
                      and line.split("Seq Scan on ")[1].split()[0] not in SEQ_SCANS_ALLOWED]
        conn.rollback()
    return found


def test_a_trials_store_work_costs_the_same_at_20000_trials_as_at_the_first(postgres_url, capsys):
    with SQLStore(postgres_url) as store:
        record = store.ensure_experiment("load", {"name": "load"})
        study = store.ensure_study(record.id, "default", {}, 30_000)
        medians, have = {}, 0
        for size in (1, 5_000, 10_000, 20_000):
            if size > have:
                _bulk_trials(store, study.id, have + (1 if have else 0), size - have)
                have = size
            for _ in range(5):  # warm the caches and the plans
                _time_one_trial(store, study.id)
            medians[size] = statistics.median(_time_one_trial(store, study.id) for _ in range(30))
            have += 35
        last = store.claim_trial(study.id, "bench:1", lambda n: {"lr": 0.1})
        scans = _seq_scans(store, study.id, last.id)
    _say(capsys, "a trial's store work (claim, heartbeat, curve write and read, finish), median of 30: "
                   + ", ".join(f"{size:,} trials {seconds * 1000:.1f} ms" for size, seconds in medians.items()))
    assert not scans, f"EXPLAIN shows whole-table reads: {scans}"
    assert medians[20_000] <= 2.0 * medians[1] + 0.002, medians  # flat, give or take a noisy machine


def test_a_server_restart_mid_run_costs_a_retry_not_a_point(tmp_path, postgres_server, postgres_url, capsys):
    acks = write_faulty(tmp_path, steps=60, pause=0.05)
    spec = faulty_spec(tmp_path, 3)
    runner = start_cli("run", str(spec), "--store", postgres_url, cwd=tmp_path, log=tmp_path / "runner.log")
    try:
        wait_for(lambda: sum(1 for _ in acks.glob("*.acks")) >= 2, 90, "two trials to save points")
        started = time.monotonic()
        postgres_server.restart()
        restart_s = time.monotonic() - started
        assert runner.wait(timeout=240) == 0, (tmp_path / "runner.log").read_text()
    except BaseException:
        clean_up_after_failure(runner, [])
        raise
    said = (tmp_path / "runner.log").read_text() + "".join(
        p.read_text() for p in tmp_path.glob("tunebook-runs/*/*/*/stderr.log"))
    retries = said.count("; retrying ")
    found = all_trials(postgres_url)
    _say(capsys, f"pg_ctl restart mid-run ({restart_s:.1f} s): {retries} write(s) retried, "
                   f"{sum(t.attempt for t in found)} trial attempt(s) spent, runner exit 0")
    assert retries >= 1, said  # the restart was noticed, and survived
    assert "the PostgreSQL server is unreachable or restarting" in said
    assert all(t.state is TrialState.COMPLETE and t.attempt == 0 for t in found), [(t.number, t.reason) for t in found]

    class Row:  # check_after adds figures to a row; this suite keeps its own
        acked_points = lost_points = left_running = studies = studies_at_budget = 0

    check_after(postgres_url, acks, 3, Row())
