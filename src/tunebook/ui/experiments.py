"""The Experiments page: the playbook's tracking spreadsheet, one row per experiment.

Per experiment: its goal, notes, config (the spec, viewable), trials by state,
the best objective (each study's best COMPLETE trial, the retrospective pick
``tunebook status`` shows), the scientific values its studies compare, its
launches (launch log entries naming it), its last activity and a link to its
full report. Rows come from ``analysis.spreadsheet.study_rows``, as ``tunebook
status`` prints them; sorting and filtering happen in the page (a store holds
tens of experiments, not thousands).
"""

from __future__ import annotations

import json
from typing import Any

from tunebook.analysis.spreadsheet import study_rows
from tunebook.ui.responses import page, plain_json

STATES = ("complete", "infeasible", "failed", "running", "stale")


def experiment_row(rows: list[dict[str, Any]], launches: int) -> dict[str, Any]:
    """One experiment's spreadsheet row from its studies' rows (``study_rows``)."""
    first = rows[0]
    scored = [r for r in rows if r["best objective"] is not None]
    pick = min if first["mode"] == "min" else max
    best = pick(scored, key=lambda r: r["best objective"]) if scored else None
    activity = [r["last_activity"] for r in rows if r["last_activity"]]
    return {
        "experiment": first["experiment"], "goal": first["goal"], "notes": [n["text"] for n in first["notes"]],
        "config": first["config"], "studies": [r["study"] for r in rows],
        **{state: sum(r[state] for r in rows) for state in STATES},
        "trials": sum(int(r["trials"].split("/")[0]) for r in rows),
        "budget": sum(int(r["trials"].split("/")[1]) for r in rows),
        "best_objective": best["best objective"] if best else None,
        "best_trial": best["best trial"] if best else None, "mode": first["mode"],
        "launches": launches, "last_activity": max(activity).isoformat() if activity else None,
        "reproduce": best["reproduce"] if best else first["reproduce"],
    }


def spreadsheet(store: Any) -> list[dict[str, Any]]:
    """Every experiment's row, oldest experiment first (experiments without studies have counts of 0)."""
    launches = _launch_counts(store)
    out = []
    for record in store.list_experiments():
        rows = study_rows(store, record)
        if rows:
            out.append(experiment_row(rows, launches.get(record.name, 0)))
        else:
            out.append({"experiment": record.name, "goal": record.spec.get("goal", ""), "notes": [],
                        "config": record.source or "-", "studies": [], **dict.fromkeys(STATES, 0), "trials": 0,
                        "budget": 0, "best_objective": None, "best_trial": None, "mode": "min",
                        "launches": launches.get(record.name, 0), "last_activity": None, "reproduce": "-"})
    return out


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
