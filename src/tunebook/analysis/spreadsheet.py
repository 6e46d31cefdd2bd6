"""The playbook's tracking spreadsheet as data: one row per study, read from a store.

``tunebook status`` prints these rows and ``tunebook ui`` shows them as its
Experiments page; both read them here. RUNNING trials whose heartbeat is older
than ``execution.base.STALE_AFTER_S`` (or whose process here is dead) are
counted stale: their runner is probably gone.
"""

from __future__ import annotations

import collections
from datetime import datetime, timezone
from typing import Any

from tunebook.core.provenance import code_line, rerun_command, versions_by_id, versions_line
from tunebook.core.records import trial_name
from tunebook.core.states import TrialState
from tunebook.execution.base import STALE_AFTER_S
from tunebook.execution.workers import dead_here
from tunebook.storage.url import command_url


def notes_of(store: Any, record: Any) -> list[dict[str, Any]]:
    """The spec's notes first (``at`` None), then every ``tunebook note``, oldest first."""
    notes = [{"at": None, "text": record.spec["notes"]}] if record.spec.get("notes") else []
    return notes + [{"at": n.created_at.isoformat(), "text": n.text} for n in store.list_notes(record.id)]


def study_rows(store: Any, record: Any) -> list[dict[str, Any]]:
    """One row per study of experiment ``record``: goal, notes, config, trials by state, the best trial, its
    code and reproduce command, and ``last_activity`` (the latest start, finish or heartbeat; None if none)."""
    spec = record.spec
    mode = spec.get("objective", {}).get("mode", "min")
    notes = notes_of(store, record)
    by_study = collections.defaultdict(list)
    all_trials = store.list_trials(experiment_id=record.id)
    for trial in all_trials:
        by_study[trial.study_id].append(trial)
    versions = versions_by_id(store.get_code_version, (t.code_version_id for t in all_trials))
    url = command_url(store.url)
    rerun_spec = f"tunebook run {record.source} --store {url}" if record.source else "-"
    now = datetime.now(timezone.utc)
    rows = []
    for study in store.list_studies(record.id):
        trials = by_study[study.id]
        counts = collections.Counter(t.state for t in trials)
        best = best_trial(trials, mode)
        stale = stale_trials(trials, now)
        rows.append({
            "experiment": record.name, "study": study.key, "goal": spec.get("goal", ""), "notes": notes,
            "config": record.source or "-",
            "trials": f"{sum(counts[s] for s in TrialState if s.is_finished)}/{study.budget}",
            "complete": counts[TrialState.COMPLETE], "infeasible": counts[TrialState.INFEASIBLE],
            "failed": counts[TrialState.FAILED], "running": counts[TrialState.RUNNING], "stale": len(stale),
            "best objective": best.objective if best else None,
            "best trial": f"{trial_name(study.key, best.number)} (step {best.best_step})" if best else None,
            "code": code_line(versions[best.code_version_id]) if best and best.code_version_id in versions else "",
            "reproduce": rerun_command(record.name, trial_name(study.key, best.number), url)
            if best and best.code_version_id in versions else rerun_spec,
            "mode": mode, "versions": versions_line((t.code_version_id for t in all_trials), versions),
            "stale_names": [trial_name(study.key, t.number) for t in stale],
            "stale_age": max(((now - (t.heartbeat_at or t.started_at)).total_seconds() for t in stale), default=0.0),
            "scientific": dict(study.scientific), "last_activity": last_activity(trials),
        })
    return rows


def last_activity(trials: list) -> datetime | None:
    """The latest start, finish or heartbeat of ``trials`` (None when none has started)."""
    times = [t for trial in trials for t in (trial.started_at, trial.finished_at, trial.heartbeat_at) if t]
    return max(times, default=None)


def stale_trials(trials: list, now: datetime) -> list:
    """RUNNING trials whose runner is gone: a dead process on this host, or silent
    (no heartbeat, else no start) for more than STALE_AFTER_S seconds."""
    return [
        t for t in trials if t.state is TrialState.RUNNING
        and (dead_here(t.worker) or (now - (t.heartbeat_at or t.started_at or now)).total_seconds() > STALE_AFTER_S)
    ]


def best_trial(trials: list, mode: str) -> Any:
    """The COMPLETE trial with the best objective (``mode``: min or max); None when none is scored."""
    scored = [t for t in trials if t.state is TrialState.COMPLETE and t.objective is not None]
    if not scored:
        return None
    pick = min if mode == "min" else max
    return pick(scored, key=lambda t: t.objective)
