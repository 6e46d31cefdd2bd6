"""What a claimed trial gets before it starts: its folder name, its command line, its environment."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tunebook.core.errors import TunebookError
from tunebook.core.run_spec import RunConfig
from tunebook.execution.prepare import check_command, command_argv, placeholders, trial_dir, trial_env


def test_trial_folders_are_one_per_trial_with_safe_names(tmp_path):
    assert trial_dir(tmp_path, "exp", "width=4", 7) == tmp_path / "exp" / "width=4" / "0007"
    folder = trial_dir(tmp_path, "my exp/2", "opt=adam,lr=0.1 x/../y", 12345)
    assert folder.relative_to(tmp_path).parts == ("my_exp_2", "opt=adam,lr=0.1_x_.._y", "12345")


def test_placeholders_are_filled_from_the_params_without_a_shell():
    params = {"lr": 0.001, "name": "a b; rm -rf /", "layers": 3}
    assert command_argv("python train.py --lr {lr} --name {name} --out 'runs/{layers} x'", params) == [
        "python", "train.py", "--lr", "0.001", "--name", "a b; rm -rf /", "--out", "runs/3 x",
    ]
    assert command_argv(["python", "t.py", "--lr={lr}"], params) == ["python", "t.py", "--lr=0.001"]
    assert placeholders("python t.py {lr} --x={layers}") == {"lr", "layers"}
    assert placeholders(("a", "{b}", "{{literal}}")) == {"b"}
    assert command_argv("echo {{literal}} {lr}", params) == ["echo", "{literal}", "0.001"]


def test_a_placeholder_the_trial_lacks_says_to_read_tunebook_params():
    with pytest.raises(TunebookError, match=r"run.command uses \{beta1\}, which this trial does not have "
                                            r"\(it has lr, optimizer\); read conditional values from TUNEBOOK_PARAMS"):
        command_argv("python t.py --beta1 {beta1}", {"lr": 0.1, "optimizer": "sgd"})


def test_the_command_is_checked_against_the_hyperparameters_before_anything_runs():
    check_command(RunConfig(command="python t.py {lr} {width}"), ["lr", "width", "unused"])
    check_command(RunConfig(function="m:f"), [])
    with pytest.raises(TunebookError, match=r"run.command uses \{depth\}, which is not a hyperparameter"):
        check_command(RunConfig(command=("python", "t.py", "{lr}", "{depth}")), ["lr"])


def test_the_trial_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.setenv("KEEP_ME", "1")
    config = RunConfig(command="python t.py", env={"WANDB_MODE": "offline", "KEEP_ME": "2"})
    env = trial_env(config, tmp_path, {"lr": 0.5, "optimizer": "adam"})
    assert env["PATH"].split(os.pathsep) == [str(Path(sys.executable).parent), "/usr/bin"]
    assert env["TUNEBOOK_TRIAL_DIR"] == str(tmp_path)
    assert json.loads(env["TUNEBOOK_PARAMS"]) == {"lr": 0.5, "optimizer": "adam"}
    assert (env["WANDB_MODE"], env["KEEP_ME"], env["PYTHONUNBUFFERED"]) == ("offline", "2", "1")
    assert env["TUNEBOOK_PARENT_PID"] == str(os.getpid())


def test_a_placeholder_missing_from_one_branch_fails_only_those_trials(tmp_path):
    """A command may name a conditional hyperparameter: trials without it fail, the rest run."""
    import subprocess
    import sys
    from pathlib import Path

    from tunebook.storage import SQLStore

    (tmp_path / "spec.yaml").write_text(
        "name: branchy\nobjective: {metric: loss}\n"
        "nuisance:\n  optimizer: [adam, sgd]\n  optimizer=sgd:\n    momentum: {low: 0.1, high: 0.9}\n"
        "search: {trials: 4}\n"
        "run:\n  command: [python, -c, \"print('step 1 loss: {momentum}')\"]\n"
        "  metrics: ['step (?P<step>\\d+) loss: (?P<loss>\\S+)']\n"
    )
    tunebook = Path(sys.executable).with_name("tunebook")
    done = subprocess.run([str(tunebook), "run", "spec.yaml", "--store", "t.db"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with SQLStore(f"sqlite:///{tmp_path / 't.db'}") as store:
        trials = store.list_trials(experiment_id=store.get_experiment("branchy").id)
    states = {t.params["optimizer"]: set() for t in trials}
    for t in trials:
        states[t.params["optimizer"]].add(t.state.value)
        if t.params["optimizer"] == "adam":
            assert "{momentum}" in t.reason and "TUNEBOOK_PARAMS" in t.reason
    assert states == {"adam": {"failed"}, "sgd": {"complete"}}
