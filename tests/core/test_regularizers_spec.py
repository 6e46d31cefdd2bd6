"""The spec's ``regularizers: [name, ...]``: which hyperparameters regularize (for the overfitting check)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tunebook.core import Experiment, SpecError

BASE = {
    "name": "reg", "objective": {"metric": "valid/error"},
    "scientific": {"dropout": [0.0, 0.1, 0.3]},
    "nuisance": {"learning_rate": {"low": 1e-4, "high": 1.0, "scale": "log"}, "optimizer": ["adam", "sgd"],
                 "optimizer=adam": {"wd": {"low": 0.0, "high": 0.1}}},
    "search": {"trials": 4},
}


def test_listed_regularizers_are_kept_and_round_trip():
    e = Experiment.from_dict({**BASE, "regularizers": ["dropout", "wd"]})
    assert e.regularizers == ("dropout", "wd")  # plain names: wd lives in a branch
    assert e.to_dict()["regularizers"] == ["dropout", "wd"]
    assert Experiment.from_dict(e.to_dict()) == e


def test_absent_means_recognize_common_names_and_empty_means_none():
    from tunebook.analysis.checks.regularizers import regularizers

    assert Experiment.from_dict(BASE).regularizers is None
    assert regularizers(Experiment.from_dict(BASE)) == {"dropout": "common name", "wd": "common name"}
    assert regularizers(Experiment.from_dict({**BASE, "regularizers": []})) == {}
    assert regularizers(Experiment.from_dict({**BASE, "regularizers": ["learning_rate"]})) == {"learning_rate": "spec"}


@pytest.mark.parametrize(("value", "path", "words"), [
    ("dropout", "regularizers", "must be a list of hyperparameter names, e.g. [dropout], got 'dropout'"),
    (["dropuot"], "regularizers[0]", "'dropuot' is not a hyperparameter of this spec (did you mean 'dropout'?)"),
    (["dropout", "dropout"], "regularizers[1]", "'dropout' is listed more than once"),
    ([{"name": "dropout"}], "regularizers[0]", "is not a hyperparameter of this spec"),
])
def test_bad_lists_name_the_field_and_the_value(value, path, words):
    with pytest.raises(SpecError) as info:
        Experiment.from_dict({**BASE, "regularizers": value})
    [(where, message)] = info.value.problems
    assert where == path and words in message


def test_the_cli_reports_a_bad_list_without_a_traceback(tmp_path: Path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: reg\nobjective: {metric: loss}\nnuisance:\n  dropout: {low: 0.0, high: 0.5}\n"
                    "regularizers: [dropot]\nsearch: {trials: 2}\n")
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-m", "tunebook.cli.main", "sample", str(spec)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "regularizers[0]: 'dropot' is not a hyperparameter of this spec (did you mean 'dropout'?)" in result.stderr
