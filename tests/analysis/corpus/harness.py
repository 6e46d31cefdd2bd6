"""The labeled corpus of real training curves: entries as ExperimentData, and every check scored on them.

The fixture ``corpus.json.gz`` (written by ``make_corpus``) holds a list of
entries. Each entry is one small experiment of real training runs:

- ``id`` (``model/case/variant``), ``case``, ``model``, ``note`` (how it was made);
- ``objective`` (``metric``, ``mode``); ``scientific``, ``nuisance``, ``fixed``: the spec's
  sections (``fixed`` holds ``max_train_steps`` and the run's other settings);
- ``trials``: each ``params`` (its scientific and nuisance values) and ``curves``
  ``{metric: {"every": k, "values": [...]}}``, logged at steps k, 2k, ... (5 significant digits);
- ``labels``: ``{check id: "fire" | "silent" | "expected"}``, an expert's
  reading of the curves; a check not named is not judged on that entry.

What a label asks of a check's findings on the entry (``observed``):

- ``fire``: the check reports it: some finding of that id at ``FIRE_AT`` or above
  (INFO for most checks; WARNING for ``overfitting``, whose INFO means "not a
  problem here", and for ``best_step`` and ``grad_norm``, whose INFO is an
  all-clear summary they always give);
- ``silent``: no finding of that id at ``FIRE_AT`` or above;
- ``expected`` (overfitting of the low-strength trials when the scientific
  hyperparameter is a regularizer): reported, but only as INFO, not a problem,
  by a finding whose ``evidence["expected"]`` is true (an INFO that merely
  lists the regularizers does not count).

``score(entries)`` gives, per check, the counts and precision (caught / all
it raised on labeled entries) and recall (caught / labeled ``fire``);
``markdown(scores)`` the table the README shows (``python -m
tests.analysis.corpus.harness`` prints it).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from tunebook.analysis.checklist import CHECKS, run_checklist
from tunebook.analysis.data import TRIAL_COLUMNS, ExperimentData
from tunebook.analysis.findings import Finding, Severity
from tunebook.core import Experiment
from tunebook.core.objective import reduce_curve

CORPUS = Path(__file__).resolve().parent / "corpus.json.gz"
LABELS = ("fire", "silent", "expected")
LEVEL = {"none": 0, Severity.INFO: 1, Severity.WARNING: 2, Severity.PROBLEM: 3}
FIRE_AT = {"overfitting": Severity.WARNING, "best_step": Severity.WARNING, "grad_norm": Severity.WARNING}
MIN_POSITIVES = 5  # fewer labeled ``fire`` entries than this: precision and recall are shown, not enforced
REQUIRED = 0.95  # the precision and recall every check must reach on the corpus


def load_corpus(path: Path = CORPUS) -> list[dict[str, Any]]:
    """The corpus entries, in the order they were generated."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)["entries"]


def curve_points(curve: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of a stored curve: logged every ``every`` steps from step ``every`` on."""
    values = np.asarray(curve["values"], dtype=float)
    return curve["every"] * np.arange(1, len(values) + 1), values


def spec_of(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The experiment spec of an entry: objective (reduce ``best``), roles, one study per scientific value."""
    spec: dict[str, Any] = {
        "name": entry["id"].replace("/", "-"),
        "objective": {**entry["objective"], "reduce": "best"},
        "nuisance": entry["nuisance"], "fixed": entry["fixed"],
        "search": {"trials": max(1, len(entry["trials"])), "studies": "per_scientific_value", "seed": 0},
    }
    if entry.get("scientific"):
        spec["scientific"] = entry["scientific"]
    return spec


def entry_data(entry: Mapping[str, Any]) -> ExperimentData:
    """The ExperimentData of an entry: every trial complete, its objective reduced from its curve."""
    experiment = Experiment.from_dict(spec_of(entry))
    plans = experiment.studies()
    objective = experiment.objective
    rows, points, numbers = [], [], {}
    for trial_id, trial in enumerate(entry["trials"], start=1):
        params = trial["params"]
        study = next(p.key for p in plans if all(params.get(k) == v for k, v in p.scientific.items()))
        numbers[study] = numbers.get(study, -1) + 1
        for metric, curve in trial["curves"].items():
            at, values = curve_points(curve)
            points += [(trial_id, metric, int(s), float(v)) for s, v in zip(at, values)]
        at, values = curve_points(trial["curves"][objective.metric])
        reduced = reduce_curve(list(at), list(values), objective.mode, objective.reduce)
        value, best_step = reduced if reduced is not None else (math.nan, math.nan)
        rows.append({
            "trial_id": trial_id, "study": study, "number": numbers[study], "state": "complete",
            "objective": value, "best_step": best_step, "attempt": 1, "reason": None, "started_at": None,
            "finished_at": None, "duration": None, **params,
            "max_train_steps": entry["fixed"]["max_train_steps"],
        })
    param_ids = list(dict.fromkeys(k for row in rows for k in row if k not in TRIAL_COLUMNS))
    trials = pd.DataFrame(rows, columns=list(TRIAL_COLUMNS) + param_ids)
    curves = pd.DataFrame(points, columns=["trial_id", "metric", "step", "value"])
    curves = curves.sort_values(["trial_id", "metric", "step"], kind="stable").reset_index(drop=True)
    return ExperimentData(experiment, trials, curves)


def observed(findings: Iterable[Finding], check: str) -> str:
    """The most severe finding ``check`` gave: ``"none"``, ``"info"``, ``"warning"`` or ``"problem"``;
    ``"expected"`` when the most severe is INFO and one INFO says the pattern is expected
    (``evidence["expected"]`` true: overfitting at a weak setting of a scientific regularizer).

    A finding that says its test has "too few" points or trials "to tell" is
    no verdict either way and counts as none: a miss where the label says
    fire, no false alarm where it says silent.
    """
    mine = [f for f in findings if f.id == check and not undecided(f)]
    if not mine:
        return "none"
    worst = max((f.severity for f in mine), key=LEVEL.__getitem__)
    if worst == Severity.INFO and any(f.evidence.get("expected") is True for f in mine):
        return "expected"
    return worst.value


def undecided(finding: Finding) -> bool:
    """Whether a finding only says that there is too little data for its test ("too few ... to tell")."""
    return "too few" in finding.message.lower()


def fires(check: str, seen: str) -> bool:
    """Whether what ``check`` said (``observed``) reports the issue: a finding at its ``FIRE_AT`` or above."""
    return _level(seen) >= LEVEL[FIRE_AT.get(check, Severity.INFO)]


def agrees(check: str, label: str, seen: str) -> bool:
    """Whether what ``check`` said is what the label asks of it."""
    if label == "expected":
        return seen == "expected"
    return fires(check, seen) == (label == "fire")


def _level(seen: str) -> int:
    if seen == "none":
        return 0
    return LEVEL[Severity.INFO] if seen == "expected" else LEVEL[Severity(seen)]


@dataclasses.dataclass
class Score:
    """One check over the corpus: the labeled entries, what it caught, missed and raised wrongly."""

    check: str
    known: bool  # the checklist has a check of this id
    fire: int = 0  # entries labeled fire
    caught: int = 0  # ... on which it fired
    silent: int = 0  # entries labeled silent
    false_alarms: int = 0  # ... on which it fired
    expected: int = 0  # entries labeled expected (reported as INFO, not a problem)
    expected_right: int = 0
    wrong: list[str] = dataclasses.field(default_factory=list)  # "entry id: label, saw <observed>"

    @property
    def precision(self) -> float:
        raised = self.caught + self.false_alarms
        return self.caught / raised if raised else math.nan

    @property
    def recall(self) -> float:
        return self.caught / self.fire if self.fire else math.nan

    @property
    def enforced(self) -> bool:
        """Enough labeled positives for precision and recall to be held to ``REQUIRED``."""
        return self.fire >= MIN_POSITIVES

    @property
    def passes(self) -> bool:
        if not self.known:
            return False
        if self.expected and self.expected_right < self.expected:
            return False
        if not self.enforced:  # few positives: only the false alarms are held to REQUIRED
            return self.false_alarms <= (1 - REQUIRED) * self.silent
        return self.recall >= REQUIRED and (self.precision >= REQUIRED if self.caught + self.false_alarms else False)


def labeled_checks(entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every check id some entry labels, in the checklist's order (unknown ids last)."""
    named = dict.fromkeys(check for entry in entries for check in entry["labels"])
    return [c for c in CHECKS if c in named] + sorted(c for c in named if c not in CHECKS)


def score(entries: list[Mapping[str, Any]]) -> dict[str, Score]:
    """Each labeled check's ``Score`` over ``entries`` (checks the checklist lacks score as unknown)."""
    checks = labeled_checks(entries)
    scores = {check: Score(check, check in CHECKS) for check in checks}
    for entry in entries:
        labels = entry["labels"]
        findings = run_checklist(entry_data(entry), only=[c for c in labels if c in CHECKS])
        for check, label in labels.items():
            tally = scores[check]
            seen = observed(findings, check) if tally.known else "none"
            if label == "expected":
                tally.expected += 1
                tally.expected_right += agrees(check, label, seen)
            elif label == "fire":
                tally.fire += 1
                tally.caught += fires(check, seen)
            else:
                tally.silent += 1
                tally.false_alarms += fires(check, seen)
            if not agrees(check, label, seen):
                tally.wrong.append(f"{entry['id']}: {label}, saw {seen}")
    return scores


def _share(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}"


def markdown(scores: Mapping[str, Score]) -> str:
    """The precision/recall table as Markdown, one row per labeled check."""
    lines = [
        "| check | labeled fire | caught | labeled silent | false alarms | precision | recall | status |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in scores.values():
        if not s.known:
            status = "no such check yet"
        elif not s.enforced:
            status = f"< {MIN_POSITIVES} positives: false alarms only, " + ("ok" if s.passes else "too many")
        else:
            status = "ok" if s.passes else f"below {REQUIRED}"
        if s.expected:
            status += f"; expected (INFO, not a problem) {s.expected_right}/{s.expected}"
        lines.append(f"| `{s.check}` | {s.fire} | {s.caught} | {s.silent} | {s.false_alarms} | "
                     f"{_share(s.precision)} | {_share(s.recall)} | {status} |")
    return "\n".join(lines)


def main() -> None:
    """Print the table and every disagreement with a label."""
    entries = load_corpus()
    scores = score(entries)
    print(f"{len(entries)} entries, {sum(len(e['trials']) for e in entries)} trials\n")
    print(markdown(scores))
    for s in scores.values():
        for line in s.wrong:
            print(f"  {s.check}: {line}")


if __name__ == "__main__":
    main()
