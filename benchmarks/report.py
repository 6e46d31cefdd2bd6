"""Report speed: from a stored experiment to its plots and checklist.

10,000 trials x 1,000 steps x 3 metrics (train/loss, valid/loss, valid/error),
4 scientific values with 2,500 quasi-random trials each, about 8 % of them
infeasible (diverged at a high learning rate). Measured side by side in one run:

- tunebook: what ``tunebook report`` does: ``load`` (the trials, and from the
  SQLite file the curves the checklist and plots read: train/loss and
  valid/loss, 20M points; valid/error stays on disk), ``run_checklist``,
  ``best_per_scientific_value`` and the self-contained HTML report (every
  plot of it, plotly inlined);
- Optuna 5: the same trials with one curve each (valid/loss as intermediate
  values; Optuna keeps one curve per trial) in its in-memory storage, so its
  time holds no loading at all, then ``plot_slice`` and
  ``plot_intermediate_values`` written to one HTML file (plotly inlined).

Writing the data is not timed; each side is timed with only its own data in
memory. Prints seconds for each step and the ratio.

    python benchmarks/report.py [--trials 10000] [--steps 1000]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

SCIENTIFIC = [1, 2, 3, 4]  # num_layers
NUISANCE = {
    "learning_rate": {"low": 1e-4, "high": 3.0, "scale": "log"},
    "weight_decay": {"low": 1e-6, "high": 1e-2, "scale": "log"},
    "dropout": {"low": 0.0, "high": 0.5},
}
METRICS = ("train/loss", "valid/loss", "valid/error")


def experiment(trials_per_study: int, steps: int):
    from tunebook.core import Experiment

    return Experiment.from_dict({
        "name": "report-bench", "objective": {"metric": "valid/loss", "mode": "min"},
        "scientific": {"num_layers": SCIENTIFIC}, "nuisance": NUISANCE,
        "fixed": {"batch_size": 128, "max_train_steps": steps},
        "search": {"trials": trials_per_study, "seed": 0},
    })


def curves(params: dict, num_layers: int, steps: int, rng: np.random.Generator) -> dict[str, np.ndarray] | None:
    """Three noisy curves that fall at a rate set by the learning rate; None when the run diverges."""
    lr = params["learning_rate"]
    if lr > 1.0 and rng.random() < 0.6:
        return None
    t = np.arange(1, steps + 1, dtype=float)
    speed = min(lr, 0.3) * 30 / steps
    floor = 0.2 + 0.05 * abs(num_layers - 2.5) + 0.1 * params["dropout"] + abs(np.log10(lr) + 1.5) * 0.05
    train = floor * 0.8 + 2.0 * np.exp(-speed * t) + rng.normal(0, 0.02, steps)
    valid = floor + 2.0 * np.exp(-speed * t) + 1e-4 * t * params["weight_decay"] * 100 + rng.normal(0, 0.01, steps)
    error = np.clip(valid / 3.0 + rng.normal(0, 0.005, steps), 0, 1)
    return {"train/loss": train, "valid/loss": valid, "valid/error": error}


def write_tunebook(exp, steps: int, db: Path, rng: np.random.Generator) -> list[tuple]:
    """Store every trial and its curves; returns (num_layers, params, curves or None) per trial for Optuna."""
    from tunebook.core import TrialState
    from tunebook.core.objective import reduce_curve
    from tunebook.search import make_sampler
    from tunebook.storage import SQLStore

    store = SQLStore(f"sqlite:///{db}")
    record = store.ensure_experiment(exp.name, exp.to_dict())
    rows = []
    step_ids = np.arange(1, steps + 1)
    for plan in exp.studies():
        sampler = make_sampler(exp, plan)
        study = store.ensure_study(record.id, plan.key, plan.scientific, exp.search.trials)
        while (trial := store.claim_trial(study.id, "bench", sampler.params)) is not None:
            layers = plan.scientific["num_layers"]
            made = curves(trial.params, layers, steps, rng)
            if made is None:
                store.finish_trial(trial.id, TrialState.INFEASIBLE, reason="diverged")
            else:
                store.log_curves(trial.id, {m: (step_ids, v) for m, v in made.items()})
                value, best = reduce_curve(step_ids, made["valid/loss"], "min", "best")
                store.finish_trial(trial.id, TrialState.COMPLETE, objective=value, best_step=best)
            rows.append((layers, dict(trial.params), made))
    store.close()
    return rows


def time_tunebook(db: Path, out: Path) -> dict[str, float]:
    from tunebook.analysis import load
    from tunebook.analysis.best import best_per_scientific_value
    from tunebook.analysis.checklist import metrics_read, run_checklist
    from tunebook.report import write_html_report
    from tunebook.storage import SQLStore

    times = {}
    start = time.perf_counter()
    with SQLStore(f"sqlite:///{db}") as store:
        data = load("report-bench", store, metrics=metrics_read("valid/loss"))  # as `tunebook report` does
    times["load"] = time.perf_counter() - start
    mark = time.perf_counter()
    best = best_per_scientific_value(data)
    findings = run_checklist(data)
    times["checklist"] = time.perf_counter() - mark
    mark = time.perf_counter()
    path = write_html_report(data, out, findings, best)
    times["report"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    print(f"  tunebook: {len(data.trials)} trials, {len(data.curves):,} curve points, {len(findings)} findings, "
          f"report {path.stat().st_size / 1e6:.1f} MB")
    return times


def optuna_study(rows: list[tuple]):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {
        "num_layers": optuna.distributions.CategoricalDistribution(SCIENTIFIC),
        **{name: optuna.distributions.FloatDistribution(r["low"], r["high"], log=r.get("scale") == "log")
           for name, r in NUISANCE.items()},
    }
    study = optuna.create_study(direction="minimize")
    trials = []
    for layers, params, made in rows:
        params = {"num_layers": layers, **{k: params[k] for k in NUISANCE}}
        if made is None:
            trials.append(optuna.trial.create_trial(params=params, distributions=distributions,
                                                    state=optuna.trial.TrialState.FAIL))
            continue
        valid = made["valid/loss"]
        trials.append(optuna.trial.create_trial(
            params=params, distributions=distributions, value=float(valid.min()),
            intermediate_values={i + 1: float(v) for i, v in enumerate(valid)},
        ))
    study.add_trials(trials)
    return study


def time_optuna(study, out: Path) -> dict[str, float]:
    import optuna.visualization as vis

    times = {}
    start = time.perf_counter()
    slice_figure = vis.plot_slice(study)
    times["plot_slice"] = time.perf_counter() - start
    mark = time.perf_counter()
    curves_figure = vis.plot_intermediate_values(study)
    times["plot_intermediate_values"] = time.perf_counter() - mark
    mark = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "optuna.html"
    with path.open("w") as f:
        f.write(slice_figure.to_html(include_plotlyjs=True, full_html=True))
        f.write(curves_figure.to_html(include_plotlyjs=False, full_html=False))
    times["write html"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    print(f"  optuna: {len(study.trials)} trials, html {path.stat().st_size / 1e6:.1f} MB")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=10_000, help="trials in all (split over 4 studies)")
    parser.add_argument("--steps", type=int, default=1000, help="steps per curve")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    exp = experiment(args.trials // len(SCIENTIFIC), args.steps)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        mark = time.perf_counter()
        rows = write_tunebook(exp, args.steps, workdir / "tunebook.db", np.random.default_rng(0))
        print(f"data written in {time.perf_counter() - mark:.0f} s (not timed)")
        ours = time_tunebook(workdir / "tunebook.db", workdir / "tunebook-report")
        gc.collect()
        study = optuna_study(rows)  # built after tunebook's turn: neither side runs beside the other's data
        del rows
        gc.collect()
        theirs = time_optuna(study, workdir / "optuna-report")
    print(f"\n{'tunebook':28} {'s':>8}")
    for name, seconds in ours.items():
        print(f"  {name:26} {seconds:8.2f}")
    print(f"{'optuna (in memory)':28} {'s':>8}")
    for name, seconds in theirs.items():
        print(f"  {name:26} {seconds:8.2f}")
    print(f"\ntunebook / optuna time: {ours['total'] / theirs['total']:.3f} "
          f"({theirs['total'] / ours['total']:.1f}x faster; target: at most 0.1)")


if __name__ == "__main__":
    main()
