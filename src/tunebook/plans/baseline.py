"""What a launch records: the entry that makes a trial's configuration its line's new baseline.

The playbook ends each round with "consider whether to launch the new best
configuration", and asks that "for each launch, we must make sure that the
change is based on strong evidence". ``launch_entry`` gathers that evidence
as plain JSON data, once, at launch time:

- ``configuration``: the trial's params by plain name, as it received them;
- ``change``: its difference from the previous baseline's configuration
  (``added``, ``removed``, ``changed`` old -> new); None for a first baseline;
- ``comparison``: ``tunebook compare`` of the current baseline against the
  candidate (its decision, headline, reasons, warnings and every number), or
  a first baseline's "nothing to compare";
- ``retrain``: the configuration's repeats (trials identical apart from the
  seed parameter, ``analysis.repeats``), each seed with its outcome;
- ``test_metrics``: each ``test/...`` or ``test_...`` curve at the trial's best
  step (the playbook: "consider checking the performance on the test set");
- ``open_problems``: the warning and problem findings of the experiment's
  checklist, each by id with its first sentence;
- ``code_version``, ``reproduce`` (a ``tunebook rerun`` command), ``note``,
  ``launched_by``, ``launched_at``.

Entries are written once and never rewritten: a later reader sees what the
evidence was when the decision was made, not what it is now.
"""

from __future__ import annotations

import getpass
import math
import socket
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Mapping

from tunebook.analysis.findings import Severity
from tunebook.analysis.repeats import DEFAULT_SEED_PARAM, repeats_of
from tunebook.analysis.verdict_concerns import first_sentence
from tunebook.core.errors import NotFoundError, TunebookError
from tunebook.core.provenance import code_line, rerun_command
from tunebook.core.records import LaunchRecord
from tunebook.plans.records import PlanInputError
from tunebook.plans.reference import ResolvedTrial
from tunebook.storage.launches import verify_chain

if TYPE_CHECKING:
    from tunebook.analysis.compare import Comparison
    from tunebook.analysis.findings import Finding
    from tunebook.core.records import CodeVersion
    from tunebook.storage.base import Store

ENTRY_VERSION = 1
TEST_PREFIXES = ("test/", "test_")
FIRST_BASELINE = "first baseline: nothing to compare"


class LaunchError(TunebookError, ValueError):
    """The trial cannot be launched (not complete, already the baseline); the message says why."""


def current_baseline(store: "Store", line: str) -> LaunchRecord | None:
    """The newest launch of ``line`` after verifying its chain (BrokenChainError if it does not verify)."""
    records = store.list_launches(line)
    verify_chain(line, records)
    return records[-1] if records else None


def check_launchable(candidate: ResolvedTrial, previous: LaunchRecord | None) -> None:
    """LaunchError unless ``candidate`` is a complete trial with a value and not already the baseline."""
    trial = candidate.trial
    if trial.state.value != "complete" or trial.objective is None:
        what = trial.state.value if trial.state.value != "complete" else "complete but has no objective value"
        raise LaunchError(f"{candidate.canonical} is {what}; only a complete trial with an objective value "
                          "can become a baseline")
    if previous is not None and previous.entry.get("trial") == candidate.canonical:
        raise LaunchError(f"{candidate.canonical} is already the baseline of line {previous.line!r} "
                          f"(launch #{previous.seq})")


def launch_entry(store: "Store", candidate: ResolvedTrial, previous: LaunchRecord | None, *, note: str,
                 findings: "list[Finding]", compared: "Comparison | str", store_url: str,
                 seed_param: str = DEFAULT_SEED_PARAM) -> dict[str, Any]:
    """The entry that makes ``candidate`` the baseline after ``previous`` (None: the line's first launch).

    ``findings``: the experiment's checklist now; ``compared``: what
    ``compare_with_baseline`` returned. LaunchError as ``check_launchable``.
    """
    check_launchable(candidate, previous)
    trial, objective = candidate.trial, candidate.data.objective
    configuration = candidate.params
    return {
        "version": ENTRY_VERSION,
        "trial": candidate.canonical,
        "experiment": candidate.record.name,
        "objective": {"metric": objective.metric, "mode": objective.mode, "value": trial.objective,
                      "best_step": trial.best_step},
        "configuration": configuration,
        "previous": None if previous is None else {"seq": previous.seq, "trial": previous.entry.get("trial")},
        "change": None if previous is None else config_change(previous.entry.get("configuration", {}), configuration),
        "comparison": comparison_record(previous, compared),
        "retrain": retrain_values(store, candidate, seed_param),
        "test_metrics": metrics_on_test_set(store, candidate),
        "open_problems": open_problems(findings),
        "code_version": code_version(store, trial.code_version_id),
        "reproduce": rerun_command(candidate.record.name, f"{candidate.study}/{trial.number}", store_url),
        "note": note,
        "launched_by": _who(),
        "launched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def config_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """What changed from ``old`` to ``new``: ``added`` and ``removed`` {name: value}, ``changed`` {name: {old, new}}.

    Values compare exactly (a float that differs in its last bit changed),
    except that two NaNs are equal.
    """
    changed = {k: {"old": old[k], "new": new[k]} for k in new if k in old and not _same(old[k], new[k])}
    return {"added": {k: v for k, v in new.items() if k not in old},
            "removed": {k: v for k, v in old.items() if k not in new}, "changed": changed}


def compare_with_baseline(store: "Store", previous: LaunchRecord | None, candidate: ResolvedTrial,
                          min_effect: float = 0.0, seed_param: str = DEFAULT_SEED_PARAM) -> "Comparison | str":
    """``tunebook compare`` of the current baseline (``previous``'s trial) against ``candidate``.

    A string instead of a Comparison says why there is none: a first
    baseline (``FIRST_BASELINE``), a baseline trial no longer in the store,
    or sides judged by different objectives (the line's metric changed).
    """
    if previous is None:
        return FIRST_BASELINE
    from tunebook.plans.comparison import compare_refs

    try:
        return compare_refs(store, previous.entry["trial"], candidate.canonical, min_effect=min_effect,
                            seed_param=seed_param)
    except NotFoundError as exc:  # the baseline's trial was deleted from the store
        return f"the baseline's trial cannot be read: {exc}"
    except PlanInputError as exc:  # judged by another metric or mode: the numbers do not compare
        return f"the two cannot be compared: {exc}"


def comparison_record(previous: LaunchRecord | None, compared: "Comparison | str") -> dict[str, Any]:
    """The entry's ``comparison``: the baseline's trial, the decision (None: not compared), the headline,
    the reasons and warnings in words, and every number (``details``, ``Comparison.to_dict``)."""
    baseline = None if previous is None else previous.entry.get("trial")
    if isinstance(compared, str):
        return {"baseline": baseline, "decision": None, "headline": compared, "reasons": [], "warnings": []}
    return {"baseline": baseline, "decision": compared.decision, "headline": compared.headline,
            "reasons": list(compared.reasons), "warnings": list(compared.warnings), "details": compared.to_dict()}


def retrain_values(store: "Store", candidate: ResolvedTrial, seed_param: str) -> dict[str, Any]:
    """The candidate's repeats (itself included), each with its seed, state and objective value.

    ``seed`` is None for a program without the seed parameter (its repeats
    differ only by the program's own non-determinism).
    """
    group = repeats_of(candidate.data, candidate.trial.id, seed_param)
    trials = {t.id: t for t in store.list_trials(experiment_id=candidate.record.id)}
    runs = [{"trial": f"{candidate.record.name}/{candidate.data.trial_name(i)}",
             "seed": trials[i].plain_params.get(seed_param), "state": trials[i].state.value,
             "value": trials[i].objective} for i in group.trial_ids]
    return {"seed_param": seed_param, "runs": runs}


def metrics_on_test_set(store: "Store", candidate: ResolvedTrial) -> list[dict[str, Any]]:
    """Each ``test/...``/``test_...`` curve of the trial at its best step, or at the logged step nearest it.

    ``step`` is where the value was read; it differs from ``best_step`` when
    the test metric was not logged at the best step (e.g. only at the end).
    A NaN or infinite value is None (the entry stays strict JSON).
    """
    from tunebook.analysis.data import latest_points

    trial = candidate.trial
    curves = latest_points(store.load_curves(trial_ids=[trial.id]))
    found = []
    for metric in sorted({str(m) for m in curves["metric"].unique() if str(m).startswith(TEST_PREFIXES)}):
        points = curves[curves["metric"] == metric]
        steps, values = points["step"].to_numpy(), points["value"].to_numpy()
        at = int(abs(steps - trial.best_step).argmin()) if trial.best_step is not None else len(steps) - 1
        value = float(values[at])
        found.append({"metric": metric, "step": int(steps[at]), "value": value if math.isfinite(value) else None,
                      "best_step": trial.best_step})
    return found


def open_problems(findings: "list[Finding]") -> list[dict[str, Any]]:
    """The warning and problem findings, problems first, each by id with its first sentence and study."""
    rank = {Severity.PROBLEM: 0, Severity.WARNING: 1}
    kept = sorted((f for f in findings if f.severity in rank), key=lambda f: rank[f.severity])
    return [{"id": f.id, "severity": f.severity.value, "study": f.study, "summary": first_sentence(f.message)}
            for f in kept]


def code_version(store: "Store", code_version_id: int | None) -> dict[str, Any]:
    """What produced the trial: the stored code version's digest (which covers its diff), info and summary.

    ``recorded: False`` for a trial run before code versions were recorded,
    or imported from elsewhere.
    """
    if code_version_id is None:
        return {"recorded": False, "summary": code_line(None)}
    version = store.get_code_version(code_version_id)
    return {"recorded": True, "digest": version.digest, "info": dict(version.info),
            "summary": code_summary(version)}


def code_summary(version: "CodeVersion") -> str:
    """One line: ``core.provenance.code_line`` (commit, branch, dirty, and why a rerun would not be exact), then
    the software and host it ran on."""
    info = version.info
    python = info.get("python")
    packages = info.get("packages") or {}
    software = [f"{name} {value}" for name, value in (
        ("tunebook", info.get("tunebook")), ("python", python.get("version") if isinstance(python, Mapping) else python),
        ("torch", packages.get("torch")), ("host", info.get("host"))) if value]
    return code_line(version) + (f"; {', '.join(software)}" if software else "")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, bool) or isinstance(b, bool):  # True == 1 in Python, but flag: true is not flag: 1
        return type(a) is type(b) and a == b
    return a == b


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"
