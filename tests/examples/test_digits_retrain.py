"""``tunebook retrain`` on real training: the digits MLP, whose seed moves its result."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
import yaml

from tunebook.analysis import load
from tunebook.analysis.repeats import repeats_of
from tunebook.core.states import TrialState

from ..execution.harness import run_cli, run_here, store_url, trials_by_study
from .digits import DIGITS

pytest.importorskip("torch", reason="the digits example needs torch (pip install torch)")
pytest.importorskip("sklearn", reason="the digits example needs scikit-learn (pip install scikit-learn)")


def small_digits_spec(folder: Path) -> Path:
    """The demo's trial function, shortened to 60 steps; like the demo's spec, no seed hyperparameter."""
    spec = {
        "name": "digits-small",
        "objective": {"metric": "valid/error", "mode": "min", "reduce": "final"},
        "nuisance": {"learning_rate": {"low": 3e-3, "high": 1e-2, "scale": "log"}},
        "fixed": {"num_layers": 2, "hidden_width": 32, "optimizer": "adam", "beta1": 0.9, "batch_size": 32,
                  "max_train_steps": 60, "eval_every": 30},
        "search": {"trials": 1},
        "run": {"function": "train:train", "workdir": str(DIGITS), "parallel": 2},
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.mark.slow  # four torch processes: ~20 s on an idle 2-core machine, minutes on a loaded one
def test_retraining_the_digits_mlp_gives_a_spread_of_real_results(tmp_path):
    url = store_url(tmp_path)
    run_here(small_digits_spec(tmp_path), url, tmp_path / "runs")
    done = run_cli("retrain", "digits-small", "-n", "3", "--store", url, "--runs", str(tmp_path / "runs"),
                   cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "warning: the experiment has no hyperparameter 'seed'" in done.stderr  # the demo's function reads it
    (source,) = trials_by_study(url, "digits-small")["default"]
    repeats = trials_by_study(url, "digits-small")["retrain:default:0"]
    assert all(t.state is TrialState.COMPLETE for t in [source, *repeats]), [t.reason for t in repeats]
    values = [source.objective] + [t.objective for t in repeats]
    assert statistics.stdev(values) > 0, values  # other seeds, other initializations and batch orders
    assert len(set(values)) >= 2 and max(values) < 0.5  # ... of a model that learned something
    group = repeats_of(load("digits-small", url), source.id)
    assert sorted(group.trial_ids) == sorted([source.id, *(t.id for t in repeats)])
