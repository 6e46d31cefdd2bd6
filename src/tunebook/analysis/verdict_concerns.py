"""What the checklist says against a verdict: concerns that withhold support, warnings to read, next steps.

``checklist_concerns`` turns the findings (and the trials a planned study
still lacks) into the verdict's concerns; any concern means the evidence
does not yet support the conclusion (the rule is in ``analysis.verdict``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Sequence

from tunebook.analysis.findings import Finding, Severity
from tunebook.analysis.next_steps import FINISH, NextStep, Where, boundary_groups, boundary_step, run_step

if TYPE_CHECKING:
    from tunebook.analysis.best import Group
    from tunebook.analysis.data import ExperimentData

__all__ = [
    "JUDGED_ELSEWHERE", "checklist_concerns", "first_sentence", "missing_words", "planned_studies", "support_sentence",
]

# checks the verdict weighs itself (its case, the boundary step), so they are not listed again as concerns
JUDGED_ELSEWHERE = ("sampled_enough", "search_space_boundary", "fixed_caveats", "trial_variance")


def checklist_concerns(
    data: "ExperimentData", findings: Sequence[Finding], groups: "list[Group]", where: Where,
) -> tuple[list[str], list[str], list[NextStep]]:
    """(concerns, warnings, next steps) from the findings and the trials still missing; ``groups`` best first."""
    concerns, warnings, steps = [], [], []
    edges = [f for f in findings if f.id == "search_space_boundary" and f.severity is not Severity.INFO]
    for same_edge in boundary_groups(edges):
        concern, step = boundary_step(data, same_edge, where, prefer=groups[0].study)
        concerns.append(concern)
        steps.append(step)
    unjudged = [f for f in findings if f.id == "search_space_boundary" and "needed" in f.evidence]
    if unjudged:  # the boundary check could not judge these studies: no support can rest on its silence
        studies = ", ".join(f.study for f in unjudged if f.study)
        concerns.append(f"search_space_boundary{_in(studies)}: too few complete trials to tell whether the best "
                        f"trials crowd a range edge (at least {unjudged[0].evidence['needed']} are needed)")
        steps.append(run_step(data, where, "sample more trials", more=True))
    for f in findings:
        if f.id not in JUDGED_ELSEWHERE and f.severity is Severity.PROBLEM:
            concerns.append(f"{f.id}{_in(f.study)}: {first_sentence(f.message)}")
            read = where.command("trials", where.experiment) if f.id == "infeasible_fraction" else None
            steps.append(NextStep(f"{f.id}{_in(f.study)}: {first_sentence(f.action)}", read))
        elif f.id not in JUDGED_ELSEWHERE and f.severity is Severity.WARNING:
            warnings.append(f"{f.id}{_in(f.study)}")
    compared = {g.study for g in groups}
    missing = [s for s in planned_studies(data) if s not in compared]
    if missing and len(groups) > 1:
        concerns.append(f"{missing_words(data, missing)}, so the comparison leaves it out")
    pending = int(data.search_trials["state"].isin(["waiting", "running"]).sum())
    retraining = int(data.trials["state"].isin(["waiting", "running"]).sum()) - pending
    if pending:
        concerns.append(f"{pending} trial(s) have not finished yet")
        if not missing:
            steps.append(run_step(data, where, FINISH, more=False))
    if retraining:  # finished by the `tunebook retrain` that started them, not by `tunebook run`
        concerns.append(f"{retraining} retrain trial(s) have not finished yet")
    return concerns, warnings, steps


def support_sentence(concerns: list[str], warnings: list[str], judged: bool = True) -> str:
    """Whether the evidence supports the conclusion (``judged``: the case itself allows it), and what to read."""
    if not judged:
        text = ("The checklist also finds: " + "; ".join(concerns) + ".") if concerns else ""
    elif concerns:
        text = "The evidence does not yet support it: " + "; ".join(concerns) + "."
    else:
        text = "The evidence supports it: the checklist found nothing against it."
    if warnings:
        text += f" Read before adopting: {_grouped(warnings)}."
    return text


def planned_studies(data: "ExperimentData") -> list[str]:
    """The studies the spec plans, then any others stored that sampled the search space (no retrain study)."""
    planned = [p.key for p in data.experiment.studies()]
    return planned + [s for s in data.search_trials["study"].unique() if s not in planned]


def missing_words(data: "ExperimentData", studies: list[str]) -> str:
    parts = []
    for study in studies:
        states = data.trials.loc[data.trials["study"] == study, "state"].value_counts().to_dict()
        counts = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no trials yet"
        parts.append(f"{study} has no complete trial ({counts})")
    return "; ".join(parts)


def _grouped(warnings: list[str]) -> str:
    """``a (x), a (y), b`` as ``a (x, y), b``: each check once, with the studies it warns about."""
    studies: dict[str, list[str]] = {}
    for w in warnings:
        check, _, rest = w.partition(" (")
        studies.setdefault(check, [])
        if rest:
            studies[check].append(rest.rstrip(")"))
    return ", ".join(c + (f" ({', '.join(dict.fromkeys(s))})" if s else "") for c, s in studies.items())


def first_sentence(text: str) -> str:
    """Up to the first full stop that ends a sentence (not the one in "e.g." or "i.e.")."""
    return re.split(r"(?<!e\.g)(?<!i\.e)\.\s+(?=[A-Z])", text.strip(), maxsplit=1)[0].rstrip(".")


def _in(study: str | None) -> str:
    return f" ({study})" if study else ""
