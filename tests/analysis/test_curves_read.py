"""Reading only the curves the report reads gives the report (findings, plots, page) that reading all gives.

A real SQLite store of 270 trials (more than the 200 a check examines and the
200 faint lines the curves plot draws, so both take a spread), some of them
infeasible with a training-loss curve and no objective curve, and one metric
logged by a single trial that the report does not read. The last points the
partial read keeps of every other curve (``Store.curve_ends``) are checked
against whole reads on SQLite and PostgreSQL, with curves logged in many
chunks, resumed (steps logged twice), backwards and shuffled.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tunebook.analysis import load
from tunebook.analysis.data import latest_points
from tunebook.analysis.checklist import metrics_read, run_checklist
from tunebook.analysis.curve_index import curve_index
from tunebook.core import Experiment, TrialState
from tunebook.core.objective import reduce_curve
from tunebook.report import figures
from tunebook.report.reads import report_reads
from tunebook.search import make_sampler
from tunebook.storage import SQLStore

STEPS = 40
GRAD = "train/grad_norm"


def _write(url: str) -> None:
    exp = Experiment.from_dict({
        "name": "partial", "objective": {"metric": "valid/loss", "mode": "min"},
        "scientific": {"layers": [1, 2]},
        "nuisance": {"lr": {"low": 1e-3, "high": 3.0, "scale": "log"}, "dropout": {"low": 0.0, "high": 0.5}},
        "fixed": {"max_train_steps": STEPS}, "search": {"trials": 135, "seed": 0},
    })
    rng, t = np.random.default_rng(0), np.arange(1, STEPS + 1)
    with SQLStore(url) as store:
        record = store.ensure_experiment(exp.name, exp.to_dict())
        for plan in exp.studies():
            sampler = make_sampler(exp, plan)
            study = store.ensure_study(record.id, plan.key, plan.scientific, exp.search.trials)
            while (trial := store.claim_trial(study.id, "test", sampler.params)) is not None:
                lr, drop = trial.params["lr"], trial.params["dropout"]
                train = 0.3 + drop + 2.0 * np.exp(-min(lr, 0.3) * t / 4) + rng.normal(0, 0.02, STEPS)
                if lr > 1.0 and rng.random() < 0.5:  # diverged before its first evaluation
                    store.log_curves(trial.id, {"train/loss": (t[:10], train[:10] * np.exp(t[:10]))})
                    store.finish_trial(trial.id, TrialState.INFEASIBLE, reason="diverged")
                    continue
                valid = train + 0.1 * plan.scientific["layers"] + rng.normal(0, 0.01, STEPS)
                store.log_curves(trial.id, {"train/loss": (t, train), "valid/loss": (t, valid)})
                value, best = reduce_curve(t, valid, "min", "best")
                store.finish_trial(trial.id, TrialState.COMPLETE, objective=value, best_step=best)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """(url, data read whole, data read as the report reads, the trial that alone logged GRAD)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('partial') / 'store.db'}"
    _write(url)
    whole = load("partial", url, metrics=metrics_read("valid/loss"))
    complete = whole.trials.loc[whole.trials["state"] == "complete", "trial_id"].astype(int)
    unread = next(t for t in complete if t not in report_reads(whole))
    with SQLStore(url) as store:
        store.log_curves(unread, {GRAD: (np.arange(1, 11), np.linspace(1.0, 2.0, 10))})
    whole = load("partial", url, metrics=metrics_read("valid/loss"))
    return url, whole, load("partial", url, metrics=metrics_read("valid/loss"), chooser=report_reads), unread


def _curve(data, trial_id, metric):
    found = curve_index(data.curves).points(trial_id, metric)
    return None if found is None else (found[0].tolist(), found[1].tolist())


def _last_point(curve):
    return None if curve is None else ([curve[0][-1]], [curve[1][-1]])


def test_it_reads_the_chosen_trials_curves_whole_and_of_every_other_curve_its_last_point(loaded):
    _, whole, partial, unread = loaded
    chosen = report_reads(whole)
    assert 200 <= len(chosen) < len(whole.trials)  # a spread: some curves stay on disk
    for trial_id in whole.trials["trial_id"].astype(int):
        for metric in ("valid/loss", "train/loss", GRAD):
            full = _curve(whole, trial_id, metric)
            assert _curve(partial, trial_id, metric) == (full if trial_id in chosen else _last_point(full))
    # a metric only an unread trial logged: whether it was logged, and its last point, read the same
    assert _curve(partial, unread, GRAD) == _last_point(_curve(whole, unread, GRAD)) is not None
    assert curve_index(partial.curves).metrics == curve_index(whole.curves).metrics
    assert len(partial.curves) < len(whole.curves)
    frame = partial.curves
    keys = list(zip(frame["trial_id"], frame["metric"].astype(str), frame["step"]))
    assert keys == sorted(keys)  # sorted like load_curves' own frame


def test_the_findings_and_the_plots_are_those_of_the_whole_frame(loaded):
    _, whole, partial, _ = loaded
    as_json = lambda findings: json.dumps([f.to_dict() for f in findings], sort_keys=True, default=str)  # noqa: E731
    assert as_json(run_checklist(partial)) == as_json(run_checklist(whole))
    infeasible = whole.trials.loc[whole.trials["state"] == "infeasible", "trial_id"].astype(int)
    assert any(_curve(whole, t, "train/loss") is not None for t in infeasible)  # diverged trials are drawn
    for (title, mine), (_, theirs) in zip(sum(figures(partial), []), sum(figures(whole), []), strict=True):
        assert mine.to_json() == theirs.to_json(), title


@pytest.mark.postgres
def test_on_postgresql_it_reads_the_same_curves_as_on_sqlite(loaded, postgres_url):
    # a few trials copied from the SQLite store: the chosen ones' other curves, every objective curve
    url, whole, _, _ = loaded
    keep = whole.trials.sort_values("trial_id").head(12)
    with SQLStore(url) as source, SQLStore(postgres_url) as target:
        record = source.get_experiment("partial")
        made = target.ensure_experiment("partial", record.spec)
        ids = {}
        for study in source.list_studies(record.id):
            copy = target.ensure_study(made.id, study.key, study.scientific, study.budget)
            for trial in source.list_trials(study_id=study.id):
                if trial.id in set(keep["trial_id"]):
                    ids[trial.id] = target.claim_trial(copy.id, "test", lambda _n, p=trial.params: p).id
                    points = source.load_curves(trial_ids=[trial.id])
                    target.log_curves(ids[trial.id], {
                        str(m): (rows["step"].to_numpy(), rows["value"].to_numpy())
                        for m, rows in points.groupby("metric", observed=True)})
                    target.finish_trial(ids[trial.id], trial.state, objective=trial.objective,
                                        best_step=trial.best_step, reason=trial.reason)
    chosen = sorted(ids.values())[::3]
    partial = load("partial", postgres_url, metrics=metrics_read("valid/loss"), chooser=lambda data: chosen)
    everything = load("partial", postgres_url, metrics=metrics_read("valid/loss"))
    for trial_id in ids.values():
        for metric in ("valid/loss", "train/loss"):
            full = _curve(everything, trial_id, metric)
            assert _curve(partial, trial_id, metric) == (full if trial_id in chosen else _last_point(full))


def _log_every_way(url: str) -> int:
    """An experiment of 12 trials whose curves were logged in every way a run logs them; its id."""
    rng = np.random.default_rng(3)
    with SQLStore(url) as store:
        record = store.ensure_experiment("ends", {"name": "ends"})
        study = store.ensure_study(record.id, "main", {}, 12)
        for number in range(12):
            trial = store.claim_trial(study.id, "test", lambda _n: {"x": 1})
            for metric in ("loss", "acc"):
                kind = (number + (metric == "acc")) % 4
                for part in range(1 + number % 3):
                    size = int(rng.integers(1, 30))
                    steps = {0: np.arange(part * 100, part * 100 + size),  # chunk after chunk
                             1: np.arange(part * 5, part * 5 + size),  # resumed: steps logged again
                             2: np.arange(size)[::-1] + 40 * (part == 1),  # backwards
                             3: rng.integers(0, 10, size)}[kind]  # shuffled, repeated steps
                    values = rng.normal(size=size)
                    values[rng.random(size) < 0.1] = np.nan
                    store.log_curves(trial.id, {metric: (steps, values)})
        return record.id


def _ends_match_whole_reads(url: str) -> None:
    experiment_id = _log_every_way(url)
    with SQLStore(url) as store:
        ends = store.curve_ends(experiment_id, ["loss", "acc"])
        whole = latest_points(store.load_curves(experiment_id=experiment_id, metrics=["loss", "acc"]))
    last = whole.groupby(["trial_id", "metric"], observed=True, sort=True).tail(1).reset_index(drop=True)
    assert len(ends) == 24 and list(ends["metric"].cat.categories) == ["acc", "loss"]
    for column in ("trial_id", "step", "metric"):
        assert ends[column].tolist() == last[column].tolist(), column
    np.testing.assert_array_equal(ends["value"].to_numpy(), last["value"].to_numpy())  # NaN where NaN was logged


def test_the_last_point_of_every_curve_is_read_without_the_curve_on_sqlite(tmp_path):
    _ends_match_whole_reads(f"sqlite:///{tmp_path / 'ends.db'}")


@pytest.mark.postgres
def test_the_last_point_of_every_curve_is_read_without_the_curve_on_postgresql(postgres_url):
    _ends_match_whole_reads(postgres_url)
