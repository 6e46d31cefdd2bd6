"""The Experiments page: the playbook's tracking spreadsheet, one row per experiment.

Per experiment: its goal, notes, config (the spec, viewable), trials by state,
the best objective (each study's best COMPLETE trial, the retrospective pick
``tunebook status`` shows), the scientific values its studies compare, its
launches (launch log entries naming it), its last activity and a link to its
full report. The counts, best trials and last activity are aggregated by the
store (``Store.summarize_studies``: GROUP BY and one ``ORDER BY objective
LIMIT 1`` per study), so a store of 50,000 trials is not read whole; only
RUNNING trials are read, to count the stale ones as ``tunebook status`` does
(``analysis.spreadsheet.stale_trials``). Sorting and filtering happen in the
page (a store holds tens of experiments, not thousands).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from tunebook.analysis.spreadsheet import notes_of, stale_trials
from tunebook.core.provenance import rerun_command
from tunebook.core.records import trial_name
from tunebook.core.states import TrialState
from tunebook.storage.url import command_url
from tunebook.ui.responses import page, plain_json

STATES = ("complete", "infeasible", "failed", "running", "stale")


def experiment_row(store: Any, record: Any, launches: int) -> dict[str, Any]:
    """One experiment's spreadsheet row, from its studies' summaries (``Store.summarize_studies``)."""
    mode = record.spec.get("objective", {}).get("mode", "min")
    studies = store.list_studies(record.id)
    summaries = store.summarize_studies(record.id, mode)
    now = datetime.now(timezone.utc)
    counts = dict.fromkeys(STATES, 0)
    best, activity = None, []
    for study in studies:
        summary = summaries[study.id]
        for state, n in summary.counts.items():
            counts[state.value] = counts.get(state.value, 0) + n
        counts["stale"] += len(stale_trials(summary.running, now))
        activity += [summary.last_activity] if summary.last_activity else []
        if summary.best is not None and (best is None or _better(summary.best.objective, best[1].objective, mode)):
            best = (study.key, summary.best)
    finished = sum(n for state, n in counts.items() if state in {s.value for s in TrialState if s.is_finished})
    return {
        "experiment": record.name, "goal": record.spec.get("goal", ""),
        "notes": [n["text"] for n in notes_of(store, record)], "config": record.source or "-",
        "studies": [s.key for s in studies], **{state: counts[state] for state in STATES},
        "trials": finished, "budget": sum(s.budget for s in studies),
        "best_objective": best[1].objective if best else None,
        "best_trial": f"{trial_name(best[0], best[1].number)} (step {best[1].best_step})" if best else None,
        "mode": mode, "launches": launches, "last_activity": max(activity).isoformat() if activity else None,
        "reproduce": _reproduce(store, record, best),
    }


def _better(objective: float, than: float, mode: str) -> bool:
    return objective < than if mode == "min" else objective > than


def _reproduce(store: Any, record: Any, best: tuple[str, Any] | None) -> str:
    """The command that reruns the best trial (when its code was recorded), else the spec's run command."""
    url = command_url(store.url)
    if best is not None and best[1].code_version_id is not None:
        return rerun_command(record.name, trial_name(best[0], best[1].number), url)
    return f"tunebook run {record.source} --store {url}" if record.source else "-"


def spreadsheet(store: Any) -> list[dict[str, Any]]:
    """Every experiment's row, oldest experiment first (experiments without studies have counts of 0)."""
    launches = _launch_counts(store)
    return [experiment_row(store, record, launches.get(record.name, 0)) for record in store.list_experiments()]


def _launch_counts(store: Any) -> dict[str, int]:
    """Experiment name -> how many launch log entries name it (every line)."""
    counts: dict[str, int] = {}
    for line in store.launch_lines():
        for launch in store.list_launches(line):
            name = (launch.entry or {}).get("experiment")
            if isinstance(name, str):
                counts[name] = counts.get(name, 0) + 1
    return counts


def experiments_page(request: Any) -> Any:
    """``/``: the spreadsheet, its rows embedded as JSON for the page's script (sorted and filtered there)."""
    return page(request, "experiments.html", title="Experiments", rows=request.app.state.ui.spreadsheet())


def experiments_api(request: Any) -> Any:
    """``/api/experiments``: the same rows as JSON."""
    return plain_json({"experiments": request.app.state.ui.spreadsheet()})


def spec_page(request: Any) -> Any:
    """``/spec?name=``: an experiment's spec as stored, and the file it was run from."""
    from tunebook.ui.params import required

    record = request.app.state.ui.store.get_experiment(required(request, "name"))
    return page(request, "spec.html", title=f"{record.name}: config", name=record.name, source=record.source,
                spec=json.dumps(record.spec, indent=2, sort_keys=False, default=str))
