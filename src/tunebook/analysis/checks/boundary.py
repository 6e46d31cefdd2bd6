"""Check ``search_space_boundary``: do the best trials crowd an edge of a nuisance range?

Playbook: "A search space is suspicious if the best point sampled from it is
close to its boundary ... If the best points cluster towards the edge of a
search space (in some dimension), then the search space boundaries might need
to be expanded". And: "If all trials are infeasible for learning rates
greater than some threshold value, and if the best performing trials have
learning rates at the edge of that region, the model may suffer from
stability issues preventing it from accessing higher learning rates."

The rule, per study and per NUISANCE range hyperparameter (choices are
skipped: they have no edge to expand), among the study's complete trials
with a finite objective and a value for it:

* position = where a value sits in the range on the range's own scale, 0 at
  ``low`` and 1 at ``high`` (log ranges: (log x - log low) / (log high - log low));
* the top k = max(3, 10 % of those trials), which needs at least 2k + 1 of
  them, and enough that the test below can succeed at all (8 for k = 3;
  else one INFO: too few to judge);
* the edge on a side is the range's end, unless trials there form an
  infeasible Region (``infeasible.bad_region``: all trials beyond a threshold
  infeasible, not by chance); then it is that region's threshold, and the
  positions are re-scaled to the feasible part of the range;
* the best trials crowd an edge when all three hold: the best trial lies in
  the outer 10 % next to it; most of the top k lie in the half next to it;
  and the top k sit closer to it than the other trials do beyond chance
  (one-sided Mann-Whitney test on positions, p < 0.02). The last condition
  is what keeps the check silent on a dimension that does not matter: there
  the top trials are a random draw of positions, and the best landing in an
  outer 10 % (which happens 1 time in 10 per side) is not enough. Measured
  on pure noise with quasi-random trials: about 1.5 % of dimensions flagged;
  an optimum beyond the edge of the one dimension that matters: flagged
  85 % of the time with 10 trials, 97 % with 20.

An edge of the range gives "expand the range" (WARNING); the edge of an
infeasible region gives "a sign of instability" (WARNING, pointing to the
playbook's section on optimization failures). Silent when no edge is crowded.

A Bayesian-optimization study: the model's trials are not a uniform sample
(they crowd where the model expects the best, so the test's premise, that
the top trials' positions are a random draw when the dimension does not
matter, fails). The rule is applied to the study's quasi-random trials only
(its initial design and fallbacks), and an INFO says so with both counts;
with fewer than the trials needed, the too-few INFO says it cannot judge.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tunebook.analysis.best import ranked, study_keys
from tunebook.analysis.checks.infeasible import Region, bad_region, range_params
from tunebook.analysis.findings import Finding, Severity

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData
    from tunebook.core.domains import Range
    from tunebook.core.space import Hyperparameter

ID = "search_space_boundary"
SECTION = "Identifying bad search space boundaries"
INSTABILITY_SECTION = "How can optimization failures be debugged and mitigated?"
EDGE = 0.10  # the outer share of the range the best trial must sit in
TOP_SHARE, TOP_MIN = 0.10, 3
MAX_P = 0.02

__all__ = ["Crowding", "check_search_space_boundary", "crowded_edges", "needed_trials", "top_count", "unit_position"]


@dataclasses.dataclass(frozen=True)
class Crowding:
    """The best trials of ``study`` crowd the ``side`` ('low'/'high') edge of ``param``.

    ``top`` lists the top k trials (best first) as dicts with trial_id,
    number, value, position (in the whole range) and objective; ``near``
    counts those in the half next to the edge; ``region`` is the infeasible
    region whose edge it is, None for the range's own end.
    """

    study: str
    param: str
    side: str
    n: int
    top: tuple[dict[str, Any], ...]
    near: int
    p_value: float
    region: Region | None


def unit_position(domain: "Range", values: Any) -> np.ndarray:
    """Where ``values`` sit in ``domain`` on its own scale: 0 at low, 1 at high (clipped)."""
    x = np.asarray(values, dtype=float)
    low, high = float(domain.low), float(domain.high)
    if domain.scale == "log":
        x, low, high = np.log(np.maximum(x, low)), math.log(low), math.log(high)
    return np.clip((x - low) / (high - low), 0.0, 1.0)


def top_count(n: int) -> int:
    """How many best trials are looked at among ``n``: max(3, 10 %)."""
    return max(TOP_MIN, math.ceil(TOP_SHARE * n))


def needed_trials() -> int:
    """The fewest trials a dimension can be judged on: 2k + 1 of them, and the most extreme
    arrangement of the top k must be able to pass the test (1 / C(n, k) < MAX_P)."""
    n = 2 * TOP_MIN + 1
    while n < 2 * top_count(n) + 1 or math.comb(n, top_count(n)) <= 1 / MAX_P:
        n += 1
    return n


def crowded_edges(data: "ExperimentData", study: str) -> tuple[list[Crowding], dict[str, int]]:
    """The crowded edges of ``study``, and the nuisance ranges it has too few trials to judge (with their count)."""
    best = ranked(data, study)
    tried = data.trials[(data.trials["study"] == study) & data.trials["state"].isin(["complete", "infeasible"])]
    crowded, too_few = [], {}
    for hp in range_params(data, tried, roles=("nuisance",)):
        trials = best[best[hp.id].notna()].reset_index(drop=True)
        if len(trials) < needed_trials():
            too_few[hp.id] = len(trials)
            continue
        outcomes = tried[tried[hp.id].notna()]
        for side in ("low", "high"):
            region = bad_region(outcomes[hp.id], outcomes["state"] == "infeasible", outcomes["trial_id"], hp.id,
                                "above" if side == "high" else "below")
            found = _crowding(study, hp, trials, side, region)
            if found is not None:
                crowded.append(found)
    return crowded, too_few


def _crowding(
    study: str, hp: "Hyperparameter", trials: pd.DataFrame, side: str, region: Region | None
) -> Crowding | None:
    from scipy import stats  # lazily: ~0.5 s of CPU to import

    position = unit_position(hp.domain, trials[hp.id])
    distance = position if side == "low" else 1.0 - position  # to the range's end, in [0, 1]
    if region is not None:  # the feasible part of the range ends where the infeasible region starts
        start = float(unit_position(hp.domain, [region.threshold])[0])
        width = max(1.0 - start if side == "low" else start, 1e-12)  # > 0: a feasible trial lies inside
        distance = (distance - (start if side == "low" else 1.0 - start)) / width
    k = top_count(len(trials))
    top, rest = distance[:k], distance[k:]
    near = int(np.sum(top < 0.5))
    if not (top[0] <= EDGE and near > k / 2):
        return None
    p_value = float(stats.mannwhitneyu(top, rest, alternative="less").pvalue)
    if p_value >= MAX_P:
        return None
    top_rows = trials.head(k)
    rows = tuple(
        {"trial_id": int(t), "number": int(n), "value": float(v), "position": float(p), "objective": float(o)}
        for t, n, v, o, p in zip(top_rows["trial_id"], top_rows["number"], top_rows[hp.id], top_rows["objective"],
                                 position[:k])
    )
    return Crowding(study, hp.id, side, len(trials), rows, near, p_value, region)


def check_search_space_boundary(data: "ExperimentData") -> list[Finding]:
    """A WARNING per crowded edge; an INFO per study too small to judge, and per Bayesian study; silent otherwise."""
    findings = []
    model = data.model_chosen()
    for key, left_out in data.trials[model].groupby("study").size().items():
        kept = int(((data.trials["study"] == key) & ~model).sum())
        findings.append(Finding(
            ID, Severity.INFO,
            f"Study '{key}' ran Bayesian optimization: its {left_out} model-suggested trial(s) are not a uniform "
            f"sample of the space (they crowd where the model expects the best), so this check judges the edges "
            f"on its {kept} quasi-random trial(s) only (initial design and fallbacks).",
            {"study": key, "model_trials": int(left_out), "judged_trials": kept},
            "Read the axis plots: if the model's best points (diamonds) sit at an edge of a range, the optimum may "
            "lie beyond it.", SECTION, study=key,
        ))
    data = dataclasses.replace(data, trials=data.trials[~model])
    for key in study_keys(data):
        crowded, too_few = crowded_edges(data, key)
        findings.extend(_finding(data, c) for c in crowded)
        if too_few:
            counts = ", ".join(f"{param} ({n})" for param, n in too_few.items())
            findings.append(Finding(
                ID, Severity.INFO,
                f"Study '{key}' has too few complete trials to tell whether its best trials crowd an edge of "
                f"{counts}: at least {needed_trials()} are needed.",
                {"study": key, "trials": too_few, "needed": needed_trials()},
                "Sample more trials before judging the search space boundaries.", SECTION, study=key,
            ))
    return findings


def _named(data: "ExperimentData", row: dict[str, Any]) -> dict[str, Any]:
    """A top-trial row as evidence: the trial by the name users read, no store id."""
    return {"trial": data.trial_name(row["trial_id"]), **{k: v for k, v in row.items() if k not in ("trial_id", "number")}}


def _region_named(data: "ExperimentData", region: Region) -> dict[str, Any]:
    out = region.to_dict()
    out["trials"] = [data.trial_name(t) for t in out.pop("trial_ids")]
    return out


def _finding(data: "ExperimentData", c: Crowding) -> Finding:
    domain = data.experiment.space[c.param].domain
    best, k = c.top[0], len(c.top)
    half = "upper" if c.side == "high" else "lower"
    evidence = {
        "study": c.study, "param": c.param, "side": c.side, "low": domain.low, "high": domain.high,
        "scale": domain.scale, "n": c.n, "k": k, "near": c.near, "p_value": c.p_value,
        "best": _named(data, best), "top": [_named(data, t) for t in c.top],
        "region": None if c.region is None else _region_named(data, c.region),
    }
    where = f"{data.trial_name(best['trial_id'])}, {c.param}={best['value']:.3g}"
    if c.region is None:
        end = domain.high if c.side == "high" else domain.low
        message = (
            f"In study '{c.study}' the best trials cluster at the {c.side} edge of {c.param}'s range "
            f"{domain.describe()}: the best ({where}) is in the outer 10 % and {c.near} of the top {k} are in "
            f"the {half} half. The search space is probably not wide enough: an even better point may lie "
            f"beyond {end:g}."
        )
        action = (f"Run another study with the range of {c.param} expanded {'above' if c.side == 'high' else 'below'} "
                  f"{end:g}, until the best observed point is no longer close to the boundary.")
        return Finding(ID, Severity.WARNING, message, evidence, action, SECTION, study=c.study)
    r = c.region
    message = (
        f"In study '{c.study}' all {len(r.trial_ids)} trials with {r.describe()} are infeasible and the best "
        f"trials sit at the edge of that region (best: {where}; {c.near} of the top {k} in the half of the "
        f"feasible range next to it). The model may suffer from stability issues preventing it from accessing "
        f"{'higher' if c.side == 'high' else 'lower'} values of {c.param}."
    )
    action = (f"Before changing the search space, look for training instability: plot the training loss of "
              f"trials with {c.param} just beyond the best; learning rate warmup or gradient clipping may make "
              f"those values trainable, and fixing the instability is likely to give better results.")
    return Finding(ID, Severity.WARNING, message, evidence, action, INSTABILITY_SECTION, study=c.study)
