"""Throughput at scale: trials per hour for 1, 2, 4, 8 trials at once, and the cost per trial around them.

The same short program (``python prog.py X``: sleeps ``--seconds``, prints
one JSON metric line) run as ``--trials`` trials

(a) by tunebook's Runner on the local executor (a subprocess per trial),
(b) by tunebook's Runner on the Ray executor (a private local Ray instance),
(c) by Ray Tune: ``tune.Tuner`` with a function trainable that runs the same
    program in a subprocess and reports its metric, ``max_concurrent_trials``
    the same concurrency,

each with a fresh SQLite store (tunebook) or results folder (Tune), and Ray
started with as many logical CPUs as trials at once (so 8 at once run 8 at
once on a smaller machine too). Reported
per setting: wall time, its start-up (the executor's or Tune's ``ray.init``),
trials per hour, and the overhead per trial ``wall * concurrency / trials -
seconds``: what each trial costs beyond the program's own run, with the
start-up spread over the trials, and without it (``wall - start``). One run of the script measures everything; ``--out`` keeps the JSON.

``--ray-trials N`` measures instead whether Ray slows down as a run grows: N
trials of a trivial ``run.function`` program (it logs one point) through
tunebook on Ray, ``--concurrency`` at once (its first value), and the trials per
hour of the first and the last ``--window`` trials, each window's rate taken
between trial finishes (``window`` intervals), so Ray's start-up is in neither.

    python benchmarks/scale.py [--trials 16] [--seconds 1] [--concurrency 1 2 4 8] [--out results/scale.json]
    python benchmarks/scale.py --ray-trials 1000 --concurrency 2 [--window 100]

Needs the ``ray`` extra (``pip install 'tunebook[ray]' 'ray[tune]'``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a private local instance: no token file written to ~/.ray

PROGRAM = """
import json, sys, time
x = float(sys.argv[1])
time.sleep(float(sys.argv[2]))
print(json.dumps({"step": 0, "loss": (x - 0.3) ** 2}))
"""


TRIVIAL = """
def train(params, trial):
    trial.log(0, loss=(params["x"] - 0.3) ** 2)
"""


def spec(folder: Path, trials: int, seconds: float | None, executor: str, parallel: int) -> Any:
    """The benchmark's experiment: ``prog.py`` sleeping ``seconds``, or (None) ``trivial.py``'s function."""
    from tunebook.core.experiment import Experiment

    program: dict[str, Any] = ({"function": "trivial:train"} if seconds is None else
                               {"command": f"{sys.executable} prog.py {{x}} {seconds}", "metrics": ["json"]})
    return Experiment.from_dict({
        "name": f"scale-{executor}-{parallel}", "objective": {"metric": "loss", "mode": "min"},
        "nuisance": {"x": {"low": 0.0, "high": 1.0}}, "search": {"trials": trials},
        "run": {**program, "parallel": parallel, "executor": executor, "address": "local", "retries": 0},
    }, source=str(folder / "spec.yaml"))


def run_tunebook(folder: Path, trials: int, seconds: float | None, kind: str, parallel: int) -> tuple[float, float]:
    """(wall seconds for a Runner's run of ``trials`` trials, of which the executor's start-up: Ray's init)."""
    from tunebook.execution import Runner
    from tunebook.execution.choose import make_executor
    from tunebook.storage import SQLStore

    experiment = spec(folder, trials, seconds, kind, parallel)
    url = f"sqlite:///{folder / f'{experiment.name}.db'}"
    began = time.perf_counter()
    if kind == "ray":  # as many logical CPUs as trials at once, as Tune gets below (the executor then joins it)
        import ray

        ray.init(num_cpus=parallel, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    with SQLStore(url) as store:
        executor = make_executor(experiment.run_config(), parallel, url)
        start = time.perf_counter() - began
        runner = Runner(experiment, store, executor, folder / "runs", workdir=folder)
        progress = runner.run()
    wall = time.perf_counter() - began
    done = sum(p.complete for p in progress)
    if done != trials:
        reasons = {t.reason for _, t in runner.ended if t.reason}
        raise SystemExit(f"{experiment.name}: {done} of {trials} trials completed: {reasons}")
    return wall, start


def run_tune(folder: Path, trials: int, seconds: float, parallel: int) -> tuple[float, float]:
    """(wall seconds for Ray Tune running the same program ``parallel`` at once, of which ray.init)."""
    import ray
    from ray import tune

    program = str(folder / "prog.py")

    def trainable(config: dict[str, Any]) -> None:
        out = subprocess.run([sys.executable, program, str(config["x"]), str(seconds)], capture_output=True,
                             text=True, check=True).stdout
        tune.report({"loss": json.loads(out.strip().splitlines()[-1])["loss"]})

    began = time.perf_counter()
    ray.init(num_cpus=parallel, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    start = time.perf_counter() - began
    try:
        tuner = tune.Tuner(
            trainable, param_space={"x": tune.uniform(0.0, 1.0)},
            tune_config=tune.TuneConfig(num_samples=trials, max_concurrent_trials=parallel, metric="loss", mode="min"),
            run_config=tune.RunConfig(storage_path=str(folder / "tune"), verbose=0),
        )
        results = tuner.fit()
    finally:
        ray.shutdown()
    wall = time.perf_counter() - began
    if results.num_errors or len(results) != trials:
        raise SystemExit(f"Ray Tune: {len(results)} results, {results.num_errors} errors")
    return wall, start


def finish_times(folder: Path, parallel: int) -> list[float]:
    """When each trial of the ``--ray-trials`` run finished (seconds, sorted), read from its store."""
    from tunebook.storage import SQLStore

    name = f"scale-ray-{parallel}"
    with SQLStore(f"sqlite:///{folder / f'{name}.db'}") as store:
        trials = store.list_trials(experiment_id=store.get_experiment(name).id)
        return sorted(t.finished_at.timestamp() for t in trials)


def window_rates(finished: list[float], window: int) -> list[float]:
    """Trials per hour of each run of ``window`` consecutive trials (by finish): ``window`` / the time from the
    finish before the window to the window's last finish (so no window holds the start-up)."""
    if len(finished) < window + 1:
        raise SystemExit(f"--window {window} needs more than {window} trials, got {len(finished)}")
    ends = list(range(window, len(finished), window))
    if ends[-1] != len(finished) - 1:
        ends.append(len(finished) - 1)  # the last window ends at the last trial (it may overlap the one before)
    return [window / (finished[end] - finished[end - window]) * 3600 for end in ends]


def many_trials(trials: int, window: int, parallel: int) -> dict[str, Any]:
    """Run ``trials`` trivial trials through tunebook on Ray; every window's rate, the machine's load around it."""
    folder = Path(tempfile.mkdtemp(prefix="tunebook-scale-"))
    loads = [os.getloadavg()[0]]
    try:
        (folder / "trivial.py").write_text(TRIVIAL.lstrip())
        wall, start = run_tunebook(folder, trials, None, "ray", parallel)
        loads.append(os.getloadavg()[0])
        rates = window_rates(finish_times(folder, parallel), window)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    first, last = rates[0], rates[-1]
    row = {"setup": "ray", "concurrency": parallel, "trials": trials, "window": window, "wall_s": round(wall, 1),
           "start_s": round(start, 1), "first_per_hour": round(first), "last_per_hour": round(last),
           "last_over_first": round(last / first, 3), "per_hour_by_window": [round(r) for r in rates],
           "load_average_before_after": loads}
    print(f"{trials} trivial trials through tunebook on Ray, {parallel} at once, {os.cpu_count()} CPUs: "
          f"{wall:.0f} s ({start:.0f} s start), load average {loads[0]:.1f} before, {loads[1]:.1f} after\n"
          f"first {window}: {first:,.0f} trials/h   last {window}: {last:,.0f} trials/h   last/first {last / first:.2f}\n"
          f"each {window}: {' '.join(f'{r:,.0f}' for r in rates)}", flush=True)
    return row


def measure(name: str, parallel: int, trials: int, seconds: float,
            run: Callable[[], tuple[float, float]]) -> dict[str, Any]:
    wall, start = run()
    row = {
        "setup": name, "concurrency": parallel, "trials": trials, "wall_s": round(wall, 2),
        "start_s": round(start, 2), "trials_per_hour": round(trials / wall * 3600),
        "overhead_per_trial_s": round(wall * parallel / trials - seconds, 3),
        "overhead_after_start_s": round((wall - start) * parallel / trials - seconds, 3),
    }
    print(f"{name:<10} {parallel:>7} {wall:8.1f} s {start:7.1f} s {row['trials_per_hour']:>9,}/h "
          f"{row['overhead_per_trial_s']:9.2f} s {row['overhead_after_start_s']:9.2f} s", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=1.0, help="how long the program sleeps")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--setups", nargs="+", default=["local", "ray", "ray-tune"],
                        choices=["local", "ray", "ray-tune"])
    parser.add_argument("--ray-trials", type=int, default=None,
                        help="instead: this many trivial trials on Ray, first vs last --window trials/hour")
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.trials < 1 or args.seconds < 0 or min(args.concurrency) < 1:
        parser.error("--trials and --concurrency must be >= 1, --seconds >= 0")
    if args.ray_trials is not None:
        if args.window < 1 or args.ray_trials < 2 * args.window:
            parser.error(f"--ray-trials must be at least twice --window (two windows), got {args.ray_trials} "
                         f"and {args.window}")
        row = many_trials(args.ray_trials, args.window, args.concurrency[0])
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"cpus": os.cpu_count(), "many": row}, indent=2))
        return
    rows = []
    print(f"{args.trials} trials of a {args.seconds:g} s program, {os.cpu_count()} CPUs\n"
          f"{'setup':<10} {'at once':>7} {'wall':>10} {'start':>9} {'trials':>11} {'overhead per trial':>11} "
          "(all / after start)")
    for parallel in args.concurrency:
        for setup in args.setups:
            folder = Path(tempfile.mkdtemp(prefix="tunebook-scale-"))
            try:
                (folder / "prog.py").write_text(PROGRAM.lstrip())
                if setup == "ray-tune":
                    job = lambda: run_tune(folder, args.trials, args.seconds, parallel)  # noqa: E731
                else:
                    job = lambda: run_tunebook(folder, args.trials, args.seconds, setup, parallel)  # noqa: E731
                rows.append(measure(setup, parallel, args.trials, args.seconds, job))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"trials": args.trials, "seconds": args.seconds, "cpus": os.cpu_count(),
                                        "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
