"""A retrain study in a real store: repeats of its source trial, never a scientific value or search points.

The store holds an experiment with scientific ``depth`` (1, 2) searched over
``lr``, and one retrain study (``retrain:depth=1:N``, ``source_trial_id``
set, as ``tunebook retrain`` makes it) that reruns depth=1's best trial with
seeds 1..5, one of which diverged. Every reader of the report must see it as
trial variance of depth=1 and nothing else.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from click.testing import CliRunner

from tunebook.analysis import load
from tunebook.analysis.best import ranked, scientific_groups, study_keys
from tunebook.analysis.checklist import run_checklist
from tunebook.analysis.verdict import decide
from tunebook.cli.main import cli
from tunebook.core import Experiment, TrialState
from tunebook.plots.axis import get_axis_infos
from tunebook.plots.curves import get_curves_info
from tunebook.plots.isolation import get_isolation_info
from tunebook.search import make_sampler
from tunebook.storage import SQLStore

SPEC = {
    "name": "seeds", "objective": {"metric": "valid/loss", "mode": "min"},
    "scientific": {"depth": [1, 2]},
    "nuisance": {"lr": {"low": 1e-3, "high": 1.0, "scale": "log"}},
    "fixed": {"seed": 0},
    "search": {"trials": 8},
}
RETRAIN_VALUES = [0.52, 0.47, None, 0.55, 0.50]  # None: diverged


def _loss(params) -> float:
    return (math.log10(params["lr"]) + 1.5) ** 2 + 0.01 * params["depth"]


def _finish(store, trial, value) -> None:
    store.log_curves(trial.id, {"valid/loss": ([1, 2], [value + 1 if value else 5.0, value or math.nan])})
    state = TrialState.COMPLETE if value is not None else TrialState.INFEASIBLE
    store.finish_trial(trial.id, state, objective=value, best_step=2 if value else None,
                       reason=None if value else "loss is nan")


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    experiment = Experiment.from_dict(SPEC)
    url = f"sqlite:///{tmp_path_factory.mktemp('retrain') / 'tunebook.db'}"
    with SQLStore(url) as store:
        record = store.ensure_experiment(experiment.name, experiment.to_dict())
        for plan in experiment.studies():
            sampler = make_sampler(experiment, plan)
            study = store.ensure_study(record.id, plan.key, plan.scientific, 8)
            for _ in range(8):
                trial = store.claim_trial(study.id, "w", sampler.params)
                _finish(store, trial, 0.45 + _loss(trial.params) / 100)
        best = min((t for t in store.list_trials(experiment_id=record.id) if t.params["depth"] == 1),
                   key=lambda t: t.objective)
        key = f"retrain:depth=1:{best.number}"
        retrain = store.ensure_study(record.id, key, {"depth": 1}, len(RETRAIN_VALUES), source_trial_id=best.id)
        for seed, value in enumerate(RETRAIN_VALUES, start=1):
            trial = store.claim_trial(retrain.id, "w", lambda n: {**best.params, "seed": n + 1})
            assert trial.params["seed"] == seed
            _finish(store, trial, value)
    return url


@pytest.fixture(scope="module")
def data(store_url):
    return load("seeds", store_url)


def test_the_store_keeps_the_link_and_load_exposes_it(store_url, data):
    with SQLStore(store_url) as store:
        record = store.get_experiment("seeds")
        [retrain] = [s for s in store.list_studies(record.id) if s.key.startswith("retrain:")]
        again = store.ensure_study(record.id, retrain.key, {"depth": 1}, 5, source_trial_id=retrain.source_trial_id)
        assert again.source_trial_id == retrain.source_trial_id is not None
    assert data.retrain_sources == {retrain.key: retrain.source_trial_id}
    assert data.is_retrain(retrain.key) and not data.is_retrain("depth=1")
    assert len(data.trials) == 21 and len(data.search_trials) == 16


def test_a_retrain_study_is_not_a_study_a_scientific_value_or_a_search_point(data):
    assert study_keys(data) == ["depth=1", "depth=2"]
    groups = scientific_groups(data)
    assert [g.label for g in groups] == ["depth=1", "depth=2"] and [len(g.trials) for g in groups] == [8, 8]
    assert not ranked(data)["study"].str.startswith("retrain:").any()
    # named on its own, a retrain study ranks its repeats: EXPERIMENT/retrain:... is its best seed
    [key] = data.retrain_sources
    assert list(ranked(data, key)["objective"]) == sorted(v for v in RETRAIN_VALUES if v is not None)
    for info in get_axis_infos(data):
        shown = [name for s in (*info.series, *info.infeasible) for name in s.names]
        assert len(shown) == 16 and not any(n.startswith("retrain:") for n in shown)
    # a retrain's curve is no faint "other trial" of the search, drawn better than the highlighted best
    curves = get_curves_info(data)
    assert len({ln.trial_id for ln in curves.lines}) == 16 and not any(ln.study.startswith("retrain:")
                                                                       for ln in curves.lines)


def test_the_checklist_and_the_verdict_read_the_retrains_as_trial_variance_of_depth_1(data):
    findings = run_checklist(data)
    assert not any(str(f.study or "").startswith("retrain:") for f in findings)
    sampled = next(f for f in findings if f.id == "sampled_enough")
    assert [g["group"] for g in sampled.evidence["groups"]] in (["depth=1", "depth=2"], ["depth=2", "depth=1"])
    seeds = next(f for f in findings if f.id == "trial_variance")
    depth1 = next(s for s in seeds.evidence["sides"] if s["group"] == "depth=1")
    assert depth1["n"] == 5 and len(depth1["lost"]) == 1 and "(infeasible)" in depth1["lost"][0]
    assert sum(t.startswith("retrain:depth=1:") for t in depth1["trials"]) == 4
    verdict = decide(data, findings)
    assert "retrain:" not in verdict.headline and "has no complete trial" not in verdict.text
    assert verdict.best["group"] in ("depth=1", "depth=2") and verdict.runner_up["group"] != verdict.best["group"]


def test_the_isolation_point_of_depth_1_carries_its_seeds(data):
    info = get_isolation_info(data, "depth")
    one, two = info.points
    values = [v for v in RETRAIN_VALUES if v is not None] + [one.best]
    assert one.repeats == 5 and one.mean == pytest.approx(np.mean(values))
    assert one.std == pytest.approx(np.std(values, ddof=1)) and info.has_error_bars
    assert one.name in one.repeat_names and len(one.repeats_lost) == 1
    assert two.repeats == 1 and two.std is None


def test_the_json_and_text_reports_show_the_finding(store_url):
    runner = CliRunner()  # in process: the command as typed, without a second interpreter's start-up
    done = runner.invoke(cli, ["report", "seeds", "--store", store_url, "--format", "json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    [seeds] = [f for f in report["findings"] if f["id"] == "trial_variance"]
    assert seeds["evidence"]["sides"][0]["trials"] and "retrain:" not in json.dumps(report["best"])
    text = runner.invoke(cli, ["report", "seeds", "--store", store_url, "--format", "text"], env={"COLUMNS": "250"})
    assert text.exit_code == 0 and "trial_variance" in text.stdout
