"""The search methods the benchmark compares, each driven trial by trial on one problem.

Every method runs the same ask / evaluate / tell loop: ask for trial ``i``
given what the trials before it returned, evaluate it on the problem, and
report the validation error, or a divergence. tunebook's samplers are called
in-process as the pure functions of the history they are (no store, no
subprocess per trial); Optuna's through ``study.ask`` / ``study.tell`` on an
in-memory study, a diverged trial told as ``TrialState.FAIL`` (what Optuna's
users do with a NaN loss).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from typing import Any, Callable

from search_problem import SPACE, Problem

METHODS = ("tunebook-bayesian", "tunebook-quasi-random", "optuna-tpe", "optuna-gp")
OPTUNA_STARTUP = 10  # Optuna's default n_startup_trials for TPESampler and GPSampler: random points first


@dataclasses.dataclass
class Run:
    """One method's run on one (task, seed): per trial, the best error so far and whether it diverged."""

    method: str
    trials: int
    task: str
    seed: int
    initial: int
    best_so_far: list[float | None]
    diverged: list[bool]
    suggest_seconds: list[float]

    @property
    def best(self) -> float | None:
        return self.best_so_far[-1] if self.best_so_far else None

    def prefix(self, trials: int) -> "Run":
        """The same run cut after ``trials`` trials (quasi-random's first n points do not depend on the budget)."""
        return dataclasses.replace(
            self, trials=trials, best_so_far=self.best_so_far[:trials],
            diverged=self.diverged[:trials], suggest_seconds=self.suggest_seconds[:trials])


class Recorder:
    """Collects the loop's trials into a ``Run``."""

    def __init__(self) -> None:
        self.best_so_far: list[float | None] = []
        self.diverged: list[bool] = []
        self.seconds: list[float] = []

    def add(self, error: float | None, seconds: float) -> None:
        best = self.best_so_far[-1] if self.best_so_far else None
        if error is not None and (best is None or error < best):
            best = error
        self.best_so_far.append(best)
        self.diverged.append(error is None)
        self.seconds.append(seconds)

    def run(self, method: str, problem: Problem, seed: int, initial: int) -> Run:
        return Run(method, len(self.diverged), problem.task, seed, initial,
                   self.best_so_far, self.diverged, self.seconds)


# --- tunebook -------------------------------------------------------------

def tunebook_experiment(algorithm: str, trials: int, seed: int) -> Any:
    """The experiment a tunebook user would write: the 7 hyperparameters as nuisance, one study."""
    from tunebook.core import Experiment

    return Experiment.from_dict({
        "name": f"lcbench-{algorithm}",
        "objective": {"metric": "val_error", "mode": "min"},
        "nuisance": SPACE,
        "search": {"algorithm": algorithm, "trials": trials, "seed": seed},
    })


def bayesian_unavailable() -> str | None:
    """Why tunebook's bayesian search cannot run here, or None when it can."""
    try:
        tunebook_experiment("bayesian", 2, 0)
        import tunebook.search.bayesian  # noqa: F401
    except Exception as exc:  # a spec error (algorithm unknown on this branch) or a missing extra
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def run_tunebook(algorithm: str, problem: Problem, trials: int, seed: int) -> Run:
    """tunebook's sampler for ``algorithm``, asked for trial i given the trials before it."""
    from tunebook.search import make_sampler

    experiment = tunebook_experiment(algorithm, trials, seed)
    sampler = make_sampler(experiment, experiment.studies()[0])
    ask, tell = tunebook_loop(sampler)
    recorder = Recorder()
    for number in range(trials):
        start = time.perf_counter()
        params = ask(number)
        seconds = time.perf_counter() - start
        (error,) = problem.errors([params])
        tell(number, params, error)
        recorder.add(error, seconds)
    return recorder.run(f"tunebook-{algorithm.replace('_', '-')}", problem, seed, initial_design(sampler))


def tunebook_loop(sampler: Any) -> tuple[Callable, Callable]:
    """(ask, tell) for a tunebook sampler: ``suggest(number, history)`` on the trials so far.

    A diverged trial is told as INFEASIBLE, a finished one as COMPLETE with its
    error. Where tunebook predates ``suggest`` (``params(number)`` samplers),
    the history is ignored, as those samplers ignore it anyway.
    """
    if not hasattr(sampler, "suggest"):
        return (lambda number: sampler.params(number)), (lambda number, params, error: None)
    from tunebook.core.states import TrialState
    from tunebook.search.base import Observed

    history: list[Any] = []

    def ask(number: int) -> dict[str, Any]:
        return dict(sampler.suggest(number, tuple(history)).params)

    def tell(number: int, params: dict[str, Any], error: float | None) -> None:
        state = TrialState.INFEASIBLE if error is None else TrialState.COMPLETE
        history.append(Observed(number, params, state, error))

    return ask, tell


def initial_design(sampler: Any) -> int:
    """How many of the sampler's first trials are its initial design (0: it has no model)."""
    if not getattr(sampler, "uses_history", False):
        return 0
    return int(sampler.history_free_trials or 0)


# --- Optuna ---------------------------------------------------------------

def optuna_distributions() -> dict[str, Any]:
    from optuna.distributions import FloatDistribution, IntDistribution

    return {
        name: (IntDistribution if r.get("type") == "int" else FloatDistribution)(
            r["low"], r["high"], log=r.get("scale") == "log")
        for name, r in SPACE.items()
    }


def run_optuna(kind: str, problem: Problem, trials: int, seed: int) -> Run:
    """Optuna's TPESampler (``tpe``) or GPSampler (``gp``) with their defaults and ``seed``."""
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    sampler_class = {"tpe": optuna.samplers.TPESampler, "gp": optuna.samplers.GPSampler}[kind]
    study = optuna.create_study(direction="minimize", sampler=sampler_class(seed=seed))
    distributions = optuna_distributions()
    recorder = Recorder()
    for _ in range(trials):
        start = time.perf_counter()
        trial = study.ask(distributions)
        seconds = time.perf_counter() - start
        (error,) = problem.errors([trial.params])
        if error is None:
            study.tell(trial, state=TrialState.FAIL)
        else:
            study.tell(trial, error)
        recorder.add(error, seconds)
    return recorder.run(f"optuna-{kind}", problem, seed, OPTUNA_STARTUP)


def run_method(method: str, problem: Problem, trials: int, seed: int) -> Run:
    """``method`` is one of ``METHODS``."""
    if method.startswith("optuna-"):
        return run_optuna(method.removeprefix("optuna-"), problem, trials, seed)
    return run_tunebook(method.removeprefix("tunebook-").replace("-", "_"), problem, trials, seed)
