"""Reading only the curves the report reads gives the report (findings, plots, page) that reading all gives.

A real SQLite store of 270 trials (more than the 200 a check examines and the
200 faint lines the curves plot draws, so both take a spread), some of them
infeasible with a training-loss curve and no objective curve, and one metric
logged by a single trial that the report does not read.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tunebook.analysis import load
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


def test_it_reads_every_objective_curve_and_the_other_curves_of_the_trials_the_report_reads(loaded):
    _, whole, partial, unread = loaded
    chosen = report_reads(whole)
    assert 200 <= len(chosen) < len(whole.trials)  # a spread: some training-loss curves stay on disk
    for trial_id in whole.trials["trial_id"].astype(int):
        assert _curve(partial, trial_id, "valid/loss") == _curve(whole, trial_id, "valid/loss")
        read = trial_id in chosen or _curve(whole, trial_id, "valid/loss") is None  # diverged before evaluating
        expected = _curve(whole, trial_id, "train/loss") if read else None
        assert _curve(partial, trial_id, "train/loss") == expected
    # a metric only an unread trial logged is read whole: whether it was logged reads the same
    assert _curve(partial, unread, GRAD) == _curve(whole, unread, GRAD) is not None
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
        assert _curve(partial, trial_id, "valid/loss") == _curve(everything, trial_id, "valid/loss")
        read = trial_id in chosen or _curve(everything, trial_id, "valid/loss") is None
        assert _curve(partial, trial_id, "train/loss") == (_curve(everything, trial_id, "train/loss") if read else None)
