"""Where the time around each trial goes, piece by piece, on the local executor.

A Runner runs N trials of a short program (``run.command`` printing one
metric line after sleeping ``--sleep`` s, or the same as ``run.function``) on
a real SQLite store, with perf_counter around its calls: claiming, writing
the launch files, starting the process, settling; a thread per trial waits on
the trial process's pidfd to catch the moment it exits, so the runner's delay
in noticing is timed too. The same program is then run bare N times. Medians
and the 10th/90th percentiles; the load average comes with them. Run it with
another tunebook's sources first on PYTHONPATH to compare versions.

    python benchmarks/trial_pieces.py [--trials 30] [--kind command|function] [--sleep 0.3]
"""

from __future__ import annotations

import argparse
import os
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # time what an installed tunebook costs: bytecode cached

PROGRAM = "import sys, time\ntime.sleep(float(sys.argv[1]))\nprint('step 1 loss: 0.5', flush=True)\n"
FUNCTION = "import time\ndef train(params, trial):\n    time.sleep(SLEEP)\n    trial.log(1, loss=0.5)\n"
SPEC = """name: pieces
objective: {{metric: loss, mode: min}}
nuisance:
  lr: {{low: 0.01, high: 0.1, scale: log}}
search: {{trials: {trials}, seed: 0}}
run:
{run}
  parallel: 1
"""
RUN_COMMAND = """  command: "{python} prog.py {sleep}"
  metrics: ['step (?P<step>\\d+) loss: (?P<loss>\\S+)']"""
RUN_FUNCTION = '  function: "quick:train"'


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


class Clock:
    """Marks (piece, start, end) of the runner's calls and each trial process's exit moment."""

    def __init__(self) -> None:
        self.marks: dict[str, list[tuple[float, float]]] = {}
        self.exits: dict[int, float] = {}  # trial id -> when its process exited
        self.started: list[int] = []  # trial ids, in the order their processes started
        self.noticed: list[float] = []  # when the runner's poll returned each ended trial
        self.cpu: list[float] = []  # this process's children's CPU seconds at each notice

    def around(self, piece: str, call, keep=lambda out: True):  # noqa: ANN001, ANN201
        def timed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            start = time.perf_counter()
            out = call(*args, **kwargs)
            if keep(out):
                self.marks.setdefault(piece, []).append((start, time.perf_counter()))
            return out
        return timed

    def watch(self, pid: int, trial_id: int) -> None:
        def wait() -> None:
            handle = os.pidfd_open(pid)
            select.select([handle], [], [])
            self.exits[trial_id] = time.perf_counter()
            os.close(handle)
        threading.Thread(target=wait, daemon=True).start()


def instrument(clock: Clock, executor):  # noqa: ANN001, ANN201
    """Wrap the runner module's pieces and the executor's start/poll with ``clock``."""
    import tunebook.execution.runner as runner_module

    runner_module.claim_next = clock.around("claim", runner_module.claim_next, keep=lambda out: out is not None)
    runner_module.prepare_launch = clock.around("launch files", runner_module.prepare_launch)
    runner_module.settle = clock.around("settle", runner_module.settle)
    start, poll = executor.start, executor.poll

    def started(launch) -> None:  # noqa: ANN001
        clock.around("start process", start)(launch)
        clock.watch(executor._running[launch.trial_id].process.pid, launch.trial_id)
        clock.started.append(launch.trial_id)

    def polled():  # noqa: ANN202
        ended = poll()
        if ended:
            clock.noticed.append(time.perf_counter())
            clock.cpu.append(children_cpu())
        return ended

    executor.start, executor.poll = started, polled


def run_study(workdir: Path, trials: int, kind: str, sleep: float) -> Clock:
    from tunebook.core.experiment import Experiment
    from tunebook.execution.local import LocalExecutor
    from tunebook.execution.runner import Runner
    from tunebook.storage import SQLStore

    (workdir / "prog.py").write_text(PROGRAM)
    (workdir / "quick.py").write_text(FUNCTION.replace("SLEEP", repr(sleep)))
    run = RUN_COMMAND.format(python=sys.executable, sleep=sleep) if kind == "command" else RUN_FUNCTION
    (workdir / "spec.yaml").write_text(SPEC.format(trials=trials, run=run))
    clock, executor = Clock(), LocalExecutor(1)
    instrument(clock, executor)
    with SQLStore(f"sqlite:///{workdir / 'tunebook.db'}") as store:
        progress = Runner(Experiment.from_yaml(str(workdir / "spec.yaml")), store, executor, workdir / "runs").run()
    if sum(p.complete for p in progress) != trials:
        raise RuntimeError(f"expected {trials} complete trials, got {progress}")
    return clock


def pieces(clock: Clock) -> dict[str, list[float]]:
    """Seconds per trial of each piece, in trial order."""
    m = clock.marks
    ids = clock.started
    out: dict[str, list[float]] = {name: [e - s for s, e in m[name]] for name in ("claim", "launch files", "settle")}
    out["start process"] = [e - s for s, e in m["start process"]]
    out["process: start to exit"] = [clock.exits[i] - e for i, (_, e) in zip(ids, m["start process"])]
    out["runner notices the exit"] = [noticed - clock.exits[i] for i, noticed in zip(ids, clock.noticed)]
    claims = [s for s, _ in m["claim"]]
    out["cycle: claim to next claim"] = [b - a for a, b in zip(claims, claims[1:])]
    out["CPU of trial processes"] = [b - a for a, b in zip(clock.cpu, clock.cpu[1:])]
    return out


def bare(trials: int, workdir: Path, sleep: float) -> tuple[list[float], float]:
    """Wall seconds of each bare run of the program, and its CPU seconds per run."""
    walls, before = [], children_cpu()
    for _ in range(trials):
        start = time.perf_counter()
        subprocess.run([sys.executable, "prog.py", str(sleep)], cwd=workdir, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
    return walls, (children_cpu() - before) / trials


def line(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return f"  {name:28s} median {statistics.median(ordered) * 1000:8.2f} ms   p10 {pick(0.1):8.2f}   p90 {pick(0.9):8.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--kind", choices=("command", "function"), default="command")
    parser.add_argument("--sleep", type=float, default=0.3, help="seconds the program sleeps (its 'compute')")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        clock = run_study(Path(tmp), args.trials, args.kind, args.sleep)
        walls, bare_cpu = bare(args.trials, Path(tmp), args.sleep)
    print(f"{args.trials} {args.kind} trials of a {args.sleep:g} s program, load average {load:.1f} -> "
          f"{os.getloadavg()[0]:.1f}")
    for name, values in pieces(clock).items():
        print(line(name, values))
    print(line("bare program: run to exit", walls))
    print(f"  bare program's CPU: {bare_cpu * 1000:.1f} ms a run")


if __name__ == "__main__":
    main()
