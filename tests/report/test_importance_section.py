"""The report's importance section (``tunebook report``: JSON, text, HTML) and its bar chart's data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plans.round_store import store_round
from tunebook.analysis.importance import Importance, RegionImportance, Share
from tunebook.cli.main import main
from tunebook.plots import get_importance_info


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('imp') / 'tunebook.db'}"
    store_round(url, trials=60)
    return url


def test_every_format_of_the_report_carries_the_importance_section(url: str, tmp_path: Path, capsys):
    assert main(["report", "toy-round", "--store", url, "--format", "json"]) == 0
    section = json.loads(capsys.readouterr().out)["importance"]
    assert section["regions"]["all"]["params"][0]["name"] == "lr"
    assert section["regions"]["top"]["too_few"].startswith("too few trials to tell: ")  # 20 % of ~50 trials
    assert section["regions"]["feasibility"]["params"][0]["name"] == "lr"  # lr >= 0.3 diverges
    assert main(["report", "toy-round", "--store", url, "--format", "html", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "Importance: toy-round, objective valid/loss (min)" in text and "Re-tune together:" in text
    page = (tmp_path / "toy-round.html").read_text()
    assert "<h2 id='importance'>Importance: what mattered, what interacts</h2>" in page
    assert page.index("id='importance'") < page.index("<h2>Plots</h2>")
    assert "Importance: share of variance with 90 % intervals" in page  # the bar chart


def test_the_chart_has_a_bar_per_judged_region_and_hyperparameter_ordered_by_share_over_all_trials():
    def region(name: str, shares: list[tuple[str, float]], too_few: str | None = None) -> RegionImportance:
        params = tuple(Share((p,), e, e / 2, min(1.0, e * 2)) for p, e in shares)
        return RegionImportance(name, 100, () if too_few else params, (), too_few)

    imp = Importance("exp", "loss (min)", 0.2, region("all", [("lr", 0.6), ("wd", 0.01)]),
                     region("top", [("wd", 0.3), ("lr", 0.2)]), region("feasibility", [], "too few trials to tell"))
    info = get_importance_info(imp)
    assert info.order == ("lr", "wd")
    assert [(b.region, b.param) for b in info.bars] == [("all trials", "lr"), ("all trials", "wd"),
                                                        ("good region (top 20%)", "wd"),
                                                        ("good region (top 20%)", "lr")]
    assert info.bars[0].low == 0.3 and info.bars[0].high == 1.0 and info.bars[0].verdict == "matters"


def test_re_tune_together_says_too_few_when_no_region_that_measures_pairs_was_judged():
    from tunebook.report.importance_section import retune_together

    judged = RegionImportance("all", 60, (Share(("lr",), 0.9, 0.8, 1.0),), (Share(("lr", "wd"), 0.0, 0.0, 0.01),))
    unjudged = RegionImportance("top", 4, (), (), "too few trials to tell: 4 here")
    feasibility = RegionImportance("feasibility", 60, (Share(("lr",), 1.0, 1.0, 1.0),), ())
    assert retune_together(Importance("x", "loss (min)", 0.2, unjudged, unjudged, feasibility)) == "too few trials to tell"
    assert retune_together(Importance("x", "loss (min)", 0.2, judged, unjudged, feasibility)) == (
        "no pair interacts beyond the rule")
