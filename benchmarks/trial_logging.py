"""Tracking cost: how fast a trial logs points, and what running a trial through tunebook costs.

(a) Points/s of ``trial.log`` in a managed trial writing to a SQLite store
    (timed up to and including the final flush) against MLflow's
    ``MlflowClient().log_batch`` on its default local store (a SQLite file,
    ``mlflow.db``), in batches of 1,000 metrics, the most MLflow accepts.
(b) What surrounds a ~10 s CPU-bound program (``run.command``, parallel 1, a
    fresh SQLite store per study): in blocks, a ``tunebook run`` study of T
    trials and T bare runs back to back (``python prog.py``). The program
    prints the monotonic clock when it starts and ends, so each gap between
    one program's end and the next one's start is timed without the compute
    (which varies by a few per cent from run to run): in a study, the gap is
    the program's exit, the runner noticing it and settling the trial,
    claiming and preparing the next, its launcher and the program's start;
    back to back, the exit and the start alone. tunebook's cost per trial is
    the median of the paired differences (the i-th gap of a block's study
    less the i-th gap of its bare runs), with a 95 % confidence interval of
    that median (order statistics). The programs' own compute is paired too,
    to show work tunebook does while a trial runs (its spare launcher
    starting) slowing the trial down. Once per run is a study's wall time
    less its trials' span and a bare run's start and exit.

(c) CPU seconds (user + system, of the CLI and every trial process) that
    ``tunebook run`` spends per trial and once per run, from a 1-, a 17- and a
    33-trial study of a trivial ``run.function`` program: per trial is the slope
    from 17 to 33 trials (the verdict printed at the end runs the same checks at
    both, where at 1 trial some have too few trials to run and load nothing),
    once per run the 1-trial study less one trial. Unlike (b)'s wall time, it
    barely moves when other work shares the machine.

Every figure comes with the machine's load average (1 min) before and after it.
The processes timed run with their bytecode cached (PYTHONDONTWRITEBYTECODE is
dropped from their environment, and round 0 writes the caches), as from any pip
install: otherwise each trial process would compile tunebook's modules anew.

    python benchmarks/trial_logging.py [--steps 200000] [--mlflow-steps 50000] [--blocks 6] [--trials 6] [--seconds 10] [--skip-cpu]
"""

from __future__ import annotations

import os
import sys

# This file is called logging.py: run as a script, its folder comes first on
# sys.path and would shadow the standard library's ``logging`` for every
# import below (SQLAlchemy, MLflow). Drop that folder before importing anything.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # see the docstring: measure what an installed tunebook costs

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

METRICS = ("train/loss", "valid/loss", "valid/error")
MLFLOW_BATCH = 1000  # MLflow's limit on metrics per log_batch call


def curve_values(steps: int) -> list[tuple[float, float, float]]:
    """Made-up but plausible values: a decaying loss (no divergence check fires) and an error rate."""
    rng = random.Random(0)
    return [
        (2.3 / (1 + s / 1000) + rng.random() * 0.01, 2.0 / (1 + s / 2000), 0.9 / (1 + s / 500))
        for s in range(steps)
    ]


# -- (a) points/s ---------------------------------------------------------------


def log_with_tunebook(steps: int, workdir: Path) -> tuple[float, int]:
    """(seconds, points stored): log ``steps`` x 3 metrics through a managed trial, flush."""
    from tunebook.core import Experiment
    from tunebook.storage import SQLStore
    from tunebook.tracking.protocol import ENV_PARAMS, ENV_TRIAL_DIR, TrialContext

    url = f"sqlite:///{workdir / 'tunebook.db'}"
    experiment = Experiment.from_dict({
        "name": "logging", "objective": {"metric": "valid/error"},
        "nuisance": {"learning_rate": {"low": 1e-4, "high": 1.0, "scale": "log"}}, "search": {"trials": 1},
    })
    store = SQLStore(url)
    record = store.ensure_experiment(experiment.name, experiment.to_dict())
    study = store.ensure_study(record.id, "default", {}, 1)
    claimed = store.claim_trial(study.id, "bench", lambda n: {"learning_rate": 1e-3})
    trial_dir = workdir / "trial"
    trial_dir.mkdir()
    TrialContext(trial_id=claimed.id, store=url, objective_metric="valid/error", objective_mode="min").write(trial_dir)
    os.environ[ENV_TRIAL_DIR] = str(trial_dir)
    os.environ[ENV_PARAMS] = json.dumps({"learning_rate": 1e-3})

    import tunebook.tracking as tt

    values = curve_values(steps)
    trial = tt.trial()
    if not trial.is_managed:
        raise RuntimeError("the benchmark must measure a managed trial, got a standalone one")
    start = time.perf_counter()
    for step, (train_loss, valid_loss, valid_error) in enumerate(values):
        trial.log(step, {"train/loss": train_loss, "valid/loss": valid_loss, "valid/error": valid_error})
    trial.flush()
    seconds = time.perf_counter() - start
    stored = len(store.load_curves(trial_ids=[claimed.id]))
    store.close()
    del os.environ[ENV_TRIAL_DIR], os.environ[ENV_PARAMS]  # (b)'s processes are not this trial
    return seconds, stored


def log_with_mlflow(steps: int, workdir: Path) -> tuple[float, int]:
    """(seconds, points stored): the same points through MlflowClient.log_batch, 1,000 per call."""
    import logging

    from mlflow import MlflowClient
    from mlflow.entities import Metric

    for name in ("mlflow", "alembic"):  # quiet the table-creation messages
        logging.getLogger(name).setLevel(logging.WARNING)

    # What MLflow 3 uses when no tracking URI is set: ./mlflow.db (here in a temp folder).
    client = MlflowClient(tracking_uri=f"sqlite:///{workdir / 'mlflow.db'}")
    run = client.create_run(client.create_experiment("logging"))
    run_id = run.info.run_id
    values = curve_values(steps)
    per_batch = MLFLOW_BATCH // len(METRICS)
    start = time.perf_counter()
    for first in range(0, steps, per_batch):
        stamp = int(time.time() * 1000)
        batch = [
            Metric(name, value, stamp, step)
            for step in range(first, min(first + per_batch, steps))
            for name, value in zip(METRICS, values[step])
        ]
        client.log_batch(run_id, metrics=batch)
    seconds = time.perf_counter() - start
    stored = sum(len(client.get_metric_history(run_id, name)) for name in METRICS)
    return seconds, stored


# -- (b) the cost of running a trial through tunebook -----------------------------

PROGRAM = '''\
"""A CPU-bound stand-in for training: logistic regression by SGD in pure Python."""
import time
began = time.monotonic()  # the clock every process shares: gaps between programs are differences of it
import argparse, math, random
started = time.perf_counter()

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, required=True)
parser.add_argument("--lr", type=float, default=0.05)
args = parser.parse_args()
rng = random.Random(0)
true_w = [rng.gauss(0, 1) for _ in range(16)]
data = []
for _ in range(2000):
    x = [rng.gauss(0, 1) for _ in range(16)]
    data.append((x, 1.0 if sum(a * b for a, b in zip(true_w, x)) > 0 else 0.0))
w, total = [0.0] * 16, 0.0
for step in range(1, args.steps + 1):
    x, y = data[step % len(data)]
    z = max(-30.0, min(30.0, sum(a * b for a, b in zip(w, x))))
    p = 1.0 / (1.0 + math.exp(-z))
    w = [a - args.lr * (p - y) * b for a, b in zip(w, x)]
    total += -math.log(max(p if y else 1.0 - p, 1e-12))
    if step % 10000 == 0:
        print(f"step {step} loss: {total / 10000:.5f}", flush=True)
        total = 0.0
print(f"elapsed: {time.perf_counter() - started:.6f}", flush=True)
print(f"span: {began:.6f} {time.monotonic():.6f}", flush=True)
'''

SPEC = """\
name: overhead
goal: What does running a trial through tunebook cost?
objective: {{metric: loss, mode: min, reduce: final}}
nuisance:
  lr: {{low: 0.01, high: 0.1, scale: log}}
search: {{trials: 1, seed: 0}}
run:
  command: {command}
  metrics:
    - 'step (?P<step>\\d+) loss: (?P<loss>\\S+)'
  parallel: 1
"""


def tunebook_command() -> list[str]:
    script = Path(sys.executable).parent / "tunebook"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tunebook.cli.main"]


def tunebook_run_available() -> str | None:
    """None if ``tunebook run`` exists, else why not."""
    try:
        done = subprocess.run([*tunebook_command(), "run", "--help"], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        return f"cannot start tunebook: {exc}"
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        return said[-1] if said else f"exit status {done.returncode}"
    return None


def wall(argv: list[str], cwd: Path) -> tuple[float, str]:
    """Wall seconds of a command and its stdout."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds, done.stdout


def calibrate(program: Path, seconds: float) -> int:
    """Steps that make the program run about ``seconds`` bare."""
    probe = 200_000
    took, _ = wall([sys.executable, str(program), "--steps", str(probe)], program.parent)
    return max(10_000, int(round(probe * seconds / took, -4)))


def check_trials(store_url: str, count: int, steps: int) -> None:
    """The tunebook run really ran the program: ``count`` complete trials with whole loss curves."""
    from tunebook.core import TrialState
    from tunebook.storage import SQLStore

    with SQLStore(store_url) as store:
        experiment = store.get_experiment("overhead")
        trials = store.list_trials(experiment_id=experiment.id)
        if len(trials) != count or any(t.state != TrialState.COMPLETE for t in trials):
            raise RuntimeError(f"expected {count} complete trials, got {[(t.state, t.reason) for t in trials]}")
        points = len(store.load_curves(experiment_id=experiment.id))
        if points != count * (steps // 10000):
            raise RuntimeError(f"the trials logged {points} loss points, expected {count * (steps // 10000)}")


def spans(outputs: list[str]) -> list[tuple[float, float]]:
    """(start, end) on the shared monotonic clock of each program, from its printed ``span:`` line."""
    return [tuple(map(float, re.findall(r"span: (\S+) (\S+)", out)[-1])) for out in outputs]


def gaps(spanned: list[tuple[float, float]]) -> list[float]:
    """Seconds from each program's end to the next one's start."""
    return [after[0] - before[1] for before, after in zip(spanned, spanned[1:])]


def tunebook_study(spec: Path, trials: int, workdir: Path, steps: int) -> tuple[float, list[tuple[float, float]]]:
    """Wall time of ``tunebook run`` for ``trials`` sequential trials from a fresh store,
    and each trial's program's (start, end), by trial number."""
    run_dir = workdir / f"run-{trials}-{time.monotonic_ns()}"
    run_dir.mkdir()
    url = f"sqlite:///{run_dir / 'tunebook.db'}"
    argv = [*tunebook_command(), "run", str(spec), "--store", url, "--parallel", "1", "--trials", str(trials)]
    seconds, _ = wall(argv, run_dir)
    check_trials(url, trials, steps)
    logs = sorted(run_dir.glob("tunebook-runs/*/*/*/stdout.log"), key=lambda log: int(log.parent.name))
    spanned = spans([log.read_text() for log in logs])
    shutil.rmtree(run_dir)
    return seconds, spanned


def bare_runs(argv: list[str], count: int, workdir: Path) -> tuple[float, list[tuple[float, float]]]:
    """``count`` bare runs back to back: the first one's wall time, and each one's (start, end)."""
    walls, outputs = zip(*(wall(argv, workdir) for _ in range(count)))
    return walls[0], spans(list(outputs))


def median_ci(values: list[float]) -> tuple[float, float, float]:
    """(median, low, high): a 95 % confidence interval of the median from order statistics
    (ranks n/2 -+ 1.96 sqrt(n)/2, distribution-free)."""
    ordered, n = sorted(values), len(values)
    half = 1.96 * n ** 0.5 / 2
    low, high = max(0, int(n / 2 - half)), min(n - 1, int(round(n / 2 + half)))
    return statistics.median(ordered), ordered[low], ordered[high]


def measure_overhead(blocks: int, seconds: float, trials: int, workdir: Path) -> dict:
    """What tunebook adds around each trial of a study, and once per run (see the module docstring, (b))."""
    from tunebook.core import Experiment
    from tunebook.search import sample

    program = workdir / "prog.py"
    program.write_text(PROGRAM)
    steps = calibrate(program, seconds)
    command = f"{shlex.quote(sys.executable)} prog.py --steps {steps} --lr {{lr}}"
    spec = workdir / "overhead.yaml"
    spec.write_text(SPEC.format(command=json.dumps(command)))
    (first,) = sample(Experiment.from_yaml(str(spec)), 1)
    bare = [sys.executable, "prog.py", "--steps", str(steps), "--lr", str(first.params["lr"])]
    added, slowed, once, bare_walls = [], [], [], []
    for block in range(blocks + 1):  # block 0 warms caches on both sides and is not counted
        load = os.getloadavg()[0]
        study_wall, in_study = tunebook_study(spec, trials, workdir, steps)
        bare_wall, back_to_back = bare_runs(bare, trials, workdir)
        pairs = [ours - theirs for ours, theirs in zip(gaps(in_study), gaps(back_to_back))]
        compute = [(e - s) - (be - bs) for (s, e), (bs, be) in zip(in_study, back_to_back)]
        bare_around = bare_wall - (back_to_back[0][1] - back_to_back[0][0])
        fixed = study_wall - (in_study[-1][1] - in_study[0][0]) - bare_around
        print(f"  block {block} (load {load:.1f}){' (warm-up)' if not block else ''}: gaps in the study - back to "
              f"back {', '.join(f'{d * 1000:+.0f}' for d in pairs)} ms; once per run {fixed:.3f} s", flush=True)
        if block:
            added += pairs
            slowed += compute
            once.append(fixed)
            bare_walls.append(bare_wall)
    return {"added": added, "slowed": slowed, "once": once, "bare": bare_walls, "steps": steps}


QUICK = '''
def train(params, trial):
    for step in range(5):
        trial.log(step, loss=params["lr"] / (1 + step))
'''

QUICK_SPEC = """\
name: cpu
objective: {metric: loss, mode: min}
nuisance:
  lr: {low: 0.01, high: 1.0, scale: log}
search: {trials: 1}
run: {function: "quick:train", parallel: 1}
"""


def cpu_seconds(trials: int, workdir: Path) -> float:
    """User + system CPU seconds of ``tunebook run`` (and its trials) for ``trials`` trials of QUICK."""
    run_dir = workdir / f"cpu-{trials}-{time.monotonic_ns()}"
    run_dir.mkdir()
    (run_dir / "quick.py").write_text(QUICK)
    (run_dir / "spec.yaml").write_text(QUICK_SPEC)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall([*tunebook_command(), "run", "spec.yaml", "--store", f"sqlite:///{run_dir / 'tunebook.db'}",
          "--trials", str(trials)], run_dir)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(run_dir)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure_cpu(rounds: int, trials: int, workdir: Path) -> tuple[float, float]:
    """Medians over ``rounds`` of (CPU s per trial, CPU s once per run): the slope from ``trials`` to
    ``2 * trials - 1`` trials, and a 1-trial study's CPU less that slope."""
    per_trial, once = [], []
    for _ in range(rounds):
        one, some, more = cpu_seconds(1, workdir), cpu_seconds(trials, workdir), cpu_seconds(2 * trials - 1, workdir)
        per_trial.append((more - some) / (trials - 1))
        once.append(one - per_trial[-1])
    return statistics.median(per_trial), statistics.median(once)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200_000, help="steps x 3 metrics logged through tunebook")
    parser.add_argument("--mlflow-steps", type=int, default=50_000, help="steps x 3 metrics logged through MLflow")
    parser.add_argument("--blocks", type=int, default=6, help="(b): timed blocks (each gives TRIALS - 1 pairs)")
    parser.add_argument("--seconds", type=float, default=10.0, help="(b): the program's bare run time")
    parser.add_argument("--trials", type=int, default=6, help="(b): trials per study (and bare runs) in a block")
    parser.add_argument("--skip-cpu", action="store_true", help="skip (c)")
    parser.add_argument("--skip-overhead", action="store_true", help="measure (a) only")
    parser.add_argument("--cpu-rounds", type=int, default=3, help="(c): rounds of a 1-, 17- and 33-trial study")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        ours_dir, mlflow_dir = Path(tmp, "tunebook"), Path(tmp, "mlflow")
        ours_dir.mkdir()
        mlflow_dir.mkdir()
        ours_s, ours_n = log_with_tunebook(args.steps, ours_dir)
        theirs_s, theirs_n = log_with_mlflow(args.mlflow_steps, mlflow_dir)
    ours, theirs = ours_n / ours_s, theirs_n / theirs_s
    print("(a) logging points to a SQLite store")
    print(f"  tunebook trial.log (managed)   {ours_n:>9,} points in {ours_s:7.2f} s  {ours:>12,.0f} points/s")
    print(f"  MLflow log_batch (1,000/call)  {theirs_n:>9,} points in {theirs_s:7.2f} s  {theirs:>12,.0f} points/s")
    print(f"  tunebook / MLflow: {ours / theirs:.1f}x")

    if args.skip_overhead:
        return
    missing = tunebook_run_available()
    if missing is None and not args.skip_cpu:
        load = os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as tmp:
            per_trial, once = measure_cpu(args.cpu_rounds, 17, Path(tmp))
        print(f"\n(c) CPU of `tunebook run` (CLI + trial processes), median of {args.cpu_rounds} rounds, "
              f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
        print(f"  per trial of a trivial run.function program: {per_trial * 1000:.0f} ms;  once per run: {once:.2f} s")
    print(f"\n(b) a ~{args.seconds:g} s program: {args.blocks} blocks of a {args.trials}-trial study and "
          f"{args.trials} bare runs", flush=True)
    missing = tunebook_run_available()
    if missing is not None:
        print(f"  skipped: `tunebook run` is not available ({missing})")
        return
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        measured = measure_overhead(args.blocks, args.seconds, args.trials, Path(tmp))
    print(f"  load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
    added, low, high = median_ci(measured["added"])
    slowed, slow_low, slow_high = median_ci(measured["slowed"])
    bare = statistics.median(measured["bare"])
    print(f"  program: {measured['steps']:,} SGD steps, a loss line every 10,000; bare run median {bare:.3f} s")
    print(f"  tunebook's cost per trial (around it): median of {len(measured['added'])} paired gaps "
          f"{added * 1000:+.1f} ms (95 % CI {low * 1000:+.1f} to {high * 1000:+.1f} ms)  ->  "
          f"{added / 10 * 100:+.2f} % of a 10 s trial")
    print(f"  the trial's own compute, in a study - bare (paired): median {slowed * 1000:+.1f} ms "
          f"(95 % CI {slow_low * 1000:+.1f} to {slow_high * 1000:+.1f} ms)")
    print(f"  once per `tunebook run` (CLI start, store, studies): median {statistics.median(measured['once']):.3f} s")

if __name__ == "__main__":
    main()
