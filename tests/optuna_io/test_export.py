"""``tunebook export optuna``: a real SQLite store written to a real Optuna RDB storage, read back with Optuna."""

from __future__ import annotations

import math
import random
import sqlite3
from pathlib import Path

import pytest

from tests.optuna_io.helpers import SPEC, finished_trial, trial_params, tunebook, write_experiment
from tunebook.analysis.data import load
from tunebook.core.experiment import Experiment
from tunebook.optuna_io.mapping import MAX_INTERMEDIATE, thin
from tunebook.storage import open_store
from tunebook.storage.base import FinishedStudy

optuna = pytest.importorskip("optuna")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(store URL, Optuna storage URL) after exporting experiment ``depth``, shared by the module (Optuna writes
    slowly): a test that exports again leaves the same studies behind."""
    folder = tmp_path_factory.mktemp("exported")
    store, storage = f"sqlite:///{folder / 'tb.db'}", f"sqlite:///{folder / 'optuna.db'}"
    write_experiment(store)
    assert tunebook("export", "optuna", "depth", "--storage", storage, "--store", store) == 0
    return store, storage


def test_each_study_becomes_an_optuna_study_with_its_spaces_states_and_curves(exported: tuple[str, str]) -> None:
    store, storage = exported
    data = load("depth", store)
    assert sorted(optuna.study.get_all_study_names(storage)) == ["depth/num_layers=2", "depth/num_layers=4"]
    for key in ("num_layers=2", "num_layers=4"):
        study = optuna.load_study(study_name=f"depth/{key}", storage=storage)
        assert study.direction == optuna.study.StudyDirection.MINIMIZE
        assert study.user_attrs["tunebook_scientific"] == {"num_layers": int(key[-1])}
        assert study.user_attrs["tunebook_fixed"] == {"batch_size": 128}
        ours = data.trials[data.trials["study"] == key].set_index("number")
        theirs = study.get_trials()
        assert [t.user_attrs["tunebook_trial"] for t in theirs] == [f"{key}/{n}" for n in ours.index]
        for trial in theirs:
            row = ours.loc[trial.number]
            assert trial.user_attrs["tunebook_state"] == row["state"]
            if row["state"] == "complete":
                assert trial.state == optuna.trial.TrialState.COMPLETE and trial.value == row["objective"]
            else:  # infeasible and failed are both FAIL, told apart by the attribute and the reason
                assert trial.state == optuna.trial.TrialState.FAIL and trial.value is None
                assert trial.user_attrs["tunebook_reason"] == row["reason"]
            curve = data.curves[(data.curves["trial_id"] == row["trial_id"]) & (data.curves["metric"] == "valid_loss")]
            assert sorted(trial.intermediate_values) == curve["step"].tolist()
            assert all(math.isnan(v) and math.isnan(w) or v == w for v, w in
                       zip((trial.intermediate_values[s] for s in sorted(trial.intermediate_values)), curve["value"]))
            assert "num_layers" not in trial.params and "batch_size" not in trial.params  # study attributes
            branch = trial.params["optimizer"]
            assert set(trial.params) == {"optimizer", "warmup", f"learning_rate[optimizer={branch}]"} | (
                {"momentum[optimizer=sgd]"} if branch == "sgd" else set())
            lr = trial.distributions[f"learning_rate[optimizer={branch}]"]
            assert isinstance(lr, optuna.distributions.FloatDistribution) and lr.log
            warmup = trial.distributions["warmup"]
            assert isinstance(warmup, optuna.distributions.IntDistribution) and warmup.log
            assert (warmup.low, warmup.high) == (10, 1000)
        complete = [t for t in theirs if t.state == optuna.trial.TrialState.COMPLETE]
        for trial in complete:  # another metric's best value, an accuracy: its maximum
            row = ours[ours["trial_id"] == ours.loc[trial.number, "trial_id"]].iloc[0]
            accuracy = data.curves[(data.curves["trial_id"] == row["trial_id"]) & (data.curves["metric"] == "accuracy")]
            assert trial.user_attrs["best accuracy"] == accuracy["value"].max()


def test_exporting_again_is_refused_and_replace_rewrites(exported: tuple[str, str],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    store, storage = exported
    before = {s.study_name: s.n_trials for s in optuna.get_all_study_summaries(storage)}
    capsys.readouterr()
    assert tunebook("export", "optuna", "depth", "--storage", storage, "--store", store) == 1
    err = capsys.readouterr().err
    assert "depth/num_layers=2: is already in the storage; pass --replace" in err
    assert "Traceback" not in err
    assert {s.study_name: s.n_trials for s in optuna.get_all_study_summaries(storage)} == before
    assert tunebook("export", "optuna", "depth", "--storage", storage, "--store", store, "--replace") == 0
    assert "replaced the study depth/num_layers=2" in capsys.readouterr().out
    assert {s.study_name: s.n_trials for s in optuna.get_all_study_summaries(storage)} == before  # not doubled


def test_bad_input_names_it_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, storage = f"sqlite:///{tmp_path / 'tb.db'}", tmp_path / "optuna.db"
    write_experiment(store)
    assert tunebook("export", "optuna", "nope", "--storage", str(storage), "--store", store) == 1
    assert "no experiment named 'nope'" in capsys.readouterr().err
    assert tunebook("export", "optuna", "depth", "--storage", "nosuchdb://x", "--store", store) == 1
    err = capsys.readouterr().err
    assert "cannot open the Optuna storage" in err and "Traceback" not in err
    assert not storage.exists()
    tables = "select name from sqlite_master"  # the tunebook store given as the Optuna storage: refused, untouched
    before = sqlite3.connect(tmp_path / "tb.db").execute(tables).fetchall()
    assert tunebook("export", "optuna", "depth", "--storage", str(tmp_path / "tb.db"), "--store", store) == 1
    assert "tb.db is a SQLite file but not an Optuna storage" in capsys.readouterr().err
    assert sqlite3.connect(tmp_path / "tb.db").execute(tables).fetchall() == before


def test_a_trial_outside_its_space_is_named_and_nothing_is_written(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A spec narrowed after trials ran: the trial whose value left the range is named, no study is written."""
    store, storage = f"sqlite:///{tmp_path / 'tb.db'}", f"sqlite:///{tmp_path / 'optuna.db'}"
    write_experiment(store)
    with open_store(store) as opened:
        record = opened.get_experiment("depth")
        spec = dict(record.spec, nuisance={**record.spec["nuisance"],
                                           "warmup": {"low": 10, "high": 11, "scale": "linear", "type": "int"}})
        opened.replace_spec(record.id, spec)
    assert tunebook("export", "optuna", "depth", "--storage", storage, "--store", store) == 1
    err = capsys.readouterr().err
    assert "num_layers=2/0:" in err and "warmup" in err
    assert optuna.study.get_all_study_names(storage) == []


def test_unfinished_trials_are_left_out_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, storage = f"sqlite:///{tmp_path / 'tb.db'}", f"sqlite:///{tmp_path / 'optuna.db'}"
    experiment = write_experiment(store, per_study=2)
    with open_store(store) as opened:
        record = opened.get_experiment("depth")
        study = opened.ensure_study(record.id, "num_layers=2", {"num_layers": 2}, 4)
        opened.claim_trial(study.id, "worker", lambda number: trial_params(random.Random(number), 2))
    capsys.readouterr()
    assert tunebook("export", "optuna", "depth", "--storage", storage, "--store", store) == 0
    out = capsys.readouterr().out
    assert "left out 1 trials:\n  num_layers=2/2: running, not finished" in out
    assert len(optuna.load_study(study_name="depth/num_layers=2", storage=storage).trials) == 2
    assert experiment.name == "depth"


def test_long_curves_are_thinned_keeping_first_best_last_and_divergence() -> None:
    rng = random.Random(3)
    steps = list(range(0, 50_000, 10))
    values = [rng.random() for _ in steps]
    values[1234] = -1.0  # the best
    values[4000] = math.nan  # where it diverged
    kept_steps, kept_values = thin(steps, values, keep=[steps[1234]])
    assert len(kept_steps) == MAX_INTERMEDIATE
    by_step = dict(zip(steps, values))
    assert all(v == by_step[s] or math.isnan(v) and math.isnan(by_step[s]) for s, v in zip(kept_steps, kept_values))
    assert {0, steps[-1], steps[1234], steps[4000]} <= set(kept_steps)
    gaps = [b - a for a, b in zip(kept_steps, kept_steps[1:])]
    assert max(gaps) <= 2 * (steps[-1] / (MAX_INTERMEDIATE - 1)) + 10  # evenly spread, not bunched
    assert thin(steps[:50], values[:50]) == (steps[:50], values[:50])


def test_a_long_curve_is_exported_thinned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --max-points 50 (the default is MAX_INTERMEDIATE; fewer rows to write, the same code)."""
    store, storage = f"sqlite:///{tmp_path / 'tb.db'}", f"sqlite:///{tmp_path / 'optuna.db'}"
    experiment = Experiment.from_dict({**SPEC, "scientific": {"num_layers": [2]}})
    trials = [finished_trial(random.Random(i), trial_params(random.Random(i), 2), "complete", list(range(n)))
              for i, n in enumerate((120, 50))]
    with open_store(store) as opened:
        opened.import_experiment("depth", experiment.to_dict(), [FinishedStudy("num_layers=2", {"num_layers": 2},
                                                                               trials)], None, "test")
    assert tunebook("export", "optuna", "depth", "--storage", storage, "--store", store, "--max-points", "50") == 0
    assert "1 curves thinned to 50 evenly spaced points" in capsys.readouterr().out
    long, short = optuna.load_study(study_name="depth/num_layers=2", storage=storage).trials
    assert len(long.intermediate_values) == 50 and {0, 119, trials[0].best_step} <= set(long.intermediate_values)
    assert long.intermediate_values[trials[0].best_step] == long.value == trials[0].objective
    assert sorted(short.intermediate_values) == list(range(50))  # at the limit: whole
