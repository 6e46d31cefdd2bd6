"""Check ``infeasible_fraction``: what share of each study's trials are infeasible, or failed, and where.

The playbook asks "what fraction of the trials in each study are infeasible
(i.e. trials that diverge, get really bad loss values, or fail to run at all
...)?" and answers: "when a very large fraction of points in a study are
infeasible we should try to adjust the search space to avoid sampling such
points, which sometimes requires reparameterizing the search space. In some
cases, a large number of infeasible points can indicate a bug in the
training code." Infeasible trials (an outcome of the search) and failed ones
(crashes out of retries: points never evaluated) get separate findings.

Severity by share of the study's finished trials: any → INFO (some
infeasible trials are expected: "any workload will become unstable if the
learning rate is too large", and a search space should probe that edge);
≥ 20 % → WARNING (one trial in five is spent on nothing, and the study's best
comes from a budget that much smaller than planned); ≥ 50 % → PROBLEM (most
of the budget is gone: the "very large fraction" the playbook warns about).

Where they concentrate (a ``Region``): for each range hyperparameter, the
trials beyond some value (above or below) are all bad while some trial is
not, and this is unlikely by chance: if bad trials were placed without
regard to this parameter, the L most extreme of n trials would all be among
the b bad ones with probability C(b, L) / C(n, L); a region needs L ≥ 2 and
that probability < 0.01 (so a few random crashes never make one).

Too few trials to tell: with b bad trials among n, even a perfect separation
(all b beyond every other trial) has probability 1 / C(n, b); when that is not
under 0.01 no region can be found, and the finding says "too few trials to
tell" instead of "no single range hyperparameter separates them". The fewest
trials that can tell: 15 for 2 bad trials, 9 for 3, 8 for 4 (``needed_trials``).
Studies that saw the same nuisance points (per-value studies sample the same
quasi-random points: same trial number, same nuisance values) are pooled for
the region test, so 8 trials in each of three such studies are judged as 24.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tunebook.analysis.best import study_keys
from tunebook.analysis.findings import Finding, Severity
from tunebook.analysis.memo import cached
from tunebook.core.domains import Range

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData
    from tunebook.core.space import Hyperparameter

ID = "infeasible_fraction"
SECTION = "Extracting insight from experimental results"
WARNING_SHARE = 0.2
PROBLEM_SHARE = 0.5
REGION_MAX_P = 0.01
REGION_MIN_TRIALS = 2
FINISHED = ("complete", "infeasible", "failed")

__all__ = ["Region", "bad_region", "can_tell", "check_infeasible_fraction", "needed_trials", "range_params"]


@dataclasses.dataclass(frozen=True)
class Region:
    """All trials with ``param`` beyond ``threshold`` (``side`` 'above' or 'below', inclusive) are bad.

    ``threshold`` is the innermost bad value, ``nearest_ok`` the value of the
    nearest trial that is not bad; ``trial_ids`` the bad trials in the region,
    out of ``n_bad`` bad among ``n``; ``p_value`` as in the module docstring.
    """

    param: str
    side: str
    threshold: float
    nearest_ok: float
    trial_ids: tuple[int, ...]
    n_bad: int
    n: int
    p_value: float

    def describe(self) -> str:
        sign = "≥" if self.side == "above" else "≤"
        return f"{self.param} {sign} {self.threshold:.3g}"

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "trial_ids": list(self.trial_ids)}


def range_params(
    data: "ExperimentData", trials: pd.DataFrame, roles: tuple[str, ...] = ("scientific", "nuisance")
) -> list["Hyperparameter"]:
    """The range hyperparameters of ``roles`` that take two or more values among ``trials``."""
    return [
        hp for hp in data.experiment.space
        if hp.role in roles and isinstance(hp.domain, Range) and hp.id in trials.columns
        and trials[hp.id].dropna().nunique() >= 2
    ]


def bad_region(values: pd.Series, bad: pd.Series, trial_ids: pd.Series, param: str, side: str) -> Region | None:
    """The Region of ``param`` on ``side`` ('above'/'below'), or None; rows with no value are ignored.

    Trials with equal values stand or fall together: a value shared by a bad
    and a good trial ends the region.
    """
    value = values.to_numpy(dtype=float, na_value=math.nan)
    known = ~np.isnan(value)
    value, is_bad, ids = value[known], bad.to_numpy(dtype=bool)[known], trial_ids.to_numpy()[known]
    order = np.argsort(value if side == "below" else -value, kind="stable")  # ties keep their order
    value, is_bad, ids = value[order], is_bad[order], ids[order]
    n, n_bad = len(value), int(is_bad.sum())
    good = np.flatnonzero(~is_bad)
    if len(good) == 0:  # no trial ends the region
        return None
    nearest_ok = float(value[good[0]])
    inside = int(np.argmax(value == nearest_ok))  # the rows before the first one at that value: all bad
    members = [int(i) for i in ids[:inside]]
    threshold = float(value[inside - 1]) if inside else math.nan
    if len(members) < REGION_MIN_TRIALS:
        return None
    p_value = math.comb(n_bad, len(members)) / math.comb(n, len(members))
    if p_value >= REGION_MAX_P:
        return None
    return Region(param, side, threshold, nearest_ok, tuple(members), n_bad, n, p_value)


def can_tell(n: int, n_bad: int) -> bool:
    """Whether a region of ``n_bad`` bad trials among ``n`` can pass the test at all (1 / C(n, b) < 0.01)."""
    return REGION_MIN_TRIALS <= n_bad < n and math.comb(n, n_bad) > 1.0 / REGION_MAX_P  # ints: no overflow


def needed_trials(n_bad: int) -> int:
    """The fewest trials among which ``n_bad`` bad ones (at least 2) could form a region."""
    n = max(n_bad, REGION_MIN_TRIALS) + 1
    while not can_tell(n, max(n_bad, REGION_MIN_TRIALS)):
        n += 1
    return n


def same_points_studies(data: "ExperimentData", key: str) -> list[str]:
    """``key`` and the other studies whose trials got the same nuisance values at the same trial numbers."""
    nuisance = [hp.id for hp in data.experiment.space.with_role("nuisance") if hp.id in data.trials.columns]
    if not nuisance:
        return [key]
    points = cached(data, ("nuisance points by study", tuple(nuisance)), lambda: _points_by_study(data, nuisance))
    mine = points.get(key, {})
    shared = [key]
    for other in study_keys(data):
        theirs = points.get(other, {}) if other != key else {}
        common = set(mine) & set(theirs)
        if other != key and common and all(mine[n] == theirs[n] for n in common):
            shared.append(other)
    return shared


def _points_by_study(data: "ExperimentData", nuisance: list[str]) -> dict[str, dict[int, tuple]]:
    """Study -> {trial number: its nuisance values (numbers rounded to 12 digits)}."""
    out: dict[str, dict[int, tuple]] = {}
    for study, rows in data.trials.groupby("study", sort=False):
        out[study] = {int(n): tuple(round(float(v), 12) if isinstance(v, (int, float)) else v for v in vals)
                      for n, vals in zip(rows["number"], rows[nuisance].itertuples(index=False))}
    return out


def check_infeasible_fraction(data: "ExperimentData") -> list[Finding]:
    """One finding per study and kind (infeasible, failed) that has any; silent for clean studies."""
    findings = []
    for key in study_keys(data):
        trials = data.trials[(data.trials["study"] == key) & data.trials["state"].isin(FINISHED)]
        for kind in ("infeasible", "failed"):
            finding = _finding(data, key, trials, kind)
            if finding is not None:
                findings.append(finding)
    return findings


def _finding(data: "ExperimentData", key: str, trials: pd.DataFrame, kind: str) -> Finding | None:
    bad_trials = trials[trials["state"] == kind]
    if bad_trials.empty:
        return None
    share = len(bad_trials) / len(trials)
    pooled = same_points_studies(data, key)
    everyone = data.trials[data.trials["study"].isin(pooled) & data.trials["state"].isin(FINISHED)]
    population = everyone if kind == "failed" else everyone[everyone["state"] != "failed"]
    # studies pooled together share one population: its regions are found once, not once per study
    regions = cached(data, ("infeasible regions", tuple(pooled), kind),
                     lambda: _regions(data, population, population["state"] == kind))
    n_pool, bad_pool = len(population), int((population["state"] == kind).sum())
    reasons = collections.Counter(str(r) for r in bad_trials["reason"] if isinstance(r, str) and r)
    evidence = {
        "study": key, "kind": kind, "n_finished": len(trials), "n": len(bad_trials), "share": share,
        "trials": [data.trial_name(t) for t in bad_trials["trial_id"]],
        "regions": [_region_evidence(data, r) for r in regions], "reasons": dict(reasons.most_common(3)),
        "pooled_studies": pooled, "region_trials": n_pool, "can_tell": can_tell(n_pool, bad_pool),
        "needed_trials": needed_trials(bad_pool), "n_bad_judged": bad_pool,
    }
    message, action = (_infeasible_words if kind == "infeasible" else _failed_words)(key, evidence, regions)
    return Finding(ID, _severity(share), message, evidence, action, SECTION, study=key)


def _region_evidence(data: "ExperimentData", region: Region) -> dict[str, Any]:
    """A region as evidence: its trials by the names users read, no store ids."""
    out = region.to_dict()
    out["trials"] = [data.trial_name(t) for t in out.pop("trial_ids")]
    return out


def _regions(data: "ExperimentData", population: pd.DataFrame, bad: pd.Series) -> list[Region]:
    found = []
    for hp in range_params(data, population):
        for side in ("above", "below"):
            region = bad_region(population[hp.id], bad, population["trial_id"], hp.id, side)
            if region is not None:
                found.append(region)
    return found


def _severity(share: float) -> Severity:
    if share >= PROBLEM_SHARE:
        return Severity.PROBLEM
    return Severity.WARNING if share >= WARNING_SHARE else Severity.INFO


def _where(regions: list[Region]) -> str:
    parts = [
        f"all {len(r.trial_ids)} trials with {r.describe()} (the nearest other trial has {r.param}={r.nearest_ok:.3g})"
        for r in regions
    ]
    return "; ".join(parts)


def _infeasible_words(key: str, ev: dict, regions: list[Region]) -> tuple[str, str]:
    message = (f"{ev['n']} of {ev['n_finished']} finished trials ({ev['share']:.0%}) in study '{key}' are "
               "infeasible (diverged or otherwise unusable).")
    pooled = ev["pooled_studies"][1:]
    among = (f" (judged over {ev['region_trials']} trials pooled with {', '.join(repr(p) for p in pooled)}, "
             "which saw the same nuisance points)") if pooled else ""
    if regions:
        message += f" They concentrate: infeasible are {_where(regions)}{among}."
        limits = ", ".join(f"{r.param} {'below' if r.side == 'above' else 'above'} {r.threshold:.3g}" for r in regions)
        action = (f"Adjust the search space to avoid sampling such points (keep {limits}), which sometimes "
                  "requires reparameterizing the search space. If the best trials sit at the edge of that "
                  "region, look for training instability first (see search_space_boundary).")
    elif ev["share"] >= WARNING_SHARE and not ev["can_tell"]:
        why = ("a single infeasible trial cannot show where they concentrate" if ev["n_bad_judged"] < REGION_MIN_TRIALS
               else f"even a perfect separation could be chance (at least {ev['needed_trials']} trials are needed)")
        message += (f" Too few trials to tell whether a range hyperparameter separates them from the feasible "
                    f"ones{among}: {why}.")
        action = ("Read why they were infeasible (tunebook trials) and look at their hyperparameters; run more trials "
                  "before concluding where the infeasible region lies. A large number of infeasible points can "
                  "indicate a bug in the training code.")
    elif ev["share"] >= WARNING_SHARE:
        message += f" No single range hyperparameter separates them from the feasible trials{among}."
        action = ("Read why they were infeasible (tunebook trials) and adjust the search space to avoid sampling "
                  "such points, reparameterizing it if needed. A large number of infeasible points can "
                  "indicate a bug in the training code.")
    else:
        action = ("Nothing to do unless the share grows: a few infeasible trials are expected where the search "
                  "space reaches learning rates too large to train stably.")
    return message, action


def _failed_words(key: str, ev: dict, regions: list[Region]) -> tuple[str, str]:
    message = (f"{ev['n']} of {ev['n_finished']} finished trials ({ev['share']:.0%}) in study '{key}' failed: "
               "they crashed and ran out of retries, so their points were never evaluated.")
    if regions:
        message += f" The failures concentrate: failed are {_where(regions)} (a constraint such as memory?)."
    action = ("Read their reasons and logs (tunebook trials), fix the cause and run them again: failed points "
              "leave holes in the search. If they fail because of an implicit constraint of the search space, "
              "shrink or reparameterize the search space to avoid sampling such points.")
    return message, action
