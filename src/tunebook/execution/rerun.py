"""Exact reruns: one trial again, with its params and seed, on the code version that produced it.

A rerun of trial ``STUDY/NUMBER`` is a study keyed ``rerun:STUDY:NUMBER``
linked to its source (``source_trial_id``). Each ``tunebook rerun`` adds one
trial to it (an interrupted one is resumed instead), so a rerun can be
repeated later, e.g. after upgrading a package. The code is the recorded
version rebuilt by ``code_version.materialize`` (its commit with its
uncommitted diff); the trial runs in the rebuilt tree's copy of the
original working directory.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from tunebook.core.records import StudyRecord, Trial
from tunebook.core.states import TrialState
from tunebook.execution.retrain import RERUN, study_key
from tunebook.execution.runner import PlannedStudy
from tunebook.search.enumerated import ListSampler

if TYPE_CHECKING:
    from tunebook.core.records import CodeVersion

# Relative difference below which two objectives count as equal up to floating-point noise
# (summation order, a BLAS with other threads); the verdict says which of the two it is.
CLOSE = 1e-6


def rerun_study(source: Trial, source_study: StudyRecord, existing: list[Trial]) -> PlannedStudy:
    """The rerun study with room for one more rerun; an unfinished one (Ctrl-C, kill -9) is resumed instead."""
    unfinished = any(not t.state.is_finished for t in existing)
    budget = len(existing) if unfinished else len(existing) + 1
    return PlannedStudy(
        key=study_key(RERUN, source_study.key, source.number),
        scientific=dict(source_study.scientific),
        sampler=ListSampler([dict(source.params)] * budget),
        budget=budget,
        source_trial_id=source.id,
    )


def rebuilt_workdir(version: "CodeVersion | None", workdir: Path, dest: Path) -> tuple[Path | None, list[str]]:
    """Rebuild ``version`` in ``dest``: (the trial's working directory in it, warnings).

    None (and a warning saying so) when there is no recorded code to rebuild
    (no version: a trial run before versions were recorded, or imported; no
    repository; no commit), or when ``workdir`` lies outside the recorded
    repository: the trial then runs in the current tree. CodeVersionError
    when the recorded code cannot be rebuilt (repository gone, diff not applying).
    """
    from tunebook.execution.code_version import materialize

    if version is None:
        return None, ["warning: no code version is recorded for this trial (run before tunebook recorded them, or "
                      "imported): it reruns on the current tree, which may differ from the one that produced it"]
    root = version.git.get("root")
    if not root or not version.commit:
        why = "; ".join(version.not_exact) or "no git repository or commit recorded"
        return None, [f"warning: the recorded code version cannot be rebuilt ({why}): it reruns on the current tree"]
    try:
        relative = Path(os.path.relpath(Path(workdir).resolve(), Path(root).resolve()))
    except ValueError:  # another drive
        relative = Path("..")
    if relative.parts[:1] == ("..",):
        return None, [f"warning: the trials run in {workdir}, outside the recorded repository {root}: "
                      "it reruns on the current tree"]
    notes = [f"warning: not exactly reproducible: {reason}" for reason in version.not_exact]
    return materialize(version, dest) / relative, notes


def software_changes(info: Mapping[str, Any]) -> list[str]:
    """What differs between the software recorded in a code version's ``info`` and this process's."""
    from tunebook.execution.software import software

    now = software()
    changes = []
    pairs = [("tunebook", info.get("tunebook"), now["tunebook"]),
             ("Python", (info.get("python") or {}).get("version"), now["python"]["version"])]
    recorded = info.get("packages") or {}
    pairs += [(name, recorded.get(name), now["packages"].get(name))
              for name in sorted(set(recorded) | set(now["packages"]))]
    for name, then, current in pairs:
        if then != current:
            changes.append(f"{name} {then or 'absent'} -> {current or 'absent'}")
    return changes


def outcome_match(source: Trial, rerun: Trial) -> tuple[bool, str]:
    """(whether the rerun reproduced the source, the verdict in words with its numbers).

    Reproduced: the same state and, for complete trials, objectives equal
    exactly or within a relative ``CLOSE`` (1e-6, floating-point noise; the
    words say which), and the same best step.
    """
    if rerun.state is not source.state:
        return False, f"does not match: the source ended {source.state.value}, the rerun {rerun.state.value}"
    if source.state is not TrialState.COMPLETE:
        return True, f"matches: both ended {source.state.value}"
    a, b = source.objective, rerun.objective
    if a is None or b is None:
        return a is b, "matches: neither has an objective" if a is b else "does not match: one has no objective"
    step = "" if source.best_step == rerun.best_step else (
        f"; best step {source.best_step} -> {rerun.best_step}")
    if a == b:
        return not step, f"matches exactly (objective {a!r}, bit for bit){step}"
    difference = b - a
    relative = abs(difference) / max(abs(a), abs(b)) if max(abs(a), abs(b)) > 0 else math.inf
    if relative <= CLOSE:
        return not step, (f"matches within floating-point noise: rerun - source = {difference:.3g} "
                          f"(relative {relative:.2g} <= {CLOSE:g}){step}")
    return False, (f"does not match: rerun - source = {difference:.6g} ({relative:.3%} of the larger); the program "
                   f"is not deterministic for a fixed seed, or its code, data or software differ{step}")
