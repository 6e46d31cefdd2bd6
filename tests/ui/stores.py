"""Fixture stores for tunebook ui's tests: real SQLite files, written through the Store API in bulk.

- ``demo_store``: one experiment of two studies (depth=1, depth=2) with
  conditional params (``beta1[optimizer=adam]``), curves of two metrics,
  an infeasible trial that diverged (inf then NaN), a failed one, a
  checkpoint, trial folders with stdout/stderr logs, and notes;
- ``xss_store``: an experiment whose name, goal, scientific value (so study
  and trial names), metric name, note and log line all carry ``XSS`` markup;
- ``add_big``: an experiment ``big`` of ``n`` trials (50,000 in the scale tests);
- ``scale_store``: a store of ``big`` and ``huge`` (one trial of a million points), written once per
  machine into a cache folder and copied for each use;
- ``running_trial``: a trial claimed RUNNING in an experiment, to log into;
- ``unreadable_spec``: a spec this tunebook cannot read (a newer one's), for the judgement's errors.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tunebook.core.experiment import Experiment
from tunebook.core.states import TrialState
from tunebook.execution.prepare import trial_dir
from tunebook.search import sample
from tunebook.storage import open_store
from tunebook.storage.base import FinishedStudy, FinishedTrial

# runs if any page ever treats text as HTML or script: sets a flag, opens a dialog
XSS = '<script>window.__xss=1;alert(1)</script>"onmouseover="window.__xss=2" <img src=x onerror="window.__xss=3">'
LR = {"low": 1e-4, "high": 1.0, "scale": "log"}


def spec(name: str, trials: int, scientific: list[Any] | None = None, goal: str = "Does depth 2 beat depth 1?",
         notes: str | None = None) -> dict[str, Any]:
    """A valid spec: scientific ``depth``, nuisance optimizer (adam opens ``beta1``) and ``lr``."""
    out: dict[str, Any] = {
        "name": name, "goal": goal, "objective": {"metric": "valid/loss", "mode": "min", "reduce": "best"},
        "scientific": {"depth": scientific or [1, 2]},
        "nuisance": {"optimizer": ["sgd", "adam"], "lr": LR, "optimizer=adam": {"beta1": {"low": 0.8, "high": 0.99}}},
        "search": {"trials": trials, "studies": "per_scientific_value", "seed": 0},
    }
    if notes:
        out["notes"] = notes
    return out


def unreadable_spec(name: str) -> dict[str, Any]:
    """A spec as a newer tunebook might store it (``lr`` on a ``cubic`` scale): this one cannot read it."""
    out = spec(name, 4)
    out["nuisance"]["lr"] = {"low": 1e-4, "high": 1.0, "scale": "cubic"}
    return out


def _curve(rng: np.random.Generator, floor: float, steps: int, metric: str) -> tuple[list[int], list[float]]:
    xs = np.arange(0, steps * 10, 10)
    ys = floor + 2.0 * np.exp(-xs / (steps * 3.0)) + rng.normal(0, 0.01, steps)
    return xs.tolist(), ys.tolist()


def _outcome(rng: np.random.Generator, params: dict[str, Any], index: int, steps: int,
             metric: str = "valid/loss") -> FinishedTrial:
    """A complete trial whose loss floor grows with distance from lr=0.01; every 7th infeasible, every 11th failed."""
    floor = 0.2 + 0.1 * abs(math.log10(params["lr"]) + 2)
    if index % 7 == 6:  # diverged: the loss runs away, then inf and NaN
        xs = list(range(0, steps * 10, 10))
        ys = [2.0 * 1.5 ** i for i in range(steps)]
        ys[-2:] = [math.inf, math.nan]
        return FinishedTrial(params, TrialState.INFEASIBLE, {metric: (xs, ys), "train/loss": (xs, ys)},
                             reason="diverged: train/loss is inf at step %d" % xs[-2])
    if index % 11 == 10:
        return FinishedTrial(params, TrialState.FAILED, {}, reason="exit status 1 (out of retries)")
    curves = {metric: _curve(rng, floor, steps, metric), "train/loss": _curve(rng, floor * 0.8, steps, "train/loss")}
    values = curves[metric][1]
    best = int(np.argmin(values))
    return FinishedTrial(params, TrialState.COMPLETE, curves, objective=float(values[best]),
                         best_step=curves[metric][0][best])


def import_sweep(store: Any, name: str, spec_dict: dict[str, Any], steps: int = 30, metric: str = "valid/loss",
                 source: str | None = None, curves: bool = True) -> Any:
    """Import every trial of ``spec_dict``'s budget as finished trials (one transaction); the record.
    ``curves=False``: outcomes only (objective, best step), for the scale tests' many trials."""
    experiment = Experiment.from_dict(spec_dict)
    rng = np.random.default_rng(0)
    by_study: dict[str, tuple[dict[str, Any], list[FinishedTrial]]] = {}
    for i, point in enumerate(sample(experiment)):
        scientific = {k: v for k, v in point.params.items() if k == "depth"}
        trial = _outcome(rng, dict(point.params), i, steps, metric)
        if not curves:
            trial = FinishedTrial(trial.params, trial.state, {}, trial.objective, trial.best_step, trial.reason)
        by_study.setdefault(point.study, (scientific, []))[1].append(trial)
    studies = [FinishedStudy(key, sci, trials) for key, (sci, trials) in by_study.items()]
    return store.import_experiment(name, spec_dict, studies, source=source, worker="fixture")


def write_logs(runs: Path, experiment: str, study: str, number: int, stdout: str, stderr: str = "") -> Path:
    """A trial folder as ``tunebook run`` leaves it, with its two logs."""
    folder = trial_dir(runs, experiment, study, number)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stdout.log").write_text(stdout)
    (folder / "stderr.log").write_text(stderr)
    return folder


def demo_store(path: Path, runs: Path) -> str:
    """The demo store's URL (see the module docstring); experiment ``demo``."""
    url = f"sqlite:///{path}"
    with open_store(url) as store:
        record = import_sweep(store, "demo", spec("demo", 8, notes="first round: depth 1 vs 2"))
        store.add_note(record.id, "lr range looks right")
        trials = store.list_trials(experiment_id=record.id)
        store.add_checkpoint(trials[0].id, 290, str(runs / "demo" / "ckpt-290.pt"), 0.31)
        store.ensure_experiment("empty-one", spec("empty-one", 4))
    write_logs(runs, "demo", "depth=1", 0, "".join(f"step {i} loss {1 / (i + 1):.3f}\n" for i in range(500)),
               "warning: something odd\n")
    return url


def xss_store(path: Path, runs: Path) -> tuple[str, str]:
    """(URL, experiment name) of the XSS probe store."""
    url = f"sqlite:///{path}"
    name = "probe " + XSS
    with open_store(url) as store:
        record = import_sweep(store, name, spec("probe", 4, scientific=[1, XSS], goal="goal " + XSS),
                              metric="valid/" + XSS)
        store.add_note(record.id, "note " + XSS)
        trials = store.list_trials(experiment_id=record.id)
        store.log_curves(trials[0].id, {"metric " + XSS: ([0, 1, 2], [1.0, 0.5, 0.25])})
        studies = {s.id: s.key for s in store.list_studies(record.id)}
        study = studies[trials[0].study_id]
    write_logs(runs, name, study, 0, "log line " + XSS + "\n", "stderr " + XSS + "\n")
    return url, name


def add_big(store: Any, n: int) -> Any:
    """Experiment ``big`` of ``n`` trials (two studies, outcomes without curves), written in one import."""
    return import_sweep(store, "big", spec("big", n // 2), steps=20, curves=False)


def running_trial(store: Any, name: str = "live") -> Any:
    """A RUNNING trial (claimed by a worker of this host) of a new experiment ``name``."""
    record = store.ensure_experiment(name, spec(name, 4))
    study = store.ensure_study(record.id, "depth=1", {"depth": 1}, budget=4)
    return store.claim_trial(study.id, "fixture-worker", lambda n: {"depth": 1, "optimizer": "sgd", "lr": 0.01})


def scale_store(path: Path, trials: int, points: int) -> str:
    """The URL of a store at ``path`` holding ``big`` (``add_big(trials)``) and ``huge``: one finished trial of
    ``points`` curve points, a spike of 40.0 at 70 % of them. Writing it costs seconds of sampling and
    inserting on a 2-core machine, so it is written once into ``$TUNEBOOK_TEST_CACHE`` (default: the
    temporary folder's ``tunebook-test-stores``), named by a digest of this file, the schema version and the
    sizes, and copied from there; a new file (atomic rename) whenever any of them changes."""
    from tunebook.storage.schema import SCHEMA_VERSION

    key = hashlib.sha256(Path(__file__).read_bytes() + f"{SCHEMA_VERSION}/{trials}/{points}".encode()).hexdigest()
    cache = Path(os.environ.get("TUNEBOOK_TEST_CACHE") or Path(tempfile.gettempdir()) / "tunebook-test-stores")
    cached = cache / f"scale-{key[:16]}.db"
    if not cached.exists():
        cache.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=cache))
        _write_scale(f"sqlite:///{building / 'scale.db'}", trials, points)
        _copy_store(building / "scale.db", building / "whole.db")  # one file, whatever the journal left beside
        os.replace(building / "whole.db", cached)
        shutil.rmtree(building, ignore_errors=True)
    _copy_store(cached, path)
    return f"sqlite:///{path}"


def _copy_store(source: Path, target: Path) -> None:
    """Copy a SQLite database with SQLite's backup API (consistent, write-ahead log included)."""
    import sqlite3

    with sqlite3.connect(source) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)
    reading.close()
    writing.close()


def _write_scale(url: str, trials: int, points: int) -> None:
    with open_store(url) as store:
        add_big(store, trials)
        huge = running_trial(store, "huge")
        steps = np.arange(points)
        values = 2.0 / (1.0 + steps / 5e4)
        values[int(points * 0.7)] = 40.0
        store.log_curves(huge.id, {"valid/loss": (steps.tolist(), values.tolist())})
        store.finish_trial(huge.id, TrialState.COMPLETE, objective=float(values.min()), best_step=points - 1)
