"""compare_refs on a real SQLite store filled by ``tunebook import runs`` (tests/plans/seeded.py)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from tunebook.core import TrialState
from tunebook.core.errors import NotFoundError
from tunebook.plans.comparison import compare_refs
from tunebook.plans.records import PlanInputError
from tunebook.storage import SQLStore

from .seeded import A, B, C, SEEDS, seeded_store
from .stored import spec, store_experiment, trial


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_store(tmp_path_factory.mktemp("seeded"))


def test_a_trial_ref_brings_its_configurations_seeds_and_a_clear_win_is_adopted(url: str):
    result = compare_refs(url, A, B)
    assert result.decision == "adopt"
    base, cand = result.baseline, result.candidate
    assert base["n"] == cand["n"] == SEEDS
    assert [r["seed"] for r in base["repeats"]] == list(range(SEEDS))
    assert [r["trial"] for r in cand["repeats"]] == [f"default/{i}" for i in range(10, 20)]
    assert base["params"] == {"lr": 0.1, "seed": 0}
    assert result.difference == pytest.approx(cand["mean"] - base["mean"]) and result.difference < 0
    assert result.commands == (f"tunebook compare {A} {B} --store {url}",)
    assert result.next_commands == ()


def test_the_other_way_round_keeps_the_baseline(url: str):
    assert compare_refs(url, B, A).decision == "keep baseline"


def test_a_diverged_seed_is_counted_and_named(url: str):
    result = compare_refs(url, A, C)
    assert result.candidate["n"] == SEEDS and result.candidate["diverged"] == 1
    lost = [r for r in result.candidate["repeats"] if r["value"] is None]
    assert [(r["trial"], r["state"], r["seed"]) for r in lost] == [("default/23", "infeasible", 3)]
    assert result.decision == "not enough evidence"


def test_not_enough_evidence_offers_retrains_to_the_seeds_needed_then_the_comparison(url: str):
    result = compare_refs(url, A, C)
    more = result.seeds_needed - SEEDS
    assert result.next_commands == (
        f"tunebook retrain {A} -n {more} --store {url}",
        f"tunebook retrain {C} -n {more} --store {url}",
        f"tunebook compare {A} {C} --store {url}",
    )


def test_an_experiment_ref_is_its_best_trial_with_its_repeats_and_the_winners_curse_is_noted(url: str):
    result = compare_refs(url, A, "lrs")
    assert result.candidate["ref"].startswith("lrs/default/1")  # one of config B's seeds
    assert result.candidate["n"] == SEEDS and result.candidate["params"]["lr"] == 0.2
    spread = result.candidate["study_variance"]
    assert spread["study"] == "default" and spread["k"] == 3 * SEEDS + 3 - 1  # the complete trials
    assert any("winner's curse" in w and "other 9 repeat(s) average" in w for w in result.warnings)
    assert compare_refs(url, A, "lrs/default").candidate["ref"] == result.candidate["ref"]


def test_a_single_study_best_from_another_experiment_is_a_lucky_number_until_retrained(url: str):
    result = compare_refs(url, A, "wide")
    assert result.candidate["n"] == 1 and result.decision == "not enough evidence"
    assert "too few seeds to tell: with 10 vs 1 seeds" in result.reasons[0]
    assert result.candidate["study_variance"]["k"] == 6
    assert any("not the mean of retrains" in w for w in result.warnings)
    assert any(c.startswith(f"tunebook retrain {result.candidate['ref']} -n ") for c in result.next_commands)


def test_both_sides_one_configuration_is_said(url: str):
    result = compare_refs(url, A, "lrs/default/5")
    assert result.decision == "not enough evidence"
    assert any("same configuration" in w for w in result.warnings)


def test_min_effect_and_seed_param_go_into_the_reproduce_command(url: str):
    result = compare_refs(url, A, B, min_effect=0.05)
    assert result.decision == "keep baseline"  # B is ~0.02 better: an improvement of 0.05 is ruled out
    assert result.commands == (f"tunebook compare {A} {B} --min-effect 0.05 --store {url}",)


def test_with_another_seed_parameter_every_trial_is_its_own_configuration(url: str):
    result = compare_refs(url, A, B, seed_param="epochs")
    assert result.baseline["n"] == result.candidate["n"] == 1
    assert "--seed-param epochs" in result.commands[0]


@pytest.mark.parametrize("ref, wanted", [
    ("lsr/default/0", "did you mean 'lrs/default/0'?"),
    ("lrs/defualt/0", "did you mean 'lrs/default/0'?"),
    ("lrs/default/99", "its trial numbers: 0..32"),
])
def test_unknown_refs_name_what_exists(url: str, ref: str, wanted: str):
    with pytest.raises(NotFoundError, match=wanted.replace("?", r"\?").replace(".", r"\.")):
        compare_refs(url, A, ref)


def test_sides_with_different_objectives_are_refused(url: str):
    with pytest.raises(PlanInputError, match=r"valid_acc \(max, best over training\).*valid_loss \(min, best"):
        compare_refs(url, A, "acc")


def test_sides_reducing_their_curves_differently_are_refused(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'two.db'}"
    for name, reduce in (("best-loss", "best"), ("final-loss", "final")):
        spec_data = {**spec(name, objective="valid_loss", nuisance={"lr": [0.1, 0.2]}),
                     "objective": {"metric": "valid_loss", "mode": "min", "reduce": reduce}}
        store_experiment(url, spec_data, [trial({"lr": 0.1}, {"valid_loss": [(0, 1.0), (1, 0.4), (2, 0.5)]})])
    with pytest.raises(PlanInputError, match=r"valid_loss \(min, final over training\).*\(min, best over"):
        compare_refs(url, "best-loss", "final-loss")


def test_a_negative_min_effect_is_refused_naming_it(url: str):
    with pytest.raises(PlanInputError, match="--min-effect: must be a number >= 0.*-0.1"):
        compare_refs(url, A, B, min_effect=-0.1)


def test_the_store_is_left_untouched(url: str):
    path = Path(url.removeprefix("sqlite:///"))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    compare_refs(url, A, C)
    with pytest.raises(NotFoundError):
        compare_refs(url, A, "nope")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_retrain_study_names_its_source_configuration_and_shared_seeds_are_flagged(tmp_path: Path):
    url = seeded_store(tmp_path)
    with SQLStore(url) as store:
        record = store.get_experiment("lrs")
        source = next(t for t in store.list_trials(experiment_id=record.id) if t.number == 0)
        study = store.ensure_study(record.id, "retrain:default:0", {}, budget=2)
        for seed, value in ((100, 0.301), (0, 0.299)):  # seed 0 ran already, as lrs/default/0
            claimed = store.claim_trial(study.id, "tests", lambda n, s=seed: {**source.params, "seed": s})
            store.finish_trial(claimed.id, TrialState.COMPLETE, value, 2, None)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:  # the link tunebook retrain sets
        db.execute("UPDATE studies SET source_trial_id = ? WHERE id = ?", (source.id, study.id))
    result = compare_refs(url, "lrs/retrain:default:0", B)
    assert result.baseline["label"] == "lrs/retrain:default:0" and result.baseline["ref"] == A
    assert result.baseline["n"] == SEEDS + 2
    assert "retrain:default:0/1" in [r["trial"] for r in result.baseline["repeats"]]
    assert any("repeats share seeds (0)" in w for w in result.warnings)
    assert result.commands == (f"tunebook compare {A} {B} --store {url}",)


@pytest.mark.postgres
def test_postgresql_gives_the_same_comparison(url: str, postgres_url: str, tmp_path: Path):
    seeded_store(tmp_path, postgres_url)
    on_sqlite, on_postgres = (compare_refs(u, A, C).to_dict() for u in (url, postgres_url))
    for commands in ("commands", "next_commands"):
        on_sqlite.pop(commands), on_postgres.pop(commands)
    assert on_postgres == on_sqlite


def test_a_side_with_fewer_than_five_seeds_is_retrained_to_five_before_any_larger_count_is_asked(url: str):
    """Against 'wide''s single lucky best, no seed count is read off the gap: only that side, to 5 seeds."""
    result = compare_refs(url, A, "wide")
    ref = result.candidate["ref"]
    assert result.baseline["n"] == SEEDS >= 5 and result.candidate["n"] == 1
    assert result.next_commands == (f"tunebook retrain {ref} -n 4 --store {url}",
                                    f"tunebook compare {A} {ref} --store {url}")
