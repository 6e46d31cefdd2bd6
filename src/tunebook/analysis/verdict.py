"""The verdict: which scientific value is best, whether the evidence supports it, and what to run next.

One paragraph a reader can act on, assembled from the isolation result (the
best trial per scientific value, ``analysis.best``) and the checklist's
findings; its numbers travel with it. The decision rule, in order:

1. No trial, no complete trial, or every finished trial infeasible: nothing
   to compare yet (``no_trials``, ``no_complete``, ``all_infeasible``).
2. No scientific hyperparameter and one group of trials: the best
   configuration found (``no_scientific``).
3. Only one scientific value has a complete trial: nothing to compare it
   against (``one_value``).
4. Otherwise the best value (the *winner*) is compared with the next best
   (the *runner-up*) with the ``sampled_enough`` check's own rule: the gap
   between their bests against the spread luck in sampling gives a study's
   best (the larger interquartile range of the bootstrapped best of half
   their trials):

   * either has fewer than 4 complete trials (``MIN_TRIALS``): ``too_few``,
     "too few trials to tell";
   * gap <= spread: ``not_distinguishable``, "not yet distinguishable";
   * spread < gap < 2 x spread: ``leaning``, a lead not yet settled;
   * gap >= 2 x spread: ``clear``.

   Bayesian optimization chose trials (``sampled_enough`` skipped: a model's
   trials are not independent draws, so no spread can be bootstrapped from
   them): ``unmeasured``, "a lead the search cannot measure", unless the
   repeats of the two best trials clear the gap (then ``clear``).

Then trial variance (the ``trial_variance`` check: the repeats of the two
best trials, retrained with other seeds): when it warns that the gap is
within trial variance (or that over seeds the runner-up is better), the
case becomes ``within_trial_variance``, "not distinguishable beyond trial
variance", whatever the study-variance case was (except ``too_few``), and
the next steps are more seeds for both, then ``tunebook compare``; when no
repeats exist and the gap is small it suggests, the next steps start with
retraining both best trials, then ``tunebook compare``.

The evidence **supports** the conclusion only when the case is ``clear`` (or
``no_scientific`` with at least 4 complete trials) and the checklist raises
nothing against it: no PROBLEM finding (a severe infeasible share, a training
loss that rises, problematic overfitting in a best trial, ...), no
``search_space_boundary`` warning (the best trials crowd an edge, so a wider
range could move a best) and no study that check could not judge (fewer
complete trials than it needs, 8: its silence is no evidence), and every planned study has a complete trial and
no trial is still waiting or running. Other warnings do not overturn it; the
verdict lists them as "read before adopting".

The next steps (``analysis.next_steps``) are commands that run exactly as
printed, or edits in words.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Sequence

from tunebook.analysis.best import Group, scientific_groups
from tunebook.analysis.checks.sampled_enough import MIN_TRIALS
from tunebook.analysis.findings import Finding, Severity
from tunebook.analysis.next_steps import FINISH, NextStep, Where, retrain_steps, run_step
from tunebook.analysis.verdict_concerns import (
    checklist_concerns, missing_words, planned_studies, support_sentence,
)

if TYPE_CHECKING:
    from tunebook.analysis.data import ExperimentData

__all__ = ["CASES", "Verdict", "decide"]

CASES = ("no_trials", "no_complete", "all_infeasible", "no_scientific", "one_value", "too_few",
         "not_distinguishable", "leaning", "unmeasured", "clear", "within_trial_variance")
# the spread judged above is study variance; the playbook asks for trial variance too before adopting a change
RETRAIN = NextStep("before adopting it as the new baseline, consider running its best trial a few times with other "
                   "seeds: the run-to-run trial variance can be as large as the gap")


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The verdict and its numbers.

    ``case`` is one of ``CASES``; ``best`` and ``runner_up`` are
    ``{group, scientific, objective, trial, n_complete}`` (``trial`` named
    ``STUDY/NUMBER``); ``gap`` and ``spread`` are the sampled_enough numbers
    for the two (None where not judged); ``concerns`` say why the evidence
    does not support the conclusion yet (empty when it does); ``warnings``
    name findings to read before adopting it.
    """

    case: str
    headline: str
    text: str
    supported: bool
    metric: str
    mode: str
    best: dict[str, Any] | None = None
    runner_up: dict[str, Any] | None = None
    gap: float | None = None
    spread: float | None = None
    concerns: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    next_steps: tuple[NextStep, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.update(concerns=list(self.concerns), warnings=list(self.warnings),
                   next_steps=[s.to_dict() for s in self.next_steps])
        return out


def decide(
    data: "ExperimentData", findings: Sequence[Finding], store: str | None = None, spec: str | None = None,
    runs: str | None = None,
) -> Verdict:
    """The verdict on ``data`` given its checklist ``findings`` (see the module docstring for the rule).

    ``store``, ``spec`` and ``runs`` go into the printed commands; without
    ``spec`` no ``tunebook run`` is offered (an imported experiment has none).
    """
    where = Where(data.experiment.name, store, spec, runs)
    groups = scientific_groups(data)
    if not groups:
        return _empty_verdict(data, where)
    if len(groups) == 1:
        return _single(data, findings, groups[0], where)
    return _comparison(data, findings, groups, where)


# -- nothing to compare -------------------------------------------------------------------------------------------

def _empty_verdict(data: "ExperimentData", where: Where) -> Verdict:
    """No complete trial with a finite objective: say what there is and how to get one."""
    trials, o = data.trials, data.objective
    states = trials["state"].value_counts().to_dict() if len(trials) else {}
    base = {"supported": False, "metric": o.metric, "mode": o.mode}
    if not len(trials):
        run = run_step(data, where, "run its trials", more=False)
        return Verdict("no_trials", "No trials yet", f"Experiment '{where.experiment}' has no trials yet: nothing "
                       "to compare.", next_steps=tuple(s for s in [run] if s), **base)
    counts = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    read = NextStep("read why each trial ended as it did", where.command("trials", where.experiment))
    if states.get("infeasible", 0) == len(trials):
        text = (f"All {len(trials)} trials are infeasible (diverged or otherwise unusable): there is no "
                "complete trial to compare. A very large fraction of infeasible points asks for a search space "
                "that avoids sampling them, and can indicate a bug in the training code.")
        edit = NextStep("adjust the search space to avoid sampling such points (in a new experiment: a changed "
                        "search space is a new round)")
        return Verdict("all_infeasible", "Every trial is infeasible", text, next_steps=(read, edit), **base)
    text = f"No trial has completed with a finite {o.metric} yet ({counts}): there is nothing to compare."
    steps = [read] if states.get("failed") or states.get("infeasible") else []
    run = run_step(data, where, FINISH, more=False)
    return Verdict("no_complete", "No complete trial yet", text, next_steps=tuple(steps + ([run] if run else [])),
                   **base)


# -- one group: no scientific hyperparameter, or one value only ----------------------------------------------------

def _single(data: "ExperimentData", findings: Sequence[Finding], group: Group, where: Where) -> Verdict:
    """One group of complete trials: the best configuration (no scientific hyperparameter), or one value only."""
    best, o = _summary(group, data), data.objective
    concerns, warnings, steps = checklist_concerns(data, findings, [group], where)
    head = (f"The best {o.metric} ({o.mode}imized) is {best['objective']:.4g}, trial {best['trial']}, the best "
            f"of {best['n_complete']} complete trial(s).")
    if not data.experiment.space.with_role("scientific"):
        too_few = best["n_complete"] < MIN_TRIALS
        if too_few:
            concerns.insert(0, f"{best['n_complete']} complete trial(s) are too few to tell how much of the best "
                               "is luck")
            steps.insert(0, run_step(data, where, "sample more trials", more=True))
        text = _join("There is no scientific hyperparameter: this experiment tunes nuisance hyperparameters only.",
                     head, _spread_sentence(findings), support_sentence(concerns, warnings))
        if not concerns:
            note = f"best configuration: trial {best['trial']}, {o.metric} {best['objective']:.4g}"
            steps += [NextStep("record the decision", where.command("note", where.experiment, note)), RETRAIN]
        headline = f"Best configuration: trial {best['trial']}" + (
            "" if not concerns else "; the evidence does not yet support it")
        return _verdict("no_scientific", headline, text, not concerns, data,
                        best, None, concerns, warnings, steps)
    missing = [s for s in planned_studies(data) if s != group.study]
    steps.insert(0, run_step(data, where, "run the other studies", more=False) if _unfinished(data)
                 else NextStep("read why the other values have no complete trial",
                               where.command("trials", where.experiment)))
    text = _join(f"Only {group.label} has complete trials: there is nothing to compare it with yet"
                 + (f" ({missing_words(data, missing)})" if missing else "") + ".", head,
                 support_sentence(concerns, warnings, judged=False))
    concerns.insert(0, "there is no other scientific value to compare it with")
    return _verdict("one_value", f"Only {group.label} so far: nothing to compare", text, False, data, best, None,
                    concerns, warnings, steps)


def _spread_sentence(findings: Sequence[Finding]) -> str:
    """How much of a lone study's best is luck, from sampled_enough's bootstrap (empty when not judged)."""
    finding = _finding(findings, "sampled_enough")
    groups = finding.evidence.get("groups", []) if finding else []
    if len(groups) != 1 or not groups[0].get("best_of_k"):
        return ""
    g = groups[0]
    row = next((r for r in g["best_of_k"] if r["k"] == g["half"]), None)
    if row is None:
        return ""
    return (f"Bootstrapped, the best of {g['half']} of its trials has median {row['median']:.4g} "
            f"(interquartile range {row['q1']:.4g} to {row['q3']:.4g}): that much of a best is luck in sampling. ")


# -- two or more scientific values --------------------------------------------------------------------------------

def _comparison(data: "ExperimentData", findings: Sequence[Finding], groups: list[Group], where: Where) -> Verdict:
    """Two or more scientific values: the winner against the runner-up, then what the checklist says."""
    reverse = data.objective.mode == "max"
    order = sorted(groups, key=lambda g: float(g.trials["objective"].iloc[0]), reverse=reverse)
    summaries = [_summary(g, data) for g in order]
    best, second = summaries[0], summaries[1]
    gap = abs(best["objective"] - second["objective"])
    case, spread = _judge_gap(findings, best, second)
    seeds = _finding(findings, "trial_variance")
    if case != "too_few" and seeds is not None and seeds.severity is Severity.WARNING:
        case = "within_trial_variance"
    concerns, warnings, steps = checklist_concerns(data, findings, order, where)
    if case != "clear":
        steps = [s for s in steps if s is None or s.what != FINISH]
    if case not in ("clear", "within_trial_variance", "unmeasured"):  # more nuisance points cannot shrink trial variance
        steps.insert(0, run_step(data, where, "sample more trials in every study", more=True))
    more_seeds = retrain_steps(data, seeds, where)
    steps[:0] = more_seeds or _equivalent_step(case, seeds, best, second, where)
    text = _join(_result_sentence(data, summaries), _gap_sentence(case, gap, spread, best, second),
                 seeds.message if seeds is not None else "", support_sentence(concerns, warnings, case == "clear"))
    supported = case == "clear" and not concerns
    if supported:
        o = data.objective
        note = f"{best['group']} is best: {o.metric} {best['objective']:.4g} (trial {best['trial']})"
        steps += [NextStep("record the decision", where.command("note", where.experiment, note))]
        steps += [] if seeds is not None and seeds.evidence.get("distinguishable") else [RETRAIN]
    tied = [x["group"] for x in summaries if x["objective"] == best["objective"]]
    headline = _headline(case, best, second, supported, tied)
    if seeds is not None and seeds.evidence.get("reversed"):
        headline = f"{second['group']} is better over seeds: {best['group']}'s best was a lucky seed"
    return _verdict(case, headline, text, supported, data, best, second,
                    concerns, warnings, steps, gap=gap, spread=spread)


def _equivalent_step(case: str, seeds: Finding | None, best: dict, second: dict, where: Where) -> list[NextStep]:
    """When seeds cannot settle a tie within trial variance: record that the two are equivalent (the choice
    between them is made by other merits, which the tool cannot weigh)."""
    if case != "within_trial_variance" or seeds is None or seeds.evidence.get("seeds_needed") is not None:
        return []
    note = (f"{best['group']} and {second['group']} are equivalent within trial variance; "
            "chose between them by other merits (simplicity, cost)")
    return [NextStep("treat the two as equivalent, choose by simplicity or cost, and record it",
                     where.command("note", where.experiment, note))]


def _result_sentence(data: "ExperimentData", summaries: list[dict]) -> str:
    """Which value has the best objective (or which tie for it), and the runner-up, trials by name."""
    o, best = data.objective, summaries[0]
    lead = "After optimizing away the nuisance hyperparameters, "
    tied = [s for s in summaries if s["objective"] == best["objective"]]
    if len(tied) > 1:
        trials = ", ".join(s["trial"] for s in tied)
        return (f"{lead}{_and([s['group'] for s in tied])} tie for the best {o.metric} ({o.mode}imized): "
                f"{best['objective']:.4g} (trials {trials}).")
    second = summaries[1]
    return (f"{lead}{best['group']} has the best {o.metric} ({o.mode}imized): {best['objective']:.4g}, trial "
            f"{best['trial']}; the runner-up {second['group']} has {second['objective']:.4g} (trial "
            f"{second['trial']}).")


def _judge_gap(findings: Sequence[Finding], best: dict, second: dict) -> tuple[str, float | None]:
    """The case for winner vs runner-up, and the spread, by the sampled_enough check's numbers."""
    if min(best["n_complete"], second["n_complete"]) < MIN_TRIALS:
        return "too_few", None
    finding = _finding(findings, "sampled_enough")
    if finding is not None and finding.evidence.get("skipped") == "bayesian":
        seeds = _finding(findings, "trial_variance")
        return ("clear" if seeds is not None and seeds.evidence.get("distinguishable") else "unmeasured"), None
    pairs = finding.evidence.get("pairs", []) if finding else []
    pair = next((p for p in pairs if {p.get("a"), p.get("b")} == {best["group"], second["group"]}), None)
    if pair is None:  # the check did not judge these two: do not claim more than it did
        return ("clear" if finding is not None and finding.severity is Severity.INFO else "leaning"), None
    cases = {"in doubt": "not_distinguishable", "comparable": "leaning", "clear": "clear"}
    return cases.get(pair.get("verdict"), "leaning"), float(pair["spread"])


def _gap_sentence(case: str, gap: float, spread: float | None, best: dict, second: dict) -> str:
    luck = ("the spread that luck in sampling gives a study's best (the interquartile range of the bootstrapped "
            "best of half its trials)")
    if case == "too_few":
        few = [g["group"] for g in (best, second) if g["n_complete"] < MIN_TRIALS]
        return (f"Too few trials to tell: {' and '.join(few)} {'has' if len(few) == 1 else 'have'} fewer than "
                f"{MIN_TRIALS} complete trials, too few to measure how much of a best is luck.")
    if case == "unmeasured":
        return (f"The gap is {gap:.3g}. Bayesian optimization chose these trials, so how much of a best is luck "
                "cannot be bootstrapped from them: only the best trials' repeats (other seeds) can judge the gap.")
    if spread is None:
        return f"The gap is {gap:.3g}; the checklist did not measure the spread to judge it against."
    if case == "within_trial_variance":
        return f"The gap between the bests is {gap:.3g}" + (f"; luck in sampling moves a best by {spread:.3g}."
                                                            if spread is not None else ".")
    if case == "not_distinguishable" and gap == 0:
        return (f"Equal bests, and luck in sampling moves a study's best by {spread:.3g} (the interquartile range "
                "of the bootstrapped best of half its trials): not yet distinguishable.")
    if case == "not_distinguishable":
        return (f"The gap, {gap:.3g}, is within {luck}, {spread:.3g}: the two are not yet distinguishable.")
    if case == "leaning":
        return (f"The gap, {gap:.3g}, is larger than {luck}, {spread:.3g}, but not twice as large: a lead, not "
                "yet settled.")
    return f"The gap, {gap:.3g}, is more than twice {luck}, {spread:.3g}: not an accident of sampling."


def _headline(case: str, best: dict, second: dict, supported: bool, tied: list[str]) -> str:
    if len(tied) > 1:
        return f"{_and(tied)} tie" + ("; too few trials to tell" if case == "too_few" else
                                      ": not yet distinguishable")
    if case == "clear":
        return f"{best['group']} is best" + (", and the evidence supports it" if supported
                                             else " by a clear gap; the evidence does not yet support it")
    return {
        "too_few": f"{best['group']} leads; too few trials to tell",
        "not_distinguishable": f"{best['group']} and {second['group']}: not yet distinguishable",
        "leaning": f"{best['group']} leads; not yet settled",
        "unmeasured": f"{best['group']} leads; unmeasured: retrain the best trials to judge the gap",
        "within_trial_variance": f"{best['group']} and {second['group']}: not distinguishable beyond trial variance",
    }[case]


# -- small pieces --------------------------------------------------------------------------------------------------

def _verdict(case: str, headline: str, text: str, supported: bool, data: "ExperimentData", best: dict | None,
             second: dict | None, concerns: list[str], warnings: list[str], steps: list[NextStep | None],
             gap: float | None = None, spread: float | None = None) -> Verdict:
    unique = list({s.command or s.what: s for s in reversed([s for s in steps if s is not None])}.values())[::-1]
    return Verdict(case, headline, text, supported, data.objective.metric, data.objective.mode, best, second, gap,
                   spread, tuple(concerns), tuple(dict.fromkeys(warnings)), tuple(unique))


def _summary(group: Group, data: "ExperimentData") -> dict[str, Any]:
    top = group.trials.iloc[0]
    return {"group": group.label, "scientific": dict(group.scientific), "objective": float(top["objective"]),
            "trial": data.trial_name(int(top["trial_id"])), "n_complete": len(group.trials)}


def _unfinished(data: "ExperimentData") -> bool:
    stored = data.search_trials.groupby("study").size().to_dict()
    budget = data.experiment.search.trials or 0
    pending = data.search_trials["state"].isin(["waiting", "running"]).any()
    return bool(pending) or any(stored.get(s, 0) < budget for s in planned_studies(data))


def _and(names: list[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def _join(*sentences: str) -> str:
    return " ".join(s.strip() for s in sentences if s and s.strip())


def _finding(findings: Sequence[Finding], check: str) -> Finding | None:
    return next((f for f in findings if f.id == check), None)


