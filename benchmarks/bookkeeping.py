"""Bookkeeping speed: sample, create, claim and finish trials on a SQLite file.

tunebook (QuasiRandomSampler + SQLStore) against Optuna 5 with its QMCSampler
on the RDB SQLite storage and on the journal file storage, measured side by
side in one run on the same 6-dimensional space. Prints trials/s for each,
the ratios, and the rate over the first and the last stretch of trials (a
flat per-trial cost keeps those two equal).

    python benchmarks/bookkeeping.py [--trials 5000] [--optuna-trials 5000]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
import warnings
from pathlib import Path

SPACE = {
    "learning_rate": {"low": 1e-5, "high": 1.0, "scale": "log"},
    "weight_decay": {"low": 1e-6, "high": 1e-2, "scale": "log"},
    "dropout": {"low": 0.0, "high": 0.5},
    "momentum": {"low": 0.8, "high": 0.999},
    "width": {"low": 16, "high": 1024, "type": "int", "scale": "log"},
    "label_smoothing": {"low": 0.0, "high": 0.2},
}


def objective(params: dict) -> float:
    """A cheap stand-in for a training result."""
    return math.log(params["learning_rate"]) ** 2 + params["dropout"]


def run_tunebook(n: int, workdir: Path) -> list[float]:
    from tunebook.core import Experiment, TrialState
    from tunebook.search import make_sampler
    from tunebook.storage import SQLStore

    experiment = Experiment.from_dict({
        "name": "bookkeeping", "objective": {"metric": "loss"},
        "nuisance": SPACE, "search": {"trials": n},
    })
    plan = experiment.studies()[0]
    sampler = make_sampler(experiment, plan)
    store = SQLStore(f"sqlite:///{workdir / 'tunebook.db'}")
    record = store.ensure_experiment(experiment.name, experiment.to_dict())
    study = store.ensure_study(record.id, plan.key, plan.scientific, n)
    stamps = [time.perf_counter()]
    for _ in range(n):
        trial = store.claim_trial(study.id, "bench", sampler.params)
        store.finish_trial(trial.id, TrialState.COMPLETE, objective=objective(trial.params), best_step=0)
        stamps.append(time.perf_counter())
    assert store.claim_trial(study.id, "bench", sampler.params) is None
    store.close()
    return stamps


def run_optuna(n: int, storage_kind: str, workdir: Path) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if storage_kind == "rdb":
        storage = optuna.storages.RDBStorage(f"sqlite:///{workdir / 'optuna.db'}")
    else:
        backend = optuna.storages.journal.JournalFileBackend(str(workdir / "optuna.journal"))
        storage = optuna.storages.JournalStorage(backend)
    sampler = optuna.samplers.QMCSampler(qmc_type="halton", scramble=True, seed=0)
    study = optuna.create_study(storage=storage, sampler=sampler, study_name=f"bench-{storage_kind}")
    stamps = [time.perf_counter()]
    for _ in range(n):
        trial = study.ask()
        params = {}
        for name, r in SPACE.items():
            log = r.get("scale") == "log"
            if r.get("type") == "int":
                params[name] = trial.suggest_int(name, r["low"], r["high"], log=log)
            else:
                params[name] = trial.suggest_float(name, r["low"], r["high"], log=log)
        study.tell(trial, objective(params))
        stamps.append(time.perf_counter())
    return stamps


def rates(stamps: list[float], stretch: int) -> tuple[float, float, float]:
    """Overall trials/s, and trials/s over the first and the last ``stretch`` trials."""
    n = len(stamps) - 1
    stretch = min(stretch, n)
    overall = n / (stamps[-1] - stamps[0])
    first = stretch / (stamps[stretch] - stamps[0])
    last = stretch / (stamps[-1] - stamps[-1 - stretch])
    return overall, first, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=5000, help="trials for tunebook")
    parser.add_argument("--optuna-trials", type=int, default=5000, help="trials for each Optuna storage")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        results["tunebook (SQLite)"] = rates(run_tunebook(args.trials, workdir), 500)
        results["optuna RDB (SQLite)"] = rates(run_optuna(args.optuna_trials, "rdb", workdir), 500)
        results["optuna journal file"] = rates(run_optuna(args.optuna_trials, "journal", workdir), 500)
    print(f"{'':22} {'trials/s':>10} {'first 500':>10} {'last 500':>10} {'last/first':>10}")
    for name, (overall, first, last) in results.items():
        print(f"{name:22} {overall:10.1f} {first:10.1f} {last:10.1f} {last / first:10.2f}")
    ours = results["tunebook (SQLite)"][0]
    print(f"\ntunebook / optuna RDB:     {ours / results['optuna RDB (SQLite)'][0]:.1f}x")
    print(f"tunebook / optuna journal: {ours / results['optuna journal file'][0]:.1f}x")


if __name__ == "__main__":
    main()
