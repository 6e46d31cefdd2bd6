"""``tunebook importance`` and ``tunebook plan next`` on a real SQLite store of a finished round
(``round_store``: the truth is known), through the CLI as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plans.round_store import store_round
from tunebook.cli.main import main
from tunebook.core import Experiment
from tunebook.core.domains import Fixed, Range


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('round') / 'tunebook.db'}"
    store_round(url, trials=150)
    return url


@pytest.fixture(scope="module")
def planned(url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("plan") / "next.yaml"
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["plan", "next", "toy-round", "--store", url, "--out", str(out)]) == 0
    return out, printed.getvalue()


def test_importance_ranks_what_the_round_says_and_names_what_decides_divergence(url: str, capsys):
    assert main(["importance", "toy-round", "--store", url, "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    overall = found["regions"]["all"]["params"]
    assert [p["name"] for p in overall[:2]] == ["lr", "momentum"]
    assert {p["name"] for p in overall if p["verdict"] == "matters"} == {"lr", "momentum"}
    assert found["interacting"][0]["name"] == "lr × momentum"
    feasibility = found["regions"]["feasibility"]["params"]
    assert feasibility[0]["name"] == "lr" and feasibility[0]["verdict"] == "matters"
    assert main(["importance", "toy-round", "--store", url]) == 0
    text = capsys.readouterr().out
    assert "Re-tune together: lr × momentum" in text and "next: tunebook plan next toy-round" in text


def test_the_next_round_moves_each_range_as_the_evidence_says(planned: tuple[Path, str]):
    out, printed = planned
    space = {hp.name: hp for hp in Experiment.from_yaml(str(out)).space}
    lr, momentum = space["lr"].domain, space["momentum"].domain
    assert isinstance(lr, Range) and lr.low == 1e-4 and 0.25 < lr.high < 0.3  # cut below the diverging lr >= 0.3
    assert isinstance(momentum, Range) and momentum.high == 0.95  # crowded high edge, halfway to 1
    for name in ("wd", "dropout", "act", "width"):  # no effect: fixed, each a caveat
        assert isinstance(space[name].domain, Fixed) and space[name].role == "fixed"
        assert f"New caveat: the next round's conclusions hold for {name}=" in printed
    assert space["batch_size"].domain == Fixed(128)
    assert "lr: cut [0.0001, 1, log] -> [0.0001, " in printed and "kept searched together with momentum" in printed
    assert "momentum: expanded [0, 0.9] -> [0, 0.95]" in printed and "[Identifying bad search space boundaries]" in printed
    text = out.read_text()
    assert text.startswith("# tunebook plan next: why each choice was made\n# lr: cut")


def test_tunebook_sample_accepts_the_written_spec_as_is(planned: tuple[Path, str], capsys):
    out, _ = planned
    assert main(["sample", str(out), "-n", "5", "--format", "json"]) == 0
    points = json.loads(capsys.readouterr().out)
    assert len(points) == 5


def test_exploit_switches_to_bayesian_warm_started_from_the_round(url: str, tmp_path: Path, capsys):
    out = tmp_path / "exploit.yaml"
    assert main(["plan", "next", "toy-round", "--store", url, "--out", str(out), "--exploit"]) == 0
    search = Experiment.from_yaml(str(out)).search
    assert search.algorithm == "bayesian" and search.warm_start == ("toy-round",)
    assert "search: bayesian, warm-started from toy-round" in capsys.readouterr().out


def test_a_launched_baseline_gives_the_fixed_values(url: str, tmp_path: Path, capsys):
    store_round(url, name="older-round", trials=30, batch_size=64)
    assert main(["launch", "older-round", "--note", "an older baseline", "--yes", "--store", url]) == 0
    capsys.readouterr()
    out = tmp_path / "based.yaml"
    assert main(["plan", "next", "toy-round", "--store", url, "--out", str(out)]) == 0
    assert {hp.name: hp for hp in Experiment.from_yaml(str(out)).space}["batch_size"].domain == Fixed(64)
    assert "batch_size: fixed 128 -> 64, the launched baseline's value (older-round/default/" in capsys.readouterr().out


def test_bad_options_exit_1_naming_the_value_and_write_nothing(url: str, tmp_path: Path, capsys):
    out = tmp_path / "bad.yaml"
    assert main(["plan", "next", "toy-round", "--store", url, "--out", str(out), "--expand", "0.5"]) == 1
    assert "--expand: must be a number > 1 (how far past a crowded edge), got 0.5" in capsys.readouterr().err
    assert main(["importance", "toy-round", "--store", url, "--top", "1.5"]) == 1
    assert "--top: must be in (0, 1]" in capsys.readouterr().err
    assert main(["plan", "next", "no-such", "--store", url, "--out", str(out)]) == 1
    assert "no experiment named 'no-such'" in capsys.readouterr().err and not out.exists()


def test_fixing_a_choice_drops_its_other_branches_and_says_so():
    import math

    import numpy as np

    from tests.analysis import synthetic
    from tunebook.plans.next_round import next_round

    space = {"optimizer": ["sgd", "adam"], "optimizer=adam": {"beta1": {"low": 0.5, "high": 0.99}},
             "optimizer=sgd": {"nesterov": [True, False]}, "lr": {"low": 1e-3, "high": 1.0, "scale": "log"}}
    rng = np.random.default_rng(0)
    data = synthetic.sweep(synthetic.experiment(nuisance=space, trials=100),
                           lambda p: (math.log10(p["lr"]) + 1.5) ** 2 + rng.normal(0, 0.05))
    plan = next_round(data, run={})
    reasons = {r.text.split(":", 1)[0]: r.text for r in plan.reasons}
    fixed = Experiment.from_dict(plan.spec).space
    chosen = {hp.name: hp.domain for hp in fixed if hp.role == "fixed"}
    assert set(chosen) == {"optimizer", "beta1"}  # the best trial's branch, lifted out of optimizer=adam:
    assert chosen["optimizer"] == Fixed("adam") and "nesterov" not in {hp.name for hp in fixed}
    assert reasons["nesterov[optimizer=sgd]"].startswith("nesterov[optimizer=sgd]: dropped with its branch "
                                                         "optimizer=sgd: optimizer is fixed at adam")
    assert isinstance(fixed["lr"].domain, Range)  # the one that matters stays searched


def test_best_trials_at_the_edge_of_divergence_keep_the_range_and_get_the_instability_plan():
    import math

    from tests.analysis import synthetic
    from tunebook.plans.next_round import next_round

    space = {"lr": {"low": 1e-4, "high": 1.0, "scale": "log"}, "wd": {"low": 1e-6, "high": 1e-2, "scale": "log"}}
    data = synthetic.sweep(synthetic.experiment(nuisance=space, trials=60),  # the higher lr, the better, until 0.3
                           lambda p: None if p["lr"] > 0.3 else 1 - math.log10(p["lr"]) / 10)
    plan = next_round(data, run={})
    [lr] = [r for r in plan.reasons if r.text.startswith("lr:")]
    assert lr.text.startswith("lr: kept [0.0001, 1, log]: the best trials (study default) sit at the edge of an "
                              "infeasible region (lr ≥ 0.")
    assert "run `tunebook plan instability synthetic/default/" in lr.text
    assert lr.section == "How can optimization failures be debugged and mitigated?"
    assert Experiment.from_dict(plan.spec).space["lr"].domain == Range(1e-4, 1.0, "log")
