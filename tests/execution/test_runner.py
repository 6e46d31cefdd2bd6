"""The Runner loop in this process: budgets, studies in turn, Ctrl-C, and trials whose runner is gone."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import threading
import time
from datetime import timedelta

import pytest

from tunebook.core.errors import NotFoundError
from tunebook.core.experiment import Experiment
from tunebook.core.states import TrialState
from tunebook.execution import Interrupted, LocalExecutor, Runner
from tunebook.storage import SQLStore

from .harness import FAST, all_trials, alive, run_here, store_url, trial_folder, wait_for, write_program, write_spec

QUICK = """
import time

def train(params, trial):
    time.sleep(0.1)
    trial.log(0, {"valid_loss": params["lr"]})
"""

SLOW = """
import pathlib, os, time

def train(params, trial):
    pathlib.Path(trial.dir, "pid").write_text(str(os.getpid()))
    for step in range(100):
        trial.log(step, {"valid_loss": params["lr"] + 1.0 / (step + 1)})
        trial.flush()
        time.sleep(0.1)
"""


@pytest.fixture
def project(tmp_path):
    write_program(tmp_path, "quick.py", QUICK)
    write_program(tmp_path, "slow.py", SLOW)
    return tmp_path


def make_runner(spec, store, runs, timing=FAST, parallel=2, **kwargs) -> Runner:
    return Runner(Experiment.from_yaml(str(spec)), store, LocalExecutor(parallel, gpus=[]), runs, timing=timing,
                  **kwargs)


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def test_studies_advance_together_to_their_budgets(project):
    spec = write_spec(project, {"function": "quick:train"}, trials=3, scientific={"width": [4, 16]})
    progress = run_here(spec, store_url(project), project / "runs", parallel=1)
    assert [(p.key, p.complete, p.budget, p.running) for p in progress] == [("width=4", 3, 3, 0), ("width=16", 3, 3, 0)]
    trials = sorted(all_trials(store_url(project)), key=lambda t: t.started_at)
    with SQLStore(store_url(project)) as store:
        keys = {s.id: s.key for s in store.list_studies(store.get_experiment("exp").id)}
    assert [keys[t.study_id] for t in trials] == ["width=4", "width=16"] * 3
    for p in progress:
        best = min((t for t in trials if keys[t.study_id] == p.key), key=lambda t: t.objective)
        assert (p.best, p.best_trial) == (best.objective, best.number)


def test_a_trials_override_sets_the_budget(project):
    spec = write_spec(project, {"function": "quick:train"}, trials=5)
    (progress,) = run_here(spec, store_url(project), project / "runs", trials=2)
    assert (progress.budget, progress.complete) == (2, 2)
    assert len(all_trials(store_url(project))) == 2


def test_ctrl_c_hands_running_trials_back_without_spending_a_retry(project):
    spec = write_spec(project, {"function": "slow:train"}, trials=4)
    runs = project / "runs"

    def interrupt_once_two_run(runner: Runner) -> None:
        if len(runner.executor.running()) == 2 and all(
            (trial_folder(runs, "default", n) / "pid").exists() for n in (0, 1)
        ):
            raise KeyboardInterrupt

    with SQLStore(store_url(project)) as store:
        runner = make_runner(spec, store, runs, on_tick=interrupt_once_two_run)
        with pytest.raises(Interrupted, match=r"2 running trial\(s\) handed back. Run the same command again"):
            runner.run()
    trials = all_trials(store_url(project))
    assert [(t.number, t.state, t.attempt, t.worker) for t in trials] == [
        (0, TrialState.WAITING, 0, None), (1, TrialState.WAITING, 0, None)
    ]
    assert all(t.reason == "interrupted; resumes on the next run" for t in trials)
    for n in (0, 1):
        assert not alive(int((trial_folder(runs, "default", n) / "pid").read_text()))


class CtrlCOnStart(LocalExecutor):
    """A real local executor; Ctrl-C lands as it is about to start trial number ``at``."""

    def __init__(self, at: int) -> None:
        super().__init__(2, gpus=[])
        self.at, self.starts = at, 0

    def start(self, launch):
        self.starts += 1
        if self.starts == self.at:
            raise KeyboardInterrupt
        super().start(launch)


class CtrlCWhileSettling(SQLStore):
    """A real store; Ctrl-C lands while the runner records the first trial that ends."""

    interrupted = False

    def finish_trial(self, *args, **kwargs):
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt
        return super().finish_trial(*args, **kwargs)


@pytest.mark.parametrize("where", ["starting a trial", "settling a trial"])
def test_ctrl_c_at_any_point_of_the_loop_leaves_no_trial_running(project, where):
    spec = write_spec(project, {"function": "quick:train"}, trials=4)
    url = store_url(project)
    experiment = Experiment.from_yaml(str(spec))
    if where == "starting a trial":
        store, executor = SQLStore(url), CtrlCOnStart(at=2)
    else:
        store, executor = CtrlCWhileSettling(url), LocalExecutor(2, gpus=[])
    with store:
        runner = Runner(experiment, store, executor, project / "runs", timing=FAST)
        with pytest.raises(Interrupted):
            runner.run()
    trials = all_trials(url)
    assert trials and all(t.state in (TrialState.WAITING, TrialState.COMPLETE) for t in trials), trials
    assert all(t.attempt == 0 for t in trials)
    for pid_file in (project / "runs").rglob("pid"):
        wait_for(lambda: not alive(int(pid_file.read_text())), 10, "the trial to end")
    (progress,) = run_here(spec, url, project / "runs")  # and the next run finishes the budget
    assert progress.complete == 4 and [t.attempt for t in all_trials(url)] == [0] * 4


def test_a_trial_whose_runner_died_on_this_host_is_taken_back_at_once(project):
    spec = write_spec(project, {"function": "quick:train"}, trials=2)
    patient = dataclasses.replace(FAST, stale_after=600)  # only the dead pid can explain a quick recovery
    with SQLStore(store_url(project)) as store:
        runner = make_runner(spec, store, project / "runs", timing=patient)
        study = runner.studies[0]
        orphan = store.claim_trial(study.id, f"{socket.gethostname()}:{dead_pid()}", study.sampler.params)
        started = time.monotonic()
        runner.run()
        assert time.monotonic() - started < 10
        again = store.get_trial(orphan.id)
    assert (again.number, again.state, again.attempt) == (0, TrialState.COMPLETE, 0)
    assert again.worker == runner.worker and again.objective == again.params["lr"]


def test_a_silent_trial_of_another_host_is_requeued_after_stale_after(project):
    spec = write_spec(project, {"function": "quick:train"}, trials=2)
    with SQLStore(store_url(project)) as store:
        runner = make_runner(spec, store, project / "runs")
        study = runner.studies[0]
        lost = store.claim_trial(study.id, "another-host:4242", study.sampler.params)
        started = time.monotonic()
        runner.run()
        took = time.monotonic() - started
        again = store.get_trial(lost.id)
    assert FAST.stale_after <= took < FAST.stale_after + 10
    assert (again.state, again.attempt, again.worker) == (TrialState.COMPLETE, 1, runner.worker)


def test_the_runner_waits_for_a_trial_another_live_runner_is_running(project):
    spec = write_spec(project, {"function": "quick:train"}, trials=2)
    patient = dataclasses.replace(FAST, stale_after=600)
    sleeper = subprocess.Popen(["sleep", "60"])  # a live process on this host, standing in for another runner
    try:
        with SQLStore(store_url(project)) as store:
            runner = make_runner(spec, store, project / "runs", timing=patient)
            study = runner.studies[0]
            theirs = store.claim_trial(study.id, f"{socket.gethostname()}:{sleeper.pid}", study.sampler.params)
            finished_at = []

            def other_runner() -> None:
                with SQLStore(store_url(project)) as own:
                    time.sleep(1.0)
                    own.log_curves(theirs.id, {"valid_loss": ([0], [0.125])})
                    own.finish_trial(theirs.id, TrialState.COMPLETE, objective=0.125, best_step=0)
                    finished_at.append(time.monotonic())

            thread = threading.Thread(target=other_runner)
            thread.start()
            try:
                progress = runner.run()
            finally:
                thread.join()
            returned = time.monotonic()
            again = store.get_trial(theirs.id)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert returned >= finished_at[0]  # it did not return while the other runner's trial ran
    assert (again.state, again.objective, again.attempt) == (TrialState.COMPLETE, 0.125, 0)
    assert not trial_folder(project / "runs", "default", 0).exists()  # never run here
    assert (progress[0].complete, progress[0].best) == (2, min(0.125, store_trial_objective(project, 1)))


def store_trial_objective(project, number: int) -> float:
    (trial,) = [t for t in all_trials(store_url(project)) if t.number == number]
    return trial.objective


def test_heartbeats_keep_a_long_trial_from_looking_stale(project):
    # stale_after=3 s, a trial of ~4 s: only heartbeats (every 0.5 s) keep a second runner off it
    write_program(project, "long.py", """
        import time

        def train(params, trial):
            for step in range(40):
                trial.log(step, {"valid_loss": 1.0 / (step + 1)})
                time.sleep(0.1)
    """)
    spec = write_spec(project, {"function": "long:train"}, trials=1)
    url = store_url(project)
    observer_saw = []

    def running() -> list:
        try:
            return [t for t in all_trials(url) if t.state is TrialState.RUNNING]
        except NotFoundError:  # the runner has not created the experiment yet
            return []

    def observer() -> None:
        with SQLStore(url) as store:
            (trial,) = wait_for(running, 20, "the trial to start")
            for _ in range(30):
                observer_saw.append(store.reclaim_stale(trial.study_id, timedelta(seconds=FAST.stale_after), 2))
                time.sleep(0.15)

    thread = threading.Thread(target=observer)
    thread.start()
    try:
        run_here(spec, url, project / "runs")
    finally:
        thread.join()
    (trial,) = all_trials(url)
    assert observer_saw == [0] * 30 and (trial.state, trial.attempt) == (TrialState.COMPLETE, 0)
