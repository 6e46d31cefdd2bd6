"""What to do next, as commands that run exactly as printed, or as edits in words.

A command is ``tunebook ...`` quoted for a POSIX shell (``shlex``), with the
store's ``--store`` when one is known (``Where``):

- ``tunebook run SPEC --trials 2N`` samples more: the per-study budget N
  doubled (at least ``MIN_TRIALS``), since the spread of the best of N/2
  shrinks as N grows; if the bests stay this close, the difference is too
  small for the budget to decide. Not offered without a spec file (an
  imported experiment) or for grid/explicit search (no more points to draw).
- ``tunebook trials EXPERIMENT`` reads why trials ended infeasible or failed.
- ``tunebook plan instability EXPERIMENT/STUDY/NUMBER`` when the best trials
  of a study sit at the edge of an infeasible ``learning_rate`` region: the
  playbook looks for training instability before changing the search space.
- ``tunebook note EXPERIMENT TEXT`` records a supported decision.
- ``tunebook retrain EXPERIMENT/STUDY/NUMBER -n N`` for the best trial of
  each of the two best values, then ``tunebook compare`` of the two, when
  the ``trial_variance`` check says the gap is within trial variance (N: the
  seeds it estimates would settle the gap, at least 5) or that no repeats
  exist and the gap is small (N = 5); when a side has fewer than 5 repeats,
  only the sides that do are retrained (N = 5) before the comparison: their
  value still leans on their luckiest trial.

Widening a boundary changes the search space, which is a new round (a new
experiment name), so it is a step in words.
"""

from __future__ import annotations

import dataclasses
import shlex
from typing import TYPE_CHECKING, Any, Sequence

from tunebook.analysis.best import ranked
from tunebook.analysis.checks.sampled_enough import MIN_TRIALS
from tunebook.analysis.checks.trial_variance import RETRAIN_SEEDS
from tunebook.analysis.findings import Finding
from tunebook.core.records import trial_name

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

__all__ = ["FINISH", "NextStep", "Where", "best_trial_ref", "boundary_groups", "boundary_step", "retrain_steps",
           "run_step"]

FINISH = "finish the run"
PLANS_LEARNING_RATE = "learning_rate"  # the hyperparameter `tunebook plan instability` varies


@dataclasses.dataclass(frozen=True)
class NextStep:
    """One thing to do next: ``what`` in words, and the ``command`` that does it (None for an edit)."""

    what: str
    command: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "command": self.command}


@dataclasses.dataclass(frozen=True)
class Where:
    """Where the printed commands point: the experiment, its store URL, spec file and runs folder (None: unknown)."""

    experiment: str
    store: str | None = None
    spec: str | None = None
    runs: str | None = None  # the trial folders' root, for ``tunebook run --runs`` (None: run's default)

    def runs_option(self) -> list[str]:
        """``--runs DIR`` for commands that run trials, so they land beside the experiment's others."""
        return ["--runs", self.runs] if self.runs else []

    def command(self, *args: Any) -> str:
        """``tunebook ARGS [--store URL]``, quoted for a POSIX shell."""
        store = ["--store", self.store] if self.store else []
        return shlex.join(["tunebook", *(str(a) for a in args), *store])


def run_step(data: "ExperimentData", where: Where, what: str, more: bool) -> NextStep | None:
    """``tunebook run SPEC`` (with ``--trials`` twice the per-study budget if ``more``); None without a spec."""
    if where.spec is None:
        return None
    run = ["run", where.spec, *where.runs_option()]
    if not more:
        return NextStep(what, where.command(*run))
    stored = data.search_trials.groupby("study").size().tolist()
    budget = max(stored) if stored else data.experiment.search.trials or 0
    if data.experiment.search.algorithm in ("grid", "explicit") or budget < 1:
        return None
    target = max(2 * budget, MIN_TRIALS)
    return NextStep(f"{what} ({target} per study instead of {budget}): if the bests stay this close, the "
                    "difference is too small for this budget to decide", where.command(*run, "--trials", target))


def boundary_groups(findings: Sequence[Finding]) -> list[list[Finding]]:
    """``search_space_boundary`` findings grouped by the edge they name (param, side, infeasible threshold):
    studies that share nuisance points usually crowd the same edge, and one step serves them all."""
    edges: dict[tuple, list[Finding]] = {}
    for f in findings:
        region = f.evidence.get("region") or {}
        edges.setdefault((f.evidence.get("param"), f.evidence.get("side"), region.get("threshold")), []).append(f)
    return list(edges.values())


def boundary_step(data: "ExperimentData", same_edge: Sequence[Finding], where: Where,
                  prefer: str | None = None) -> tuple[str, NextStep]:
    """(the concern, the next step) for boundary findings about one edge: widen the range, or look for
    instability at the edge of an infeasible region from the best trial of study ``prefer`` if it is one."""
    ev = same_edge[0].evidence
    studies = [f.study or f.evidence.get("study") for f in same_edge]
    who = " and ".join([", ".join(str(s) for s in studies[:-1]), str(studies[-1])] if len(studies) > 1
                       else [str(studies[0])])
    param, side, region = ev.get("param"), ev.get("side"), ev.get("region")
    if region:
        sign = "≥" if region.get("side") == "above" else "≤"
        concern = (f"the best trials of {who} sit at the edge of the infeasible region {param} {sign} "
                   f"{region.get('threshold'):.3g}: a sign of training instability")
        study = prefer if prefer in studies else studies[0]
        best = best_trial_ref(data, study) if param == PLANS_LEARNING_RATE else None
        if best is not None:
            return concern, NextStep("look for training instability just above the best learning rate before "
                                     "changing the search space", where.command("plan", "instability", best))
        return concern, NextStep(f"plot the training loss of trials with {param} just beyond the best: warmup or "
                                 "gradient clipping may make those values trainable")
    end = ev.get("high") if side == "high" else ev.get("low")
    beyond = "above" if side == "high" else "below"
    concern = (f"the best trials of {who} crowd the {side} edge of {param}'s range: a better point may lie "
               f"{beyond} {end:g}")
    return concern, NextStep(f"widen {param} {beyond} {end:g} in the spec, under a new experiment name (a changed "
                             "search space is a new round), and run it")


def best_trial_ref(data: "ExperimentData", study: str | None) -> str | None:
    """``EXPERIMENT/STUDY/NUMBER`` of ``study``'s best trial: the TRIAL reference plans accept."""
    best = ranked(data, study) if study is not None else []
    if not len(best):
        return None
    return f"{data.experiment.name}/{trial_name(study, int(best['number'].iloc[0]))}"


def retrain_steps(data: "ExperimentData", finding: Finding | None, where: Where) -> list[NextStep]:
    """The retrain commands for the two best values' best trials, then their comparison (see the module docstring).

    From the ``trial_variance`` ``finding``: its INFO suggestion (no repeats yet: ``seeds`` each), or its
    WARNING (within trial variance: ``seeds_needed`` each, nothing when seeds cannot settle it; the runner-up
    better over seeds: only the comparison, the runner-up as the candidate). Empty otherwise.
    """
    evidence = finding.evidence if finding is not None and finding.id == "trial_variance" else {}
    sides = evidence.get("sides", [])
    suggested = "retrain" in evidence
    if len(sides) != 2 or not (suggested or finding.severity.value == "warning"):
        return []
    refs = [f"{data.experiment.name}/{side['best_trial']}" for side in sides]
    if evidence.get("reversed"):
        return [NextStep(f"compare the two over their seeds ({sides[1]['group']} as the candidate): over seeds it "
                         "is the better one", where.command("compare", refs[0], refs[1]))]
    seeds = evidence["seeds"] if suggested else evidence.get("seeds_needed")
    why = "trial variance may be as large as the gap" if suggested else "the gap is within trial variance"
    retrained = list(zip(sides, refs))
    if not suggested and evidence.get("short_sides"):  # the gap is not measured until every side has its seeds
        seeds, why = RETRAIN_SEEDS, "its value still leans on its best trial, the luckiest of its study"
        retrained = [(side, ref) for side, ref in retrained if side["group"] in evidence["short_sides"]]
    if not seeds:
        return []
    steps = [NextStep(f"retrain the best trial of {side['group']} with {seeds} seeds: {why}",
                      where.command("retrain", ref, "-n", seeds, *where.runs_option()))
             for side, ref in retrained]
    steps.append(NextStep(f"then compare the two over their seeds ({sides[0]['group']} as the candidate)",
                          where.command("compare", refs[1], refs[0])))
    return steps
