"""``tunebook sample`` as a user runs it: a real subprocess of the console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "specs" / "digits-depth.yaml"
TUNEBOOK = Path(sys.executable).with_name("tunebook")


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([str(TUNEBOOK), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60)


def test_sample_json_lists_first_trials_of_every_study():
    result = run_cli("sample", str(EXAMPLE), "-n", "4", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["study"] for r in rows] == ["num_layers=1"] * 4 + ["num_layers=2"] * 4 + ["num_layers=3"] * 4
    assert [r["number"] for r in rows[:4]] == [0, 1, 2, 3]
    for row in rows:
        params = row["params"]
        assert params["batch_size"] == 128 and params["max_train_steps"] == 2000
        assert 1e-4 <= params["learning_rate"] <= 1.0
        # the trial receives plain names; the store keeps branch ids
        branch_param = "beta1" if params["optimizer"] == "adam" else "momentum"
        assert branch_param in params
        assert f"{branch_param}[optimizer={params['optimizer']}]" in row["ids"]


def test_sample_is_reproducible_across_invocations():
    first = run_cli("sample", str(EXAMPLE), "-n", "6", "--format", "json").stdout
    second = run_cli("sample", str(EXAMPLE), "-n", "6", "--format", "json").stdout
    assert first == second


def test_sample_table_shows_caveats_and_branch_ids():
    result = run_cli("sample", str(EXAMPLE), "-n", "3")
    assert result.returncode == 0, result.stderr
    assert "batch_size=128" in result.stdout
    assert "study num_layers=2" in result.stdout
    assert "beta1[optimizer=adam]" in result.stdout


def test_sample_defaults_to_the_budget(tmp_path: Path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: s\nobjective: {metric: loss}\nnuisance:\n  lr: {low: 1e-3, high: 1, scale: log}\nsearch: {trials: 7}\n")
    rows = json.loads(run_cli("sample", str(spec), "--format", "json").stdout)
    assert len(rows) == 7 and rows[0]["study"] == "default"


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            "name: x\nobjective: {metric: m}\nnuisance:\n  optimizer: [adam]\n  optimizer=adam:\n"
            "    beta1: {low: 0.99, high: 0.9}\nsearch: {trials: 3}\n",
            "nuisance.optimizer=adam.beta1: high must be > low, got low=0.99 high=0.9",
        ),
        ("name: x\nobjective: {metric: m}\nnusiance: {}\nsearch: {trials: 3}\n", "nusiance: unknown field (did you mean 'nuisance'?)"),
        ("name: x\nobjective: {metric: m\n", "YAML syntax error"),
    ],
)
def test_bad_spec_names_field_and_value_without_traceback(tmp_path: Path, body: str, expected: str):
    spec = tmp_path / "bad.yaml"
    spec.write_text(body)
    result = run_cli("sample", str(spec))
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_missing_spec_file_is_a_clear_error(tmp_path: Path):
    result = run_cli("sample", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert "nope.yaml" in result.stderr and "Traceback" not in result.stderr


def test_usage_error_exits_2():
    result = run_cli("sample", str(EXAMPLE), "-n", "0")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


BAYESIAN = """
name: bo
objective: {metric: loss, mode: min}
nuisance:
  learning_rate: {low: 0.0001, high: 1.0, scale: log}
  momentum: {low: 0.0, high: 0.99}
search: {algorithm: bayesian, trials: 20, initial: 4, seed: 3, warm_start: [explore]}
"""


def test_sample_of_a_bayesian_spec_lists_the_initial_design_and_says_why_no_more(tmp_path):
    spec = tmp_path / "bo.yaml"
    spec.write_text(BAYESIAN)
    table = run_cli("sample", str(spec))
    assert table.returncode == 0, table.stderr
    assert "initial (quasi-random) trial(s)" in table.stdout and "Trials 4..19 are chosen by the model" in table.stdout
    assert "order in which trials finish" in table.stdout and "explore" in table.stdout
    listed = run_cli("sample", str(spec), "--format", "json")
    rows = json.loads(listed.stdout)
    assert [r["number"] for r in rows] == [0, 1, 2, 3] and "chosen by the model" in listed.stderr
    (tmp_path / "qr.yaml").write_text(BAYESIAN.replace("algorithm: bayesian", "algorithm: quasi_random")
                                      .replace(", initial: 4", "").replace(", warm_start: [explore]", ""))
    quasi = json.loads(run_cli("sample", str(tmp_path / "qr.yaml"), "-n", "4", "--format", "json").stdout)
    assert [r["params"] for r in rows] == [r["params"] for r in quasi]  # the initial design is quasi-random
