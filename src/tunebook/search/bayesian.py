"""Bayesian optimization that learns where training diverges (``search.algorithm: bayesian``).

Trial ``i`` of a study:

- ``i < initial``: quasi-random point ``i`` of the same space and seed (the
  initial design; ``info.by = "initial"``). ``initial`` defaults to
  ``max(2 * dims, 5)``, dims counting every varied hyperparameter of every
  branch; warm-start trials inside the space count towards it;
- after: the model's point (``by = "model"``, see ``search.acquisition``):
  a GP of the objective on feasible trials, a GP classifier of feasibility on
  every finished trial, running and waiting trials as pending points, failed
  (crashed) trials only kept out of the candidates;
- when the model cannot be fitted (no finished trial yet; one distinct
  objective value and nothing diverged; a numerical failure): quasi-random
  point ``i`` instead (``by = "fallback"``), with the reason in ``info`` and a
  warning logged. A run never stops for it.

Reproducible in the sense BO allows: a suggestion is a pure function of
(space, seed, i, the finished and pending trials it saw, the warm-start
trials); torch and numpy are seeded from a digest of those. Unlike
quasi-random, the sequence depends on the order in which trials finish: two
runs of one spec give the same trials only if their trials finish in the same
order. ``info.conditioned_on`` and ``info.pending`` record what each trial saw.

A COMPLETE trial with an infinite objective counts as diverged (infeasible);
one without an objective counts as failed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
from typing import Any, Mapping, Sequence

import numpy as np

from tunebook.core.imports import require
from tunebook.core.space import SearchSpace
from tunebook.core.states import TrialState
from tunebook.search.base import CannotModel, Observed, Sampler, Suggestion
from tunebook.search.encoding import SpaceEncoding
from tunebook.search.sequence import QuasiRandomSampler

log = logging.getLogger("tunebook.search")

_PENDING = (TrialState.RUNNING, TrialState.WAITING)
_INCUMBENTS = 5


def default_initial(dims: int) -> int:
    """Quasi-random trials before the model: ``max(2 * dims, 5)``."""
    return max(2 * dims, 5)


class BayesianSampler(Sampler):
    """GP-based suggestions aware of diverged trials (see the module's docstring).

    ``mode``: "min" or "max", the objective's direction. ``prior``: finished
    trials of other experiments (warm start); those outside this space are
    ignored.
    """

    def __init__(
        self, space: SearchSpace, seed: int, mode: str, initial: int | None = None, prior: Sequence[Observed] = (),
    ):
        require("botorch", "bo", "search.algorithm: bayesian")
        self.encoding = SpaceEncoding(space)
        self.seed = seed
        self.sign = -1.0 if mode == "min" else 1.0
        self.design = QuasiRandomSampler(space, seed)
        self.prior = [o for o in prior if o.state.is_finished and self.encoding.contains(o.params)]
        informative = sum(o.state is not TrialState.FAILED for o in self.prior)
        self.initial = default_initial(self.encoding.n_units) if initial is None else initial
        self._initial_trials = max(self.initial - informative, 0) if self.encoding.n_units else sys.maxsize

    @property
    def history_free_trials(self) -> int:
        return self._initial_trials

    def suggest(self, number: int, history: Sequence[Observed]) -> Suggestion:
        self._check_number(number)
        if number < self._initial_trials:
            return Suggestion(self.design.params(number), {"by": "initial"})
        own = [o for o in history if o.number != number]
        seen = {
            "conditioned_on": sorted(o.number for o in own if o.state.is_finished),
            "pending": sorted(o.number for o in own if o.state in _PENDING),
        }
        if self.prior:
            seen["warm_start"] = len(self.prior)
        try:
            return self._model_suggestion(number, [*self.prior, *own], seen)
        except Exception as exc:  # any failure of the fit falls back; the run goes on
            reason = _reason(exc)
            log.warning("bayesian search, trial %d: %s; a quasi-random point instead", number, reason)
            return Suggestion(self.design.params(number), {"by": "fallback", **seen, "reason": reason})

    def _model_suggestion(self, number: int, seen_trials: list[Observed], seen: dict[str, Any]) -> Suggestion:
        from tunebook.search import acquisition
        import torch

        if not any(o.state.is_finished for o in seen_trials):
            raise CannotModel("no finished trial to learn from yet")
        evidence = self._evidence(seen_trials, acquisition.Evidence)
        entropy = _digest(self.seed, number, seen_trials)
        rng = np.random.default_rng(np.random.SeedSequence(entropy))
        threads = torch.get_num_threads()
        try:
            # One thread: the matrices are a few hundred rows at most, where threads cost more than they
            # give (20x slower fits on a busy 2-core machine with 2), and trials run beside the runner.
            torch.set_num_threads(1)
            with torch.random.fork_rng():
                torch.manual_seed(entropy % (1 << 63))
                chosen = acquisition.choose(self.encoding, evidence, rng, seed=entropy % (1 << 31))
        finally:
            torch.set_num_threads(threads)
        reason = (
            "no feasible trial model yet: the point most likely not to diverge" if chosen.by_feasibility_only
            else "highest log noisy expected improvement + log P(feasible), where P(feasible)'s conservative bound "
            f"is at least {acquisition.MIN_FEASIBLE} if anywhere"
        )
        info: dict[str, Any] = {"by": "model", **seen, "reason": reason}
        if chosen.log_feasible is not None:
            info["p_feasible"] = round(math.exp(chosen.log_feasible), 4)
            info["p_feasible_bound"] = round(math.exp(chosen.log_feasible_bound), 4)
        return Suggestion(chosen.params, info)

    def _evidence(self, trials: list[Observed], evidence_type: type) -> Any:
        features = self.encoding.features
        feasible = [o for o in trials if _outcome(o) == "feasible"]
        feasible.sort(key=lambda o: self.sign * float(o.objective), reverse=True)  # best first
        rows = lambda group: np.array([features(o.params) for o in group]).reshape(len(group), self.encoding.n_features)
        return evidence_type(
            feasible_x=rows(feasible),
            values=np.array([self.sign * float(o.objective) for o in feasible]),
            infeasible_x=rows([o for o in trials if _outcome(o) == "infeasible"]),
            pending_x=rows([o for o in trials if o.state in _PENDING]),
            failed_x=rows([o for o in trials if _outcome(o) == "failed"]),
            incumbents=np.array([self.encoding.unit(o.params) for o in feasible[:_INCUMBENTS]]).reshape(
                -1, self.encoding.n_units
            ),
        )


def _outcome(trial: Observed) -> str | None:
    """feasible / infeasible / failed for a finished trial; None for a pending one."""
    if trial.state is TrialState.INFEASIBLE:
        return "infeasible"
    if trial.state is TrialState.FAILED:
        return "failed"
    if trial.state is TrialState.COMPLETE:
        if trial.objective is None or math.isnan(trial.objective):
            return "failed"
        return "feasible" if math.isfinite(trial.objective) else "infeasible"
    return None


def _reason(exc: Exception) -> str:
    if isinstance(exc, CannotModel):
        return str(exc)
    return f"the model fit failed ({type(exc).__name__}: {exc})"


def _digest(seed: int, number: int, trials: Sequence[Observed]) -> int:
    """A 64-bit seed from (seed, number, every trial seen): equal in every process."""
    seen = sorted(
        (o.origin or "", o.number, o.state.value, repr(o.objective), json.dumps(_plain(o.params), sort_keys=True))
        for o in trials
    )
    text = json.dumps([seed, number, seen])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in params.items()}
