"""A trial that ignores SIGTERM: past run.timeout, and when the runner is stopped,
it is killed after the grace period, nothing is left running, and the message
says what happened and what to do.
"""

from __future__ import annotations

import signal

import pytest

from tests.execution.harness import alive, all_trials, clean_up_after_failure, run_cli, start_cli, store_url, wait_for
from tests.faults.harness import check_after, faulty_spec, launcher_pids, no_traceback, write_faulty
from tunebook.core.states import TrialState

pytestmark = pytest.mark.slow


def test_a_timed_out_trial_that_ignores_sigterm_is_killed_and_says_why(tmp_path, figures):
    row = figures("trial ignores SIGTERM (timeout)")
    acks = write_faulty(tmp_path, steps=400, pause=0.05, ignore_term=True)  # 20 s, far past the timeout
    spec, url = faulty_spec(tmp_path, 1, timeout=1.5), store_url(tmp_path)
    done = run_cli("run", str(spec), "--store", url, cwd=tmp_path, timeout=120)
    said = done.stdout + done.stderr
    no_traceback(said)
    trials = all_trials(url)
    row.faults += len(trials)
    assert [t.state for t in trials] == [TrialState.FAILED] * 2, said
    for trial in trials:
        assert "timed out (run.timeout); it ignored SIGTERM for 5 s and was killed (SIGKILL): " \
               "let the program exit on SIGTERM, or raise run.timeout" in trial.reason, trial.reason
        row.messages += 1
    check_after(url, acks, 1, row)


def test_stopping_the_runner_kills_a_trial_that_ignores_sigterm_after_the_grace(tmp_path, figures):
    row = figures("trial ignores SIGTERM (runner stop)")
    acks = write_faulty(tmp_path, steps=400, pause=0.05, ignore_term=True)
    spec, url = faulty_spec(tmp_path, 1), store_url(tmp_path)
    runner = start_cli("run", str(spec), "--store", url, cwd=tmp_path, log=tmp_path / "runner.log")
    try:
        trials = wait_for(lambda: len(launcher_pids(runner.pid)) == 2 and launcher_pids(runner.pid), 60,
                          "two trials to start")
        wait_for(lambda: len(list(acks.glob("*.acks"))) == 2, 30, "both trials to save points")
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=30) != 0
    except BaseException:
        clean_up_after_failure(runner, launcher_pids(runner.pid))
        raise
    row.faults += 2
    said = (tmp_path / "runner.log").read_text()
    no_traceback(said)
    assert not any(alive(pid) for pid in trials), "a trial outlived its runner"
    assert "2 running trial(s) handed back. Run the same command again to resume" in said, said
    row.messages += 1
    write_faulty(tmp_path, steps=10, pause=0.0, ignore_term=True)  # the rerun's trials end on their own
    rerun = run_cli("run", str(spec), "--store", url, cwd=tmp_path, timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    check_after(url, acks, 1, row)
