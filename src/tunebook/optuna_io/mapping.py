"""How tunebook's spaces, states and curves map onto Optuna's, in both directions.

Spaces: a range is a ``FloatDistribution`` or ``IntDistribution`` (``log``
kept), a choice a ``CategoricalDistribution``; fixed values (and the
scientific values a study holds fixed) are study user attributes, not
params. A conditional hyperparameter keeps its tunebook id as its Optuna
param name (``learning_rate[optimizer=adam]``).

States: complete is COMPLETE; infeasible (diverged) and failed (crashed)
are both Optuna's FAIL, told apart by the user attribute ``tunebook_state``
with the reason in ``tunebook_reason``.

Curves: Optuna keeps one intermediate series per trial, so the objective
curve goes there, at most ``MAX_INTERMEDIATE`` points (``thin``).
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

from tunebook.core.domains import Choice, Domain, Range
from tunebook.core.imports import require

# study user attributes
EXPERIMENT_ATTR = "tunebook_experiment"
STUDY_ATTR = "tunebook_study"
OBJECTIVE_ATTR = "tunebook_objective"  # {"metric", "mode", "reduce"}
SCIENTIFIC_ATTR = "tunebook_scientific"  # id -> the value this study holds fixed
FIXED_ATTR = "tunebook_fixed"  # id -> value
SCIENTIFIC_PARAMS_ATTR = "tunebook_scientific_params"  # ids of scientific params the trials vary (a joint study)
LAYOUT_ATTR = "tunebook_layout"  # search.studies: per_scientific_value | joint
# trial user attributes
TRIAL_ATTR = "tunebook_trial"  # STUDY/NUMBER
STATE_ATTR = "tunebook_state"  # complete | infeasible | failed
REASON_ATTR = "tunebook_reason"
BEST_PREFIX = "best "  # "best accuracy": another metric's best value

# Optuna's RDB storage writes each intermediate value with a query of its own (a few ms each, so 200 trials
# of 100 points took minutes on a loaded 2-core machine); 200 points draw a curve well in the dashboard.
MAX_INTERMEDIATE = 200
DEFAULT_METRIC = "objective"
# a metric whose name holds one of these words is better when higher (its best is its max)
_HIGHER_IS_BETTER = re.compile(r"acc|auc|f1|precision|recall|score|iou|bleu|map\b|reward|return", re.IGNORECASE)
_ID = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\[(?P<branch>[^\[\]]+)\]$")


def optuna_module() -> Any:
    """The ``optuna`` package, quiet; MissingExtraError naming the ``optuna`` extra if absent."""
    optuna = require("optuna", "optuna", "exchanging studies with Optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def hide_password(url: str) -> str:
    """``url`` with any password replaced by ``***`` (it is printed, and stored as an experiment's source)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def distribution(domain: Domain) -> Any:
    """The Optuna distribution of a range or a choice (not of a fixed value)."""
    distributions = optuna_module().distributions
    if isinstance(domain, Range):
        log = domain.scale == "log"
        if domain.type == "int":
            return distributions.IntDistribution(int(domain.low), int(domain.high), log=log)
        return distributions.FloatDistribution(float(domain.low), float(domain.high), log=log)
    if isinstance(domain, Choice):
        return distributions.CategoricalDistribution(list(domain.values))
    raise TypeError(f"a fixed value has no Optuna distribution: {domain!r}")


def domain_spec(dist: Any) -> tuple[Any, str | None]:
    """A distribution as a spec value (range dict or choice list) and a note on what did not carry over.

    Optuna's ``step`` has no tunebook counterpart: the range is kept whole
    and the note says so. A range with low == high is that one value.
    """
    distributions = optuna_module().distributions
    if isinstance(dist, distributions.CategoricalDistribution):
        return list(dist.choices), None
    kind = "int" if isinstance(dist, distributions.IntDistribution) else "float"
    if dist.low == dist.high:
        return [dist.low], None
    step = getattr(dist, "step", None)
    note = None
    if step is not None and not (kind == "int" and step == 1):
        note = f"its step {step:g} is not kept: tunebook ranges are continuous"
    return {"low": dist.low, "high": dist.high, "scale": "log" if dist.log else "linear", "type": kind}, note


def split_id(param_name: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(plain name, ((parent, value text), ...)) of a tunebook id; a plain name has no branch."""
    found = _ID.match(param_name)
    if not found:
        return param_name, ()
    pairs = tuple(tuple(part.split("=", 1)) for part in found["branch"].split(","))
    if any(len(pair) != 2 for pair in pairs):
        return param_name, ()
    return found["name"], pairs  # type: ignore[return-value]


def thin(steps: Sequence[int], values: Sequence[float], keep: Sequence[int] = (),
         limit: int = MAX_INTERMEDIATE) -> tuple[list[int], list[float]]:
    """``limit`` points of a curve: evenly spaced by position, plus the steps in ``keep``.

    The first and last points are always kept, as are ``keep`` (the best
    step) and the first non-finite point (where a trial diverged); a curve of
    ``limit`` points or fewer comes back whole.
    """
    if len(steps) <= limit:
        return list(steps), list(values)
    kept = set(keep)
    wanted = {0, len(steps) - 1} | {i for i, step in enumerate(steps) if step in kept}
    wanted |= {next((i for i, v in enumerate(values) if not math.isfinite(v)), 0)}
    others = [i for i in range(len(steps)) if i not in wanted]
    room = limit - len(wanted)
    if room > 0:
        wanted |= {others[round(k * (len(others) - 1) / max(room - 1, 1))] for k in range(room)}
    chosen = sorted(wanted)
    return [steps[i] for i in chosen], [values[i] for i in chosen]


def best_value(metric: str, values: Sequence[float]) -> float | None:
    """A metric's best finite value: its max when the name says higher is better (accuracy, f1, reward,
    ...), else its min; None when it logged no finite value."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    return max(finite) if _HIGHER_IS_BETTER.search(metric) else min(finite)
