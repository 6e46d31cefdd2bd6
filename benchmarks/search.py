"""Search quality on the LCBench surrogate: tunebook's Bayesian optimization and quasi-random search against Optuna.

In one run, on the same tasks and seeds, every (task, seed) cell gets:
tunebook bayesian with 50 trials; tunebook quasi-random with 50, 100 and 200
(one 200-trial run: quasi-random's first n points do not depend on the
budget, so its first 50 and 100 trials are the 50- and 100-trial runs);
Optuna's TPESampler and GPSampler with 50 (their defaults, seeded). The
objective is the validation error (%) at the last epoch (52) of YAHPO Gym's
LCBench surrogate, over its 7 hyperparameters with their own log/int scales.

Prints, per method:
- normalized regret. regret = best error found - best known for the task,
  where the best known is the lowest error seen for that task in this run
  (any method, any seed) or in a reference sample of 10,000 independent
  uniform points of the space (feasible ones only); normalized by the median
  regret of uniform random search with 50 trials on the task (estimated from
  1,000 draws of 50 reference points). 1 = a typical random search with 50
  trials, 0 = the best known, inf = no feasible trial;
- for each pair of methods, wins / losses / ties over the (task, seed) cells
  (a win: a strictly lower best error);
- the issue's targets (bayesian 50 beats quasi-random 200 on >= 90 % of the
  cells, Optuna TPE 50 on >= 70 %, and with --diverge sends at most half as
  many of its trials after its initial design into the divergent region as
  TPE and GPSampler) and whether they are met;
- with ``--diverge T``: a trial with learning_rate / (1 - momentum) > T is a
  diverged trial for every method (tunebook: an infeasible observation;
  Optuna: TrialState.FAIL). Prints the divergent share of the space and each
  method's share of diverged trials after its initial design (Optuna: its 10
  random startup trials; quasi-random: none, every trial counts);
- the median time per suggestion over the last 10 suggestions of the 50-trial
  runs (tunebook bayesian, Optuna GP and TPE).

    python benchmarks/search.py [--tasks 3945 7593 ...] [--seeds 0 1 2 3 4] [--diverge 0.1]
                                [--json PATH] [--resume PATH ...] [--jobs J] [--methods ...]
                                [--data DIR] [--surrogate lcbench|synthetic]

Needs yahpo-gym, which pins numpy<2: run it in its own environment
(``make bench-search`` builds .venv-bench and runs it). ``--surrogate
synthetic`` needs neither yahpo nor the data (tests, smoke runs).
``--json PATH`` writes every run as ``{"method", "trials", "task", "seed",
"initial", "best_so_far", "diverged"}`` plus ``suggest_seconds``, ``diverge``,
``best_known`` and ``regret_scale``, so the tables can be recomputed; it is
rewritten after every run, so ``--resume PATH`` continues an interrupted grid
(and, with nothing left to run, reprints the tables).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import search_report  # noqa: E402
from search_methods import METHODS, Run, bayesian_unavailable, run_method  # noqa: E402
from search_problem import DEFAULT_TASKS, make_problem, uniform_sample  # noqa: E402
from search_score import RANDOM_BUDGET, REFERENCE_SEED  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
QUASI_RANDOM_MULTIPLES = (1, 2, 4)  # quasi-random at 50, 100 and 200 trials


@dataclasses.dataclass(frozen=True)
class Unit:
    """One piece of work: a method's run on (task, seed), or a task's reference sample (method None)."""

    method: str | None
    task: str
    seed: int
    trials: int


@dataclasses.dataclass(frozen=True)
class Setting:
    surrogate: str
    data: Path
    diverge: float | None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(DEFAULT_TASKS), help="OpenML task ids")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--diverge", type=float, default=None, metavar="T",
                        help="a trial diverges when learning_rate / (1 - momentum) > T (e.g. 0.1)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write every run here")
    parser.add_argument("--resume", type=Path, nargs="+", default=[], metavar="PATH",
                        help="keep the runs of this grid that these files (earlier --json, same --diverge) hold; "
                             "run only the rest")
    parser.add_argument("--rerun", nargs="+", default=[], choices=METHODS, metavar="METHOD",
                        help="with --resume: run these methods again all the same")
    parser.add_argument("--jobs", type=int, default=1, help="runs in this many processes")
    parser.add_argument("--methods", nargs="+", default=None, choices=METHODS,
                        help="default: all (tunebook-bayesian only where tunebook has it)")
    parser.add_argument("--trials", type=int, default=50, help="the budget of the model-based methods (50)")
    parser.add_argument("--reference", type=int, default=10_000, help="points of each task's reference sample")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data",
                        help="the folder holding lcbench/ (default ../shared/data)")
    parser.add_argument("--surrogate", choices=("lcbench", "synthetic"), default="lcbench")
    args = parser.parse_args(argv)
    for name in ("jobs", "trials", "reference"):
        if getattr(args, name) < 1:
            parser.error(f"--{name}: {getattr(args, name)} is not a positive number")
    if args.reference < RANDOM_BUDGET:
        parser.error(f"--reference: {args.reference} points cannot give draws of {RANDOM_BUDGET} (random search's budget)")
    if args.diverge is not None and args.diverge <= 0:
        parser.error(f"--diverge: {args.diverge} is not a positive threshold")
    return args


def choose_methods(requested: list[str] | None) -> list[str]:
    """The methods to run: bayesian is left out (with a note) by default where tunebook lacks it."""
    reason = bayesian_unavailable()
    if requested is None:
        if reason:
            print(f"note: tunebook-bayesian left out ({reason})", file=sys.stderr)
        return [m for m in METHODS if not (m == "tunebook-bayesian" and reason)]
    if "tunebook-bayesian" in requested and reason:
        raise ValueError(f"--methods: tunebook-bayesian cannot run here ({reason})")
    return list(dict.fromkeys(requested))


def units(args: argparse.Namespace, methods: list[str], done: list[Run]) -> list[Unit]:
    """Every run of the grid not in ``done``, slow methods first so the pool ends evenly."""
    order = {"optuna-gp": 0, "tunebook-bayesian": 1, "optuna-tpe": 2, "tunebook-quasi-random": 3}
    have = {(r.method, r.trials, r.task, r.seed) for r in done}
    work = [Unit(None, task, REFERENCE_SEED, args.reference) for task in args.tasks]
    for method in sorted(methods, key=order.__getitem__):
        trials = args.trials * max(QUASI_RANDOM_MULTIPLES) if method == "tunebook-quasi-random" else args.trials
        work += [Unit(method, task, seed, trials) for task in args.tasks for seed in args.seeds
                 if (method, trials, task, seed) not in have]
    return work


def resumed(args: argparse.Namespace) -> list[Run]:
    """The runs of ``--resume`` that belong to this grid (same diverge, task, seed, budgets), less ``--rerun``."""
    budgets = {args.trials * m for m in QUASI_RANDOM_MULTIPLES}
    fields = {f.name for f in dataclasses.fields(Run)}
    kept: dict[tuple, Run] = {}  # a later file's run replaces an earlier file's
    for path in args.resume:
        if not path.exists():  # the first run of a grid resumes from its own --json, not there yet
            continue
        try:
            for row in json.loads(path.read_text()):
                if (row.get("diverge") == args.diverge and row["task"] in args.tasks and row["seed"] in args.seeds
                        and row["method"] not in args.rerun and row["trials"] in budgets):
                    run = Run(**{k: v for k, v in row.items() if k in fields})
                    kept[(run.method, run.trials, run.task, run.seed)] = run
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"--resume: {path} is not a JSON list of runs written by --json ({exc!r})") from None
    return list(kept.values())


def do_unit(unit: Unit, setting: Setting) -> tuple[Unit, Any, float]:
    """Runs ``unit``: a ``Run``, or the reference sample's errors; with its seconds."""
    start = time.perf_counter()
    problem = make_problem(setting.surrogate, unit.task, setting.diverge, setting.data)
    if unit.method is None:
        result: Any = problem.errors(uniform_sample(unit.trials, unit.seed))
    else:
        result = run_method(unit.method, problem, unit.trials, unit.seed)
    return unit, result, time.perf_counter() - start


def limit_threads(threads: int) -> None:
    """One process's share of the cores for torch (Optuna's GP, BoTorch) and BLAS."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass


def run_all(work: list[Unit], setting: Setting, jobs: int, done: list[Run],
            checkpoint: Path | None) -> tuple[list[Run], dict[str, list]]:
    """Every unit, in ``jobs`` processes (in this one when 1), added to ``done``; progress on stderr.

    After each run, all runs so far are written to ``checkpoint`` (without
    best_known and regret_scale), so an interrupted grid can be resumed.
    """
    runs = list(done)
    references: dict[str, list] = {}
    started = time.perf_counter()

    def collect(unit: Unit, result: Any, seconds: float) -> None:
        what = unit.method or "reference sample"
        print(f"[{time.perf_counter() - started:7.1f} s] {what} task {unit.task} seed {unit.seed}: "
              f"{seconds:.1f} s", file=sys.stderr)
        if unit.method is None:
            references[unit.task] = result
        else:
            runs.extend(expand(result))
            if checkpoint:
                write_json(checkpoint, runs, {}, setting.diverge)

    if jobs == 1:
        for unit in work:
            collect(*do_unit(unit, setting))
        return runs, references
    threads = max(1, (os.cpu_count() or 1) // jobs)
    with concurrent.futures.ProcessPoolExecutor(
            jobs, mp_context=multiprocessing.get_context("spawn"),
            initializer=limit_threads, initargs=(threads,)) as pool:
        for future in concurrent.futures.as_completed([pool.submit(do_unit, u, setting) for u in work]):
            collect(*future.result())
    return runs, references


def expand(run: Run) -> list[Run]:
    """A quasi-random run as its 50-, 100- and 200-trial prefixes; any other run as itself."""
    if run.method != "tunebook-quasi-random":
        return [run]
    base = run.trials // max(QUASI_RANDOM_MULTIPLES)
    return [run.prefix(base * m) for m in QUASI_RANDOM_MULTIPLES]


def write_json(path: Path, runs: list[Run], scores: dict[str, tuple[float, float]], diverge: float | None) -> None:
    """One JSON list, one run a line; written to a temporary file first, then renamed."""
    rows = []
    for run in runs:
        known, scale = scores.get(run.task, (None, None))
        rows.append({**dataclasses.asdict(run), "diverge": diverge, "best_known": known, "regret_scale": scale})
    partial = path.with_name(path.name + ".partial")
    partial.write_text("[\n" + ",\n".join(json.dumps(row) for row in rows) + "\n]\n")
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        for task in args.tasks:  # fails early on a bad --data or task
            make_problem(args.surrogate, task, None, args.data)
        methods = choose_methods(args.methods)
        done = resumed(args)
    except ImportError as exc:
        print(f"error: {exc.name or exc} is not installed: run this in the benchmark's environment "
              "(make bench-search, see README)", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setting = Setting(args.surrogate, args.data, args.diverge)
    started = time.perf_counter()
    if args.resume:
        print(f"resumed {len(done)} runs from {' '.join(map(str, args.resume))}", file=sys.stderr)
    runs, references = run_all(units(args, methods, done), setting, args.jobs, done, args.json)
    scores = search_report.scores(runs, {task: references[task] for task in args.tasks})  # in --tasks order
    search_report.print_all(runs, references, scores, args, time.perf_counter() - started, len(done))
    if args.json:
        write_json(args.json, runs, scores, args.diverge)
        print(f"\nwrote {len(runs)} runs to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
