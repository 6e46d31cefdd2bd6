"""kill -9 at random moments (seeded): of the runner, and of trials under a live runner.

After every kill series the experiment is run once more to the end, and
then: 0 acknowledged points lost, 0 trials RUNNING, every study at exactly
its budget (``harness.check_after``). 12 runner kills + 40 trial kills.
"""

from __future__ import annotations

import random
import time

import pytest

from tests.execution.harness import alive, all_trials, clean_up_after_failure, run_cli, start_cli, store_url, wait_for
from tests.faults.harness import check_after, faulty_spec, kill9, launcher_pids, no_traceback, write_faulty

pytestmark = pytest.mark.slow

RUNNER_KILLS = 12
TRIAL_KILLS = 40


def test_runner_killed_at_random_moments_loses_nothing(tmp_path, figures):
    rng = random.Random(20261203)
    acks = write_faulty(tmp_path, steps=20, pause=0.05)
    spec, url, budget = faulty_spec(tmp_path, 5), store_url(tmp_path), 5
    row = figures("kill -9 runner (SQLite)")
    mid_trial = 0
    for kill in range(RUNNER_KILLS):
        runner = start_cli("run", str(spec), "--store", url, cwd=tmp_path, log=tmp_path / f"runner-{kill}.log")
        # a random moment: mostly while trials run (a short wait for the first), sometimes still starting up
        if rng.random() < 0.8:
            wait_for(lambda: launcher_pids(runner.pid) or runner.poll() is not None, 120, "a trial to start")
        time.sleep(rng.uniform(0.0, 1.5))
        trials = launcher_pids(runner.pid)
        if runner.poll() is not None:  # it finished the whole budget first
            break
        row.faults += kill9(runner.pid)
        mid_trial += bool(trials)
        runner.wait()
        # its trials get SIGTERM from the kernel (PR_SET_PDEATHSIG), flush and exit
        wait_for(lambda: not any(alive(pid) for pid in trials), 20, "the killed runner's trials to exit")
    done = run_cli("run", str(spec), "--store", url, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    no_traceback(done.stdout + done.stderr)
    # later runners said what they did with a dead runner's trials
    said = "".join(p.read_text() for p in tmp_path.glob("runner-*.log")) + done.stdout + done.stderr
    notes = said.count("trial(s) left RUNNING by a runner on this machine that is gone")
    assert notes >= 1, said
    row.messages += notes
    assert row.faults >= RUNNER_KILLS - 2, f"only {row.faults} kills landed: the runs got too fast for the delays"
    assert mid_trial >= RUNNER_KILLS // 2, f"only {mid_trial} kills landed while trials ran"
    check_after(url, acks, budget, row)


def test_trials_killed_at_random_moments_are_retried_and_lose_nothing(tmp_path, figures):
    rng = random.Random(7)
    acks = write_faulty(tmp_path, steps=60, pause=0.05)
    spec, url, budget = faulty_spec(tmp_path, 8, retries=60), store_url(tmp_path), 8
    row = figures("kill -9 trial (SQLite)")
    runner = start_cli("run", str(spec), "--store", url, cwd=tmp_path, log=tmp_path / "runner.log")
    kills = 0
    try:
        while kills < TRIAL_KILLS and runner.poll() is None:
            time.sleep(rng.uniform(0.2, 1.2))
            running = [pid for pid in launcher_pids(runner.pid) if alive(pid)]
            if running and kill9(rng.choice(running)):
                kills += 1
        assert runner.wait(timeout=300) == 0, (tmp_path / "runner.log").read_text()
    except BaseException:
        clean_up_after_failure(runner, launcher_pids(runner.pid))
        raise
    row.faults += kills
    assert kills == TRIAL_KILLS, f"the run ended after {kills} kills"
    said = (tmp_path / "runner.log").read_text()
    no_traceback(said)
    # each kill cost its trial exactly one attempt, and the retry was said
    attempts = sum(t.attempt for t in all_trials(url))
    assert kills - 1 <= attempts <= kills, (kills, attempts)  # a kill may land on a trial that just ended
    assert said.count("re-queued: killed by signal 9; retrying") == attempts, said
    row.messages += attempts
    rerun = run_cli("run", str(spec), "--store", url, cwd=tmp_path, timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    check_after(url, acks, budget, row)
