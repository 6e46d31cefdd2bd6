"""benchmarks/search.py's loop, scoring and CLI on the synthetic stand-in (no yahpo, no LCBench data).

The LCBench surrogate itself needs yahpo-gym in its own environment
(``make bench-search``); these tests keep the script from rotting in the
default suite: every method's ask / evaluate / tell loop, the divergence
rule reaching every method, the JSON the tables are recomputed from, and bad
input.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import search_problem  # noqa: E402
import search_score  # noqa: E402
from search_methods import Run, run_method  # noqa: E402

SCRIPT = BENCHMARKS / "search.py"


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def test_divergence_rule_covers_about_a_sixth_of_the_space():
    # P(lr / (1 - m) > 0.1) with log10 lr ~ U(-4, -1), m ~ U(0.1, 0.99) is
    # E[-log10(1 - m)] / 3 = 0.153 analytically; 4,000 points: standard error 0.006
    points = search_problem.uniform_sample(4000, seed=1)
    share = np.mean([search_problem.diverges(p, 0.1) for p in points])
    assert abs(share - 0.153) < 0.025
    assert not any(search_problem.diverges(p, None) for p in points)


def test_uniform_sample_respects_bounds_scales_and_integers():
    points = search_problem.uniform_sample(2000, seed=2)
    for name, r in search_problem.SPACE.items():
        values = np.array([p[name] for p in points])
        assert values.min() >= r["low"] and values.max() <= r["high"], name
        if r.get("type") == "int":
            assert all(isinstance(p[name], int) for p in points), name
        # each scale's midpoint splits the sample in halves (binomial sd 1.1 % at 2,000 points)
        middle = search_problem.from_unit(name, 0.5)
        assert abs(np.mean(values < middle) - 0.5) < 0.06 + (0.1 if r.get("type") == "int" else 0), name


def test_random_search_regret_scale_matches_order_statistics():
    # errors uniform on [0, 100], best known 0: the best of 50 has median 100 (1 - 0.5 ** (1 / 50)) = 1.377
    errors = list(np.random.default_rng(3).uniform(0, 100, 10_000))
    scale = search_score.random_search_regret_scale(errors, best_known=0.0)
    assert abs(scale - 1.377) < 0.2


def run(best: list, task: str = "1", seed: int = 0, method: str = "m") -> Run:
    return Run(method, len(best), task, seed, 0, best, [b is None for b in best], [0.0] * len(best))


def test_wins_losses_count_strict_wins_ties_and_runs_without_a_feasible_trial():
    a = {("1", 0): run([5.0]), ("1", 1): run([3.0]), ("2", 0): run([None]), ("2", 1): run([4.0])}
    b = {("1", 0): run([6.0]), ("1", 1): run([3.0]), ("2", 0): run([1.0]), ("2", 1): run([None])}
    assert search_score.wins_losses(a, b) == (2, 1, 1)
    assert search_score.normalized(run([None]), 0.0, 1.0) == math.inf


@pytest.mark.parametrize("method", ["tunebook-quasi-random", "optuna-tpe"])
def test_every_trial_in_the_divergent_region_is_reported_as_diverged(method):
    if method.startswith("optuna"):
        pytest.importorskip("optuna", reason="Optuna (the bench extra) is not installed")
    problem = search_problem.Synthetic("7", diverge=0.1)
    seen = []
    evaluate = problem.errors
    problem.errors = lambda configs: seen.extend(configs) or evaluate(configs)
    result = run_method(method, problem, 30, seed=0)
    assert result.diverged == [search_problem.diverges(c, 0.1) for c in seen]
    assert 0 < sum(result.diverged) < 30
    feasible = [e for c, e in zip(seen, evaluate(seen)) if e is not None]
    assert result.best == min(feasible)
    assert all(a is None or (b is not None and b <= a) for a, b in zip(result.best_so_far, result.best_so_far[1:]))


def test_tpe_learns_on_the_synthetic_bowl_more_than_quasi_random_at_the_same_budget():
    pytest.importorskip("optuna", reason="Optuna (the bench extra) is not installed")
    # a loose check that the loop feeds results back (a broken tell leaves TPE a random search):
    # TPE's median best over 5 seeds at 30 trials beats quasi-random's on a smooth 7-d bowl
    problem = search_problem.Synthetic("1", diverge=None)
    tpe = [run_method("optuna-tpe", problem, 30, seed).best for seed in range(5)]
    qr = [run_method("tunebook-quasi-random", problem, 30, seed).best for seed in range(5)]
    assert np.median(tpe) < np.median(qr)


def test_script_runs_the_grid_and_writes_json_the_tables_can_be_recomputed_from(tmp_path):
    # Optuna comes with the bench extra, not dev: without it the script runs tunebook's side alone
    rivals = ["optuna-tpe"] if importlib.util.find_spec("optuna") else []
    out = tmp_path / "runs.json"
    grid = ["--surrogate", "synthetic", "--tasks", "1", "2", "--seeds", "0", "1", "--trials", "12",
            "--reference", "400", "--diverge", "0.1", "--json", str(out), "--methods", "tunebook-quasi-random", *rivals]
    result = run_script(*grid)
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())
    labels = {(r["method"], r["trials"]) for r in rows}
    assert labels == {("tunebook-quasi-random", 12), ("tunebook-quasi-random", 24),
                      ("tunebook-quasi-random", 48)} | {(m, 12) for m in rivals}
    assert len(rows) == len(labels) * 2 * 2
    for r in rows:
        assert len(r["best_so_far"]) == len(r["diverged"]) == r["trials"]
        assert r["diverge"] == 0.1 and r["best_known"] <= min(b for b in r["best_so_far"] if b is not None)
    qr = {(r["task"], r["seed"], r["trials"]): r for r in rows if r["method"] == "tunebook-quasi-random"}
    assert qr[("1", 0, 48)]["best_so_far"][:12] == qr[("1", 0, 12)]["best_so_far"]
    assert "Wins / losses / ties" in result.stdout and "covers" in result.stdout
    regret_row = next(line for line in result.stdout.splitlines() if line.strip().startswith("tunebook-quasi-random-48"))
    assert "nan" not in regret_row
    resumed = run_script(*grid, "--resume", str(out))
    assert resumed.returncode == 0 and f"resumed {len(rows)} runs" in resumed.stderr
    assert not re.search(r"\] (tunebook|optuna)-[a-z-]+ task", resumed.stderr)  # no run again
    assert resumed.stdout.split("Wins")[1] == result.stdout.split("Wins")[1]  # the same tables


@pytest.mark.parametrize("args, field", [
    (["--diverge", "-1"], "--diverge"),
    (["--trials", "0"], "--trials"),
    (["--methods", "hyperopt"], "--methods"),
    (["--surrogate", "lcbench", "--data", "/nonexistent"], "--data"),
])
def test_bad_input_names_the_field_and_exits_nonzero_without_a_traceback(args, field, tmp_path):
    result = run_script("--surrogate", "synthetic", "--tasks", "1", "--seeds", "0", *args,
                        "--json", str(tmp_path / "x.json"))
    assert result.returncode == 2
    assert field in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.json").exists()


def test_a_resume_file_that_is_no_list_of_runs_is_refused_by_name(tmp_path):
    bad = tmp_path / "runs.json"
    bad.write_text('{"method": "optuna-tpe"}')
    result = run_script("--surrogate", "synthetic", "--tasks", "1", "--seeds", "0", "--resume", str(bad))
    assert result.returncode == 2 and "--resume" in result.stderr and "Traceback" not in result.stderr
    assert bad.read_text() == '{"method": "optuna-tpe"}'


def test_win_share_interval_is_wilsons():
    # 9 of 10: the textbook Wilson 95 % interval is 0.596-0.982; no cells: nothing known
    low, high = search_score.wilson_interval(9, 10)
    assert (round(low, 3), round(high, 3)) == (0.596, 0.982)
    assert search_score.wilson_interval(0, 0) == (0.0, 1.0)
