"""A conformance suite every ``Store`` implementation must pass.

Subclass ``StoreConformance`` in a test module and provide a ``store_url``
fixture: the URL of a fresh, empty store that other processes can open. The
``store`` fixture opens it with ``open_store``; override it to test a store
that ``open_store`` does not build::

    class TestSQLiteStore(StoreConformance):
        @pytest.fixture
        def store_url(self, tmp_path):
            return f"sqlite:///{tmp_path / 'store.db'}"

Concurrency tests start real processes (spawn), each opening its own store.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import time
import traceback
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pytest

from tunebook.core.errors import ConflictError, NotFoundError, StoreError
from tunebook.core.records import Suggestion, Trial
from tunebook.core.states import TrialState
from tunebook.storage import Store, open_store
from tunebook.storage.base import FinishedStudy, FinishedTrial

SPEC = {"goal": "compare depths", "objective": {"metric": "eval/loss", "mode": "min"}}


def params_for(number: int) -> dict[str, Any]:
    return {"learning_rate": 10.0 ** (-number % 5), "layers[arch=mlp]": number}


def claim(store: Store, study_id: int, worker: str = "w") -> Trial | None:
    return store.claim_trial(study_id, worker, params_for)


def run_in_processes(target: Callable[..., Any], args: Sequence[tuple], timeout: float = 120.0) -> list[Any]:
    """Run ``target(*a)`` for each ``a`` in its own spawned process, all starting
    together; their return values in order. A failure in one fails the caller."""
    context = multiprocessing.get_context("spawn")
    results, barrier = context.Queue(), context.Barrier(len(args))
    processes = [
        context.Process(target=_child, args=(target, i, a, barrier, results)) for i, a in enumerate(args)
    ]
    for process in processes:
        process.start()
    try:
        returned = dict(_collect(results, len(processes), timeout))
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    return [returned[i] for i in range(len(processes))]


def _child(target: Callable[..., Any], index: int, args: tuple, barrier: Any, results: Any) -> None:
    try:
        barrier.wait(timeout=60)
        results.put((index, True, target(*args)))
    except BaseException:
        results.put((index, False, traceback.format_exc()))


def _collect(results: Any, count: int, timeout: float) -> Iterator[tuple[int, Any]]:
    for _ in range(count):
        index, ok, value = results.get(timeout=timeout)
        if not ok:
            raise AssertionError(f"process {index} failed:\n{value}")
        yield index, value


def _claim_loop(url: str, study_id: int, worker: str) -> list[tuple[int, int]]:
    """Claim and finish until nothing is left; every 7th trial is retried once."""
    claimed = []
    with open_store(url) as store:
        while (trial := claim(store, study_id, worker)) is not None:
            claimed.append((trial.number, trial.attempt))
            if trial.number % 7 == 0 and trial.attempt == 0:
                store.finish_trial(trial.id, TrialState.WAITING, reason="retry once")
            else:
                store.finish_trial(trial.id, TrialState.COMPLETE, objective=float(trial.number))
    return claimed


def _open_and_ensure(url: str) -> tuple[int, int]:
    with open_store(url) as store:
        experiment = store.ensure_experiment("race", SPEC)
        return experiment.id, store.ensure_study(experiment.id, "joint", {}, 10).id


def _finish_then_die(url: str, trial_id: int) -> None:
    store = open_store(url)
    store.log_curves(trial_id, {"loss": ([0, 1], [0.5, math.inf])})
    store.finish_trial(trial_id, TrialState.COMPLETE, objective=0.25, best_step=1)
    os.kill(os.getpid(), signal.SIGKILL)


def finished_studies(bad: Any = None) -> list[FinishedStudy]:
    """Two studies of finished trials; ``bad`` (if given) replaces the last trial's loss values."""
    first = [
        FinishedTrial({"lr": 0.1}, TrialState.COMPLETE, {"loss": ([0, 10], [1.0, 0.5])}, objective=0.5, best_step=10),
        FinishedTrial({"lr": 1.0}, TrialState.INFEASIBLE, {"loss": ([0], [math.nan])}, reason="loss is nan"),
    ]
    last = ([0, 5], [2.0, 1.5] if bad is None else bad)
    second = [
        FinishedTrial({"lr": 0.01}, TrialState.COMPLETE, objective=0.7, best_step=None),
        FinishedTrial({"lr": 0.1}, TrialState.COMPLETE, {"loss": last, "lr": ([0], [0.1])}, objective=1.5, best_step=5),
    ]
    return [FinishedStudy("depth=2", {"depth": 2}, first), FinishedStudy("depth=4", {"depth": 4}, second)]


class InterruptingValues:
    """Curve values whose reading (midway through a write) runs ``peek`` then raises KeyboardInterrupt."""

    def __init__(self, peek: Callable[[], None]) -> None:
        self.peek = peek

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        self.peek()
        raise KeyboardInterrupt


def assert_recent_utc(when: datetime | None) -> None:
    assert when is not None and when.tzinfo is not None
    assert when.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - when) < timedelta(minutes=5)


def assert_bits_equal(actual: Any, expected: list[float]) -> None:
    """Equal to the bit: NaN, -0.0 and infinities included."""
    actual = np.asarray(actual, dtype=np.float64)
    assert actual.view(np.int64).tolist() == np.asarray(expected, dtype=np.float64).view(np.int64).tolist()


class StoreFixtures:
    """The fixtures every conformance suite starts from: an open ``store`` at ``store_url`` and a ``study`` in it."""

    @pytest.fixture
    def store(self, store_url: str) -> Iterator[Store]:
        with open_store(store_url) as store:
            yield store

    @pytest.fixture
    def study(self, store: Store) -> Any:
        experiment = store.ensure_experiment("exp", SPEC)
        return store.ensure_study(experiment.id, "joint", {}, budget=3)


class StoreConformance(StoreFixtures):
    """Behaviour every Store must show; needs a ``store_url`` fixture."""

    # -- experiments -------------------------------------------------------
    def test_ensure_experiment_is_idempotent(self, store: Store) -> None:
        first = store.ensure_experiment("exp", SPEC)
        reordered = {"objective": {"mode": "min", "metric": "eval/loss"}, "goal": "compare depths"}
        again = store.ensure_experiment("exp", reordered)
        assert again == first
        assert first.name == "exp" and dict(first.spec) == SPEC
        assert_recent_utc(first.created_at)
        assert store.get_experiment("exp") == first

    def test_ensure_experiment_conflicts_on_other_spec(self, store: Store) -> None:
        store.ensure_experiment("exp", SPEC)
        with pytest.raises(ConflictError, match="'exp'"):
            store.ensure_experiment("exp", {**SPEC, "goal": "something else"})

    def test_unknown_experiment_is_not_found(self, store: Store) -> None:
        with pytest.raises(NotFoundError, match="no experiment named 'nope' in store"):
            store.get_experiment("nope")
        with pytest.raises(NotFoundError):
            store.list_studies(12345)

    def test_experiments_list_oldest_first(self, store: Store) -> None:
        names = ["b", "a", "c"]
        for name in names:
            store.ensure_experiment(name, {"n": name, "x": math.inf})
        listed = store.list_experiments()
        assert [e.name for e in listed] == names
        assert listed[0].spec["x"] == math.inf

    # -- imported experiments ------------------------------------------------
    def test_import_experiment_stores_finished_trials(self, store: Store) -> None:
        record = store.import_experiment("old", SPEC, finished_studies(), source="/runs", worker="importer")
        assert (record.name, dict(record.spec), record.source) == ("old", SPEC, "/runs")
        assert store.get_experiment("old") == record
        studies = store.list_studies(record.id)
        assert [(s.key, dict(s.scientific), s.budget) for s in studies] == [("depth=2", {"depth": 2}, 2),
                                                                          ("depth=4", {"depth": 4}, 2)]
        trials = store.list_trials(experiment_id=record.id)
        assert [(t.number, t.params["lr"], t.state, t.objective, t.best_step, t.reason) for t in trials] == [
            (0, 0.1, TrialState.COMPLETE, 0.5, 10, None), (1, 1.0, TrialState.INFEASIBLE, None, None, "loss is nan"),
            (0, 0.01, TrialState.COMPLETE, 0.7, None, None), (1, 0.1, TrialState.COMPLETE, 1.5, 5, None),
        ]
        assert {t.worker for t in trials} == {"importer"} and {t.attempt for t in trials} == {0}
        for trial in trials:
            assert_recent_utc(trial.finished_at)
        frame = store.load_curves(experiment_id=record.id)
        assert frame["trial_id"].tolist() == [trials[0].id] * 2 + [trials[1].id] + [trials[3].id] * 3
        assert_bits_equal(frame["value"], [1.0, 0.5, math.nan, 2.0, 1.5, 0.1])
        assert all(claim(store, study.id) is None for study in studies)  # every budget is used

    def test_import_experiment_keeps_when_runs_ran(self, store: Store) -> None:
        ran = datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=timezone(timedelta(hours=1)))
        done = FinishedTrial({"lr": 0.1}, TrialState.FAILED, reason="crashed", started_at=ran,
                             finished_at=ran + timedelta(hours=3, microseconds=500))
        record = store.import_experiment("old", SPEC, [FinishedStudy("depth=2", {"depth": 2}, [done])])
        [trial] = store.list_trials(experiment_id=record.id)
        assert (trial.started_at, trial.finished_at) == (done.started_at, done.finished_at)
        assert trial.started_at.utcoffset() == timedelta(0)  # read back in UTC

    def test_import_experiment_never_touches_an_existing_one(self, store: Store) -> None:
        existing = store.ensure_experiment("old", SPEC)
        study = store.ensure_study(existing.id, "depth=2", {"depth": 2}, budget=1)
        trial = claim(store, study.id)
        with pytest.raises(ConflictError, match="'old' already exists"):
            store.import_experiment("old", SPEC, finished_studies())
        assert store.list_experiments() == [existing]
        assert store.list_trials(experiment_id=existing.id) == [trial]
        with pytest.raises(ValueError, match="study keys must differ"):
            store.import_experiment("new", SPEC, finished_studies()[:1] * 2)
        with pytest.raises(ValueError, match="'running'"):
            FinishedTrial({}, TrialState.RUNNING)

    def test_failed_import_leaves_nothing(self, store: Store) -> None:
        with pytest.raises(StoreError, match="'loss'.*2 steps but 1 values"):
            store.import_experiment("old", SPEC, finished_studies(bad=[1.0]))
        assert store.list_experiments() == [] and len(store.load_curves()) == 0
        record = store.import_experiment("old", SPEC, finished_studies())  # the same import, run again
        assert len(store.list_trials(experiment_id=record.id)) == 4

    def test_interrupted_import_is_invisible_then_leaves_nothing(self, store: Store, store_url: str) -> None:
        seen: list[list[str]] = []

        def peek() -> None:  # another process's view, midway through the import
            with open_store(store_url) as other:
                seen.append([e.name for e in other.list_experiments()])

        with pytest.raises(KeyboardInterrupt):
            store.import_experiment("old", SPEC, finished_studies(bad=InterruptingValues(peek)))
        assert seen == [[]]
        assert store.list_experiments() == [] and len(store.load_curves()) == 0
        store.import_experiment("old", SPEC, finished_studies())
        assert [e.name for e in store.list_experiments()] == ["old"]

    # -- studies -----------------------------------------------------------
    def test_ensure_study_updates_budget_only(self, store: Store) -> None:
        experiment = store.ensure_experiment("exp", SPEC)
        first = store.ensure_study(experiment.id, "layers=2", {"layers": 2}, budget=5)
        raised = store.ensure_study(experiment.id, "layers=2", {"layers": 2}, budget=9)
        assert (raised.id, raised.budget, raised.created_at) == (first.id, 9, first.created_at)
        assert store.ensure_study(experiment.id, "layers=2", {"layers": 2}, budget=9) == raised
        assert_recent_utc(first.created_at)

    def test_ensure_study_conflicts_on_scientific_values(self, store: Store) -> None:
        experiment = store.ensure_experiment("exp", SPEC)
        store.ensure_study(experiment.id, "layers=2", {"layers": 2}, budget=5)
        with pytest.raises(ConflictError, match="layers=2"):
            store.ensure_study(experiment.id, "layers=2", {"layers": 3}, budget=5)

    def test_a_retrain_study_keeps_its_source_trial(self, store: Store, study: Any) -> None:
        source = claim(store, study.id)
        linked = store.ensure_study(study.experiment_id, "retrain:joint:0", {}, budget=3, source_trial_id=source.id)
        assert linked.source_trial_id == source.id and study.source_trial_id is None
        grown = store.ensure_study(study.experiment_id, "retrain:joint:0", {}, budget=5, source_trial_id=source.id)
        assert (grown.id, grown.budget, grown.source_trial_id) == (linked.id, 5, source.id)
        assert [s.source_trial_id for s in store.list_studies(study.experiment_id)] == [None, source.id]
        with pytest.raises(ConflictError, match="source trial"):
            store.ensure_study(study.experiment_id, "retrain:joint:0", {}, budget=5)

    def test_studies_belong_to_their_experiment(self, store: Store) -> None:
        one = store.ensure_experiment("one", SPEC)
        two = store.ensure_experiment("two", SPEC)
        keys = ["layers=4", "layers=2"]
        for key in keys:
            store.ensure_study(one.id, key, {"layers": int(key[-1])}, budget=1)
        store.ensure_study(two.id, "joint", {}, budget=1)
        assert [s.key for s in store.list_studies(one.id)] == keys
        assert [s.key for s in store.list_studies(two.id)] == ["joint"]
        with pytest.raises(NotFoundError):
            store.ensure_study(9999, "joint", {}, budget=1)

    # -- claiming ------------------------------------------------------------
    def test_claims_new_numbers_in_order_up_to_budget(self, store: Store, study: Any) -> None:
        claimed = [claim(store, study.id, worker=f"w{i}") for i in range(3)]
        assert [t.number for t in claimed] == [0, 1, 2]
        for i, trial in enumerate(claimed):
            assert trial.state is TrialState.RUNNING and trial.attempt == 0
            assert trial.worker == f"w{i}" and dict(trial.params) == params_for(i)
            assert_recent_utc(trial.started_at)
        assert claim(store, study.id) is None

    def test_claims_waiting_trials_first_lowest_number_first(self, store: Store, study: Any) -> None:
        trials = [claim(store, study.id) for _ in range(3)]
        store.finish_trial(trials[2].id, TrialState.WAITING)
        store.finish_trial(trials[1].id, TrialState.WAITING, reason="preempted")
        again = claim(store, study.id, worker="second")
        assert (again.id, again.number, again.attempt, again.worker) == (trials[1].id, 1, 1, "second")
        assert claim(store, study.id).number == 2
        assert claim(store, study.id) is None
        store.ensure_study(study.experiment_id, "joint", {}, budget=4)  # raise it and resume
        assert claim(store, study.id).number == 3

    def test_failed_params_for_claims_nothing(self, store: Store, study: Any) -> None:
        def broken(number: int) -> dict[str, Any]:
            raise RuntimeError("sampler crashed")

        with pytest.raises(RuntimeError, match="sampler crashed"):
            store.claim_trial(study.id, "w", broken)
        assert store.list_trials(study_id=study.id) == []
        assert claim(store, study.id).number == 0

    def test_a_suggestion_stores_its_info_with_the_trial(self, store: Store, study: Any) -> None:
        info = {"by": "model", "conditioned_on": [np.int64(0)], "pending": [], "reason": "LogEI x P(feasible)"}
        claimed = store.claim_trial(study.id, "w", lambda number: Suggestion({"lr": 0.1}, info))
        plain = store.claim_trial(study.id, "w", params_for)
        stored = {t.number: t for t in store.list_trials(study_id=study.id)}
        assert stored[0].suggestion == {**info, "conditioned_on": [0]} == claimed.suggestion
        assert dict(stored[0].params) == {"lr": 0.1}
        assert stored[1].suggestion is None and plain.suggestion is None
        with pytest.raises(StoreError, match="suggestion info of trial 2"):
            store.claim_trial(study.id, "w", lambda number: Suggestion({"lr": 0.1}, {"x": object()}))
        assert len(store.list_trials(study_id=study.id)) == 2

    def test_params_keep_numpy_and_non_finite_values(self, store: Store, study: Any) -> None:
        params = {"lr": np.float64(0.1), "n": np.int64(3), "beta": math.nan, "clip": math.inf}
        store.claim_trial(study.id, "w", lambda number: params)
        stored = store.list_trials(study_id=study.id)[0].params
        assert (stored["lr"], stored["n"], stored["clip"]) == (0.1, 3, math.inf) and math.isnan(stored["beta"])
        with pytest.raises(StoreError, match="params of trial 1"):
            store.claim_trial(study.id, "w", lambda number: {"x": object()})

    def test_claim_from_unknown_study_is_not_found(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            claim(store, 4242)

    # -- finishing -----------------------------------------------------------
    @pytest.mark.parametrize("state", [TrialState.COMPLETE, TrialState.INFEASIBLE, TrialState.FAILED])
    def test_finish_records_outcome(self, store: Store, study: Any, state: TrialState) -> None:
        trial = claim(store, study.id)
        done = store.finish_trial(trial.id, state, objective=-math.inf, best_step=7, reason="why")
        assert (done.state, done.objective, done.best_step, done.reason) == (state, -math.inf, 7, "why")
        assert_recent_utc(done.finished_at)
        assert store.get_trial(trial.id) == done
        assert done.started_at == trial.started_at and done.params == trial.params

    def test_finish_to_waiting_retries(self, store: Store, study: Any) -> None:
        trial = claim(store, study.id)
        waiting = store.finish_trial(trial.id, TrialState.WAITING, reason="node lost")
        assert (waiting.state, waiting.attempt, waiting.reason) == (TrialState.WAITING, 1, "node lost")
        assert waiting.finished_at is None
        retried = claim(store, study.id)
        assert (retried.id, retried.state, retried.attempt) == (trial.id, TrialState.RUNNING, 1)

    def test_release_requeues_without_spending_an_attempt(self, store: Store, study: Any) -> None:
        trial = claim(store, study.id)
        released = store.release_trial(trial.id, reason="interrupted")
        assert (released.state, released.attempt, released.reason) == (TrialState.WAITING, 0, "interrupted")
        assert released.worker is None and released.started_at is None
        again = claim(store, study.id)
        assert (again.id, again.number, again.attempt) == (trial.id, trial.number, 0)
        store.finish_trial(again.id, TrialState.COMPLETE, objective=1.0)
        with pytest.raises(ConflictError, match="not running"):
            store.release_trial(again.id)

    def test_replace_spec_keeps_identity(self, store: Store) -> None:
        record = store.ensure_experiment("exp", {"search": {"trials": 5}}, source="/specs/a.yaml")
        assert record.source == "/specs/a.yaml"
        replaced = store.replace_spec(record.id, {"search": {"trials": 9}}, source="/specs/b.yaml")
        assert (replaced.id, replaced.name, dict(replaced.spec)) == (record.id, "exp", {"search": {"trials": 9}})
        assert store.get_experiment("exp").source == "/specs/b.yaml"
        assert store.get_experiment("exp").spec == {"search": {"trials": 9}}
        assert store.ensure_experiment("exp", {"search": {"trials": 9}}).id == record.id
        with pytest.raises(NotFoundError):
            store.replace_spec(999_999, {})

    def test_finish_checks_the_move(self, store: Store, study: Any) -> None:
        trial = claim(store, study.id)
        with pytest.raises(ValueError):
            store.finish_trial(trial.id, TrialState.RUNNING)
        store.finish_trial(trial.id, TrialState.COMPLETE, objective=1.0)
        with pytest.raises(ConflictError, match="already complete"):
            store.finish_trial(trial.id, TrialState.FAILED)
        with pytest.raises(NotFoundError):
            store.finish_trial(999_999, TrialState.COMPLETE)
        with pytest.raises(NotFoundError):
            store.get_trial(999_999)

    def test_nan_objective_reads_back_as_none(self, store: Store, study: Any) -> None:
        trial = claim(store, study.id)
        assert store.finish_trial(trial.id, TrialState.INFEASIBLE, objective=math.nan).objective is None

    # -- heartbeats and stale trials --------------------------------------------
    def test_heartbeat_records_now(self, store: Store, study: Any) -> None:
        trial = claim(store, study.id)
        assert trial.heartbeat_at is None
        store.heartbeat(trial.id)
        beat = store.get_trial(trial.id).heartbeat_at
        assert_recent_utc(beat)
        assert beat >= trial.started_at
        with pytest.raises(NotFoundError):
            store.heartbeat(999_999)

    def test_reclaim_stale_requeues_silent_trials(self, store: Store, study: Any) -> None:
        silent, beating, finished = (claim(store, study.id) for _ in range(3))
        store.finish_trial(finished.id, TrialState.COMPLETE, objective=1.0)
        time.sleep(0.5)
        store.heartbeat(beating.id)
        assert store.reclaim_stale(study.id, timedelta(seconds=0.3), max_attempts=3) == 1
        requeued = store.get_trial(silent.id)
        assert (requeued.state, requeued.attempt) == (TrialState.WAITING, 1)
        assert store.get_trial(beating.id).state is TrialState.RUNNING
        assert store.get_trial(finished.id).state is TrialState.COMPLETE
        assert store.reclaim_stale(study.id, timedelta(minutes=10), max_attempts=3) == 0
        assert claim(store, study.id).id == silent.id

    def test_reclaim_stale_fails_trials_out_of_attempts(self, store: Store, study: Any) -> None:
        trial = claim(store, study.id)
        assert store.reclaim_stale(study.id, timedelta(0), max_attempts=2) == 1
        assert claim(store, study.id).attempt == 1
        assert store.reclaim_stale(study.id, timedelta(0), max_attempts=2) == 1
        failed = store.get_trial(trial.id)
        assert (failed.state, failed.attempt) == (TrialState.FAILED, 1)
        assert failed.reason and "heartbeat" in failed.reason
        assert_recent_utc(failed.finished_at)

    # -- listing ---------------------------------------------------------------
    def test_list_trials_by_study_and_experiment(self, store: Store) -> None:
        experiment = store.ensure_experiment("exp", SPEC)
        other = store.ensure_experiment("other", SPEC)
        a = store.ensure_study(experiment.id, "a", {}, budget=2)
        b = store.ensure_study(experiment.id, "b", {}, budget=2)
        c = store.ensure_study(other.id, "c", {}, budget=1)
        for study_id in (b.id, a.id, b.id, c.id, a.id):
            claim(store, study_id)
        by_study = store.list_trials(study_id=b.id)
        assert [(t.study_id, t.number) for t in by_study] == [(b.id, 0), (b.id, 1)]
        by_experiment = store.list_trials(experiment_id=experiment.id)
        assert [(t.study_id, t.number) for t in by_experiment] == [(a.id, 0), (a.id, 1), (b.id, 0), (b.id, 1)]
        assert [t.study_id for t in store.list_trials(experiment_id=other.id)] == [c.id]

    # -- curves ----------------------------------------------------------------
    def test_curves_round_trip_exactly(self, store: Store, study: Any) -> None:
        trial = claim(store, study.id)
        values = [0.5, math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324]
        store.log_curves(trial.id, {"train/loss": (range(7), values), "lr": ([0], [0.1])})
        frame = store.load_curves(trial_ids=[trial.id])
        assert list(frame.columns) == ["trial_id", "metric", "step", "value"]
        assert str(frame["metric"].dtype) == "category"
        assert [str(frame[c].dtype) for c in ("trial_id", "step", "value")] == ["int64", "int64", "float64"]
        assert frame["metric"].tolist() == ["lr"] + ["train/loss"] * 7
        assert frame["step"].tolist() == [0, *range(7)]
        assert_bits_equal(frame["value"], [0.1, *values])

    def test_curves_append_and_sort_by_step(self, store: Store, study: Any) -> None:
        trial = claim(store, study.id)
        store.log_curves(trial.id, {"loss": ([10, 20], [1.0, 2.0])})
        store.log_curves(trial.id, {"loss": (np.array([30, 5]), np.array([3.0, 0.5]))})
        store.log_curves(trial.id, {"loss": ([20], [2.5])})  # a step logged twice: both kept
        frame = store.load_curves(trial_ids=[trial.id])
        assert frame["step"].tolist() == [5, 10, 20, 20, 30]
        assert frame["value"].tolist() == [0.5, 1.0, 2.0, 2.5, 3.0]

    def test_curves_filter_by_experiment_and_trials(self, store: Store, study: Any) -> None:
        other = store.ensure_experiment("other", SPEC)
        other_study = store.ensure_study(other.id, "joint", {}, budget=1)
        first, second = claim(store, study.id), claim(store, study.id)
        stranger = claim(store, other_study.id)
        for trial in (second, first, stranger):
            store.log_curves(trial.id, {"b": ([0, 1], [trial.id, 1.0]), "a": ([0], [2.0])})
        mine = store.load_curves(experiment_id=study.experiment_id)
        assert mine["trial_id"].tolist() == [first.id] * 3 + [second.id] * 3
        assert mine["metric"].tolist() == ["a", "b", "b"] * 2
        assert store.load_curves(trial_ids=[stranger.id])["trial_id"].unique().tolist() == [stranger.id]
        empty = store.load_curves(trial_ids=[])
        assert list(empty.columns) == ["trial_id", "metric", "step", "value"] and len(empty) == 0
        only_b = store.load_curves(experiment_id=study.experiment_id, metrics=["b", "unknown"])
        assert only_b["metric"].tolist() == ["b"] * 4 and only_b["trial_id"].tolist() == [first.id] * 2 + [second.id] * 2
        assert len(store.load_curves(experiment_id=study.experiment_id, metrics=[])) == 0

    def test_bad_curves_are_refused(self, store: Store, study: Any) -> None:
        trial = claim(store, study.id)
        with pytest.raises(StoreError, match="'loss'.*2 steps but 1 values"):
            store.log_curves(trial.id, {"loss": ([0, 1], [1.0])})
        with pytest.raises(StoreError, match="integers"):
            store.log_curves(trial.id, {"loss": ([0.5], [1.0])})
        with pytest.raises(NotFoundError):
            store.log_curves(999_999, {"loss": ([0], [1.0])})
        assert len(store.load_curves(trial_ids=[trial.id])) == 0

    # -- checkpoints and notes --------------------------------------------------
    def test_checkpoints_add_replace_remove(self, store: Store, study: Any) -> None:
        trial = claim(store, study.id)
        store.add_checkpoint(trial.id, 200, "ckpt/200.pt", 0.5)
        store.add_checkpoint(trial.id, 100, "ckpt/100.pt", None)
        store.add_checkpoint(trial.id, 200, "ckpt/200-b.pt", 0.25)
        listed = store.list_checkpoints(trial.id)
        assert [(c.step, c.path, c.value) for c in listed] == [(100, "ckpt/100.pt", None), (200, "ckpt/200-b.pt", 0.25)]
        assert_recent_utc(listed[0].created_at)
        store.remove_checkpoint(trial.id, 100)
        assert [c.step for c in store.list_checkpoints(trial.id)] == [200]
        with pytest.raises(NotFoundError):
            store.remove_checkpoint(trial.id, 100)
        with pytest.raises(NotFoundError):
            store.add_checkpoint(999_999, 1, "x.pt", None)

    def test_notes_oldest_first(self, store: Store) -> None:
        experiment = store.ensure_experiment("exp", SPEC)
        first = store.add_note(experiment.id, "baseline looks unstable")
        store.add_note(experiment.id, "raised warmup")
        notes = store.list_notes(experiment.id)
        assert [n.text for n in notes] == ["baseline looks unstable", "raised warmup"]
        assert notes[0] == first and first.experiment_id == experiment.id
        assert_recent_utc(first.created_at)
        with pytest.raises(NotFoundError):
            store.add_note(999_999, "lost")

    def test_page_trials_sorts_filters_and_cuts_in_the_database(self, store: Store) -> None:
        experiment = store.ensure_experiment("exp", SPEC)
        studies = [store.ensure_study(experiment.id, key, {}, budget=6) for key in ("b", "a")]
        made = []
        for i in range(12):
            trial = store.claim_trial(studies[i % 2].id, "w", lambda n, i=i: (
                {"lr": 10.0 ** -(i % 4), "layers[arch=mlp]": i} if i % 3 else {"lr": 10.0 ** -(i % 4)}))
            objective = None if i % 5 == 0 else float((i * 7) % 11)
            made.append(store.finish_trial(trial.id, TrialState.COMPLETE, objective=objective))
        key = {s.id: s.key for s in studies}
        name = lambda t: (key[t.study_id], t.number)  # noqa: E731
        page, matching = store.page_trials(experiment.id, limit=100)
        assert [name(t) for t in page] == sorted(name(t) for t in made) and matching == 12
        by_objective, _ = store.page_trials(experiment.id, sort="objective", descending=True, limit=100)
        scored = [t.objective for t in by_objective if t.objective is not None]
        assert scored == sorted(scored, reverse=True) and [t.objective for t in by_objective[-3:]] == [None] * 3
        layers, matching = store.page_trials(experiment.id, sort="layers[arch=mlp]", ranges={"lr": (0.001, 0.1)},
                                             numeric_params=["lr", "layers[arch=mlp]"], limit=100)
        expected = sorted((t for t in made if 0.001 <= t.params["lr"] <= 0.1),
                          key=lambda t: (t.params.get("layers[arch=mlp]") is None, t.params.get("layers[arch=mlp]", 0),
                                         t.study_id, t.number))
        assert [t.id for t in layers] == [t.id for t in expected] and matching == len(expected)
        second, matching = store.page_trials(experiment.id, studies=["a"], sort="lr", numeric_params=["lr"],
                                             offset=2, limit=2)
        in_a = sorted((t for t in made if key[t.study_id] == "a"), key=lambda t: (t.params["lr"], t.number))
        assert [t.id for t in second] == [t.id for t in in_a[2:4]] and matching == 6
        with pytest.raises(ValueError, match="sort='lr'"):
            store.page_trials(experiment.id, sort="lr")

    def test_summarize_studies_counts_and_picks_the_best_as_reading_every_trial_would(self, store: Store) -> None:
        experiment = store.ensure_experiment("exp", SPEC)
        a, b, empty = (store.ensure_study(experiment.id, key, {}, budget=8) for key in ("a", "b", "c"))
        outcomes = [(TrialState.COMPLETE, 3.0), (TrialState.COMPLETE, 1.0), (TrialState.COMPLETE, 1.0),
                    (TrialState.INFEASIBLE, None), (TrialState.COMPLETE, 5.0), (TrialState.COMPLETE, None)]
        for study in (a, b):
            for state, objective in outcomes[: 6 if study is a else 2]:
                store.finish_trial(claim(store, study.id).id, state, objective=objective)
        running = claim(store, a.id)
        store.heartbeat(running.id)
        summaries = store.summarize_studies(experiment.id, "min")
        assert summaries == Store.summarize_studies(store, experiment.id, "min")  # the reference: every trial read
        assert dict(summaries[a.id].counts) == {TrialState.COMPLETE: 5, TrialState.INFEASIBLE: 1,
                                                TrialState.RUNNING: 1}
        assert (summaries[a.id].best.number, summaries[a.id].best.objective) == (1, 1.0)  # a tie: the lowest number
        assert [t.id for t in summaries[a.id].running] == [running.id]
        assert summaries[a.id].last_activity == store.get_trial(running.id).heartbeat_at
        assert summaries[empty.id].counts == {} and summaries[empty.id].best is None
        assert summaries[empty.id].last_activity is None and summaries[empty.id].running == ()
        highest = store.summarize_studies(experiment.id, "max")
        assert highest == Store.summarize_studies(store, experiment.id, "max") and highest[a.id].best.number == 4
        with pytest.raises(NotFoundError):
            store.summarize_studies(999_999)

    def test_trial_notes_are_kept_apart_from_the_experiments(self, store: Store, study: Any) -> None:
        experiment_id = study.experiment_id
        trial, other_trial = claim(store, study.id), claim(store, study.id)
        store.add_note(experiment_id, "on the experiment")
        on_trial = store.add_note(experiment_id, "lr too high here", trial_id=trial.id)
        assert on_trial.trial_id == trial.id and on_trial.experiment_id == experiment_id
        assert [n.text for n in store.list_notes(experiment_id)] == ["on the experiment"]
        assert store.list_notes(experiment_id, trial_id=trial.id) == [on_trial]
        assert store.list_notes(experiment_id, trial_id=other_trial.id) == []
        assert store.list_trial_notes(experiment_id) == [on_trial]
        elsewhere = store.ensure_experiment("elsewhere", SPEC)
        with pytest.raises(NotFoundError, match=f"trial {trial.id} belongs to experiment"):
            store.add_note(elsewhere.id, "wrong experiment", trial_id=trial.id)
        with pytest.raises(NotFoundError, match="no trial with id 999999"):
            store.add_note(experiment_id, "lost", trial_id=999_999)
        assert store.list_trial_notes(elsewhere.id) == []

    # -- many processes ----------------------------------------------------------
    def test_second_store_sees_writes(self, store: Store, store_url: str, study: Any) -> None:
        trial = claim(store, study.id)
        with open_store(store_url) as other:
            assert other.get_trial(trial.id) == trial
            other.finish_trial(trial.id, TrialState.COMPLETE, objective=2.0)
        assert store.get_trial(trial.id).objective == 2.0

    def test_processes_claim_each_trial_once(self, store: Store, store_url: str) -> None:
        experiment = store.ensure_experiment("exp", SPEC)
        study = store.ensure_study(experiment.id, "joint", {}, budget=200)
        results = run_in_processes(_claim_loop, [(store_url, study.id, f"worker-{i}") for i in range(4)])
        claims = sorted(c for claimed in results for c in claimed)
        assert claims == sorted([(n, 0) for n in range(200)] + [(n, 1) for n in range(0, 200, 7)])
        trials = store.list_trials(study_id=study.id)
        assert [t.number for t in trials] == list(range(200))
        assert {t.state for t in trials} == {TrialState.COMPLETE}
        assert all(dict(t.params) == params_for(t.number) for t in trials)

    def test_processes_open_a_fresh_store_at_once(self, store_url: str) -> None:
        # many at once: the first opener of a fresh SQLite file switches it to WAL
        results = run_in_processes(_open_and_ensure, [(store_url,)] * 12)
        assert len(set(results)) == 1
        with open_store(store_url) as store:
            assert [e.name for e in store.list_experiments()] == ["race"]

    @pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
    def test_writes_survive_kill_of_the_writer(self, store: Store, store_url: str, study: Any) -> None:
        trial = claim(store, study.id)
        process = multiprocessing.get_context("spawn").Process(target=_finish_then_die, args=(store_url, trial.id))
        process.start()
        process.join(timeout=120)
        assert process.exitcode == -signal.SIGKILL
        done = store.get_trial(trial.id)
        assert (done.state, done.objective, done.best_step) == (TrialState.COMPLETE, 0.25, 1)
        assert_bits_equal(store.load_curves(trial_ids=[trial.id])["value"], [0.5, math.inf])
