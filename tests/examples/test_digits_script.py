"""examples/digits: both specs load, and train_script.py speaks the spec's command line and regex."""

from __future__ import annotations

import importlib
import math
import re
import shlex
import sys

import pytest

from tunebook.core import Experiment
from tunebook.core.records import plain_name
from tunebook.search import sample

from .digits import COMMAND_SPEC, DIGITS, SPEC, clean_env, run_python


def test_function_spec_loads_with_three_depth_studies() -> None:
    experiment = Experiment.from_yaml(str(SPEC))
    assert experiment.name == "digits-depth"
    assert [plan.scientific for plan in experiment.studies()] == [{"num_layers": n} for n in (1, 2, 3)]
    assert experiment.search.trials == 8
    assert experiment.run["function"] == "train:train"
    assert experiment.objective.metric == "valid/error"


def test_function_spec_names_a_callable_in_its_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch", reason="the digits example needs torch (pip install torch)")
    module_name, function_name = Experiment.from_yaml(str(SPEC)).run["function"].split(":")
    # Resolved the way tunebook does: the spec's folder first on sys.path. The
    # delitem calls make sure it is this folder's module, and forget it afterwards.
    monkeypatch.syspath_prepend(str(DIGITS))
    monkeypatch.delitem(sys.modules, module_name, raising=False)
    assert callable(getattr(importlib.import_module(module_name), function_name))
    monkeypatch.delitem(sys.modules, module_name)


def test_function_spec_reaches_diverging_learning_rates() -> None:
    experiment = Experiment.from_yaml(str(SPEC))
    rates = [trial.params["learning_rate"] for trial in sample(experiment)]
    assert len(rates) == 24
    assert max(rates) > 1.0  # the top of the range diverges: infeasible trials are part of the demo


def command_trials() -> list[tuple[str, dict]]:
    """(the command line tunebook would run, the trial's params) for every trial of spec-command.yaml."""
    experiment = Experiment.from_yaml(str(COMMAND_SPEC))
    template = experiment.run["command"]
    out = []
    for trial in sample(experiment):
        params = {plain_name(k): v for k, v in trial.params.items()}
        out.append((template.format(**params), params))
    return out


def test_command_spec_loads_and_its_regex_names_step_and_objective() -> None:
    experiment = Experiment.from_yaml(str(COMMAND_SPEC))
    assert experiment.search.trials == 4
    (pattern,) = experiment.run["metrics"]
    groups = set(re.compile(pattern).groupindex)
    assert {"step", experiment.objective.metric, "train_loss"} <= groups


def test_command_placeholders_are_flags_the_script_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch", reason="the digits example needs torch (pip install torch)")
    monkeypatch.syspath_prepend(str(DIGITS))
    script = importlib.import_module("train_script")
    for command, params in command_trials():
        argv = shlex.split(command)
        assert argv[:2] == ["python", "train_script.py"]
        parsed = vars(script.parse_args(argv[2:]))
        assert {k: parsed[k] for k in params} == pytest.approx(params)


def parse_lines(output: str) -> list[dict[str, str]]:
    """What tunebook reads from the script's output with spec-command.yaml's regex."""
    (pattern,) = Experiment.from_yaml(str(COMMAND_SPEC)).run["metrics"]
    regex = re.compile(pattern)
    return [m.groupdict() for m in map(regex.search, output.splitlines()) if m]


@pytest.fixture(scope="module")
def script_ready() -> None:
    pytest.importorskip("torch", reason="the digits example needs torch (pip install torch)")
    pytest.importorskip("sklearn", reason="the digits example needs scikit-learn (pip install scikit-learn)")


def test_script_prints_lines_the_metrics_regex_reads(script_ready: None) -> None:
    done = run_python(
        ["train_script.py", "--optimizer", "sgd", "--learning-rate", "0.1", "--momentum", "0.9",
         "--max-train-steps", "300", "--eval-every", "100"],
        clean_env(),
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    points = parse_lines(done.stdout)
    assert len(points) == len(lines) == 4  # every line it prints is a metrics line
    assert [int(p["step"]) for p in points] == [1, 100, 200, 300]
    assert float(points[-1]["valid_error"]) < 0.2
    assert float(points[-1]["train_loss"]) < float(points[0]["train_loss"])


def test_script_that_diverges_prints_nan_and_exits_cleanly(script_ready: None) -> None:
    # Chosen behaviour: like most scripts, it does not check for divergence; it
    # finishes, exits 0 and prints nan. tunebook reads the NaN as infeasible.
    done = run_python(
        ["train_script.py", "--optimizer", "sgd", "--learning-rate", "10", "--momentum", "0.9",
         "--max-train-steps", "300"],
        clean_env(),
    )
    assert done.returncode == 0
    assert "Traceback" not in done.stderr
    points = parse_lines(done.stdout)
    assert [int(p["step"]) for p in points] == [1, 100, 200, 300]
    assert math.isfinite(float(points[0]["train_loss"]))
    assert all(math.isnan(float(p["train_loss"])) for p in points[1:])
    assert all(math.isnan(float(p["valid_error"])) for p in points[1:])


def test_script_does_not_import_tunebook() -> None:
    source = (DIGITS / "train_script.py").read_text() + (DIGITS / "digits_mlp.py").read_text()
    assert not re.search(r"^\s*(import|from)\s+tunebook", source, re.MULTILINE)
