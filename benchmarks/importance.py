"""tunebook importance against Optuna's fANOVA and PED-ANOVA evaluators, on the same trials.

The trials: the planted function of tests/analysis/test_importance.py (six
hyperparameters, only ``lr`` and ``momentum`` matter, and they interact),
sampled with tunebook's quasi-random search. For each size, the wall-clock
and CPU seconds of ``tunebook.analysis.importance.importance`` (all three
regions, bootstrap intervals included) and of Optuna's
``FanovaImportanceEvaluator`` (64 trees, its default) and
``PedAnovaImportanceEvaluator`` (its default: top 10 % against all), each in
one process after a warm-up, and whether each ranks ``lr`` and ``momentum``
first.

    python benchmarks/importance.py [--sizes 2000 10000] [--optuna-max 2000]

Optuna's evaluators run on sizes up to ``--optuna-max`` (its fANOVA took
112 s of CPU at 2,000 trials; at 10,000 it would take many minutes).

Measured on 2 cores shared with other work (CPU seconds; the wall times
were several times longer under the load):

    2000  tunebook importance 1.63 s CPU, lr and momentum first
    2000  optuna fANOVA (64 trees) 111.70 s CPU, lr and momentum first
    2000  optuna PED-ANOVA 0.07 s CPU, lr and momentum first
   10000  tunebook importance 6.19 s CPU, lr and momentum first
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.analysis.synthetic

TRUTH = {"lr", "momentum"}


def _timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = work()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _optuna_study(data: Any) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {
        "lr": optuna.distributions.FloatDistribution(1e-4, 1.0, log=True),
        "momentum": optuna.distributions.FloatDistribution(0.0, 1.0),
        "wd": optuna.distributions.FloatDistribution(1e-6, 1e-2, log=True),
        "dropout": optuna.distributions.FloatDistribution(0.0, 0.5),
        "width": optuna.distributions.IntDistribution(16, 256, log=True),
        "act": optuna.distributions.CategoricalDistribution(["relu", "gelu", "tanh"]),
    }
    study = optuna.create_study(direction="minimize")
    rows = data.trials[data.trials["state"] == "complete"]
    study.add_trials([
        optuna.trial.create_trial(params={k: (int(r[k]) if k == "width" else r[k]) for k in distributions},
                                  distributions=distributions, value=float(r["objective"]))
        for _, r in rows.iterrows()])
    return study


def _first_two(ranking: list[str]) -> bool:
    return set(ranking[:2]) == TRUTH


def measure(size: int, optuna_max: int) -> list[str]:
    from tests.analysis.test_importance import planted
    from tunebook.analysis.importance import importance

    data = planted(seed=0, trials=size)
    found, wall, cpu = _timed(lambda: importance(data))
    ranking = [s.members[0] for s in found.all.params]
    lines = [f"{size:>6}  tunebook importance        {wall:7.2f} s wall {cpu:7.2f} s CPU  "
             f"lr, momentum first: {_first_two(ranking)}  (+ pairs, intervals, top region, feasibility)"]
    if size > optuna_max:
        return lines
    import optuna

    study = _optuna_study(data)
    for name, evaluator in (("optuna fANOVA (64 trees)", optuna.importance.FanovaImportanceEvaluator(seed=0)),
                            ("optuna PED-ANOVA", optuna.importance.PedAnovaImportanceEvaluator())):
        result, wall, cpu = _timed(lambda e=evaluator: optuna.importance.get_param_importances(study, evaluator=e))
        lines.append(f"{size:>6}  {name:<26}{wall:7.2f} s wall {cpu:7.2f} s CPU  "
                     f"lr, momentum first: {_first_two(list(result))}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--optuna-max", type=int, default=2000)
    args = parser.parse_args()
    from tests.analysis.test_importance import planted
    from tunebook.analysis.importance import importance

    importance(planted(seed=0, trials=200))  # warm-up: imports
    for size in args.sizes:
        print("\n".join(measure(size, args.optuna_max)), flush=True)


if __name__ == "__main__":
    main()
