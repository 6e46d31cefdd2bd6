"""``tunebook compare``: text and JSON on a real store, exit 0 whatever the verdict, 1 for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.execution.harness import run_cli
from tests.plans.seeded import A, B, C, SEEDS, seeded_store
from tunebook.cli.compare import comparison_text
from tunebook.cli.main import main
from tunebook.plans.comparison import compare_refs


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_store(tmp_path_factory.mktemp("seeded"))


def test_text_shows_the_verdict_each_seed_the_effect_and_how_to_reproduce(url: str, capsys):
    assert main(["compare", A, C, "--store", url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("NOT ENOUGH EVIDENCE: not enough evidence to tell lrs/default/20 from the baseline")
    assert "objective valid_loss (lower is better)" in out
    assert "default/23 (seed 3)" in out and "infeasible" in out  # the diverged seed, by name
    assert "difference candidate - baseline" in out and "seed sd" in out
    assert "P(candidate beats baseline on a fresh seed) = " in out
    assert f"next: tunebook retrain {A} -n " in out
    assert f"reproduce: tunebook compare {A} {C} --store {url}" in out
    assert len(out.splitlines()) < 50  # one screen


def test_json_holds_every_number_of_the_comparison(url: str, capsys):
    assert main(["compare", A, B, "--format", "json", "--store", url]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == json.loads(json.dumps(compare_refs(url, A, B).to_dict()))
    assert data["decision"] == "adopt"
    assert len(data["baseline"]["repeats"]) == SEEDS and data["p_better"] == 1.0


def test_a_keep_baseline_verdict_still_exits_zero(url: str, capsys):
    assert main(["compare", B, A, "--store", url]) == 0
    assert capsys.readouterr().out.startswith("KEEP BASELINE: keep the baseline lrs/default/10")


def test_comparison_text_is_the_layout_without_colour(url: str):
    text = comparison_text(compare_refs(url, A, C), width=100)
    assert text.startswith("NOT ENOUGH EVIDENCE: not enough evidence") and "\x1b[" not in text
    lines = text.splitlines()
    assert f"reproduce: tunebook compare {A} {C} --store {url}" in lines  # commands are never broken
    assert max(len(line) for line in lines if line[:1] in "┏┃┡│└") <= 100  # the tables fit the width


@pytest.mark.parametrize("args, message", [
    (["lsr/default/0", B], "did you mean 'lrs/default/0'?"),
    ([A, "acc"], "a comparison needs one objective"),
    ([A, B, "--min-effect", "-1"], "--min-effect: must be a number >= 0"),
])
def test_bad_input_exits_1_with_a_message_and_no_traceback(url: str, capsys, args, message):
    assert main(["compare", *args, "--store", url]) == 1
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err and captured.out == ""


def test_the_installed_command_as_a_user_types_it(url: str, tmp_path: Path):
    done = run_cli("compare", A, B, "--store", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ADOPT: adopt lrs/default/10: it beats the baseline lrs/default/0")
    unknown = run_cli("compare", A, "lrs/default/77", "--store", url, cwd=tmp_path)
    assert unknown.returncode == 1 and "has no trial 77" in unknown.stderr and "Traceback" not in unknown.stderr


def test_a_store_that_is_not_there_is_refused_not_created(tmp_path: Path, capsys):
    missing = tmp_path / "nowhere.db"
    assert main(["compare", A, B, "--store", str(missing)]) == 1
    assert "no store at" in capsys.readouterr().err
    assert not missing.exists()
