"""The Experiment page's judgement, made in a worker process: checklist, verdict, isolation result, plots.

The checklist and the plots of a 50,000-trial experiment take many seconds
of pure-Python work. Inside the server they would hold the interpreter lock
and stall every other page and poll meanwhile; in a worker process (one,
started with ``spawn``, so nothing of the server's threads is inherited)
they do not. The worker opens the store by URL and reads it itself, as
``tunebook report`` does; it returns plain JSON-ready data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def judge(url: str, name: str, runs: str, label: str) -> dict[str, Any]:
    """``{"analysis": {...}, "figures": JSON text}`` of experiment ``name`` in the store at ``url``."""
    import plotly.io as pio

    from tunebook.core.provenance import trials_code_line
    from tunebook.report import figures
    from tunebook.storage import open_store
    from tunebook.ui.responses import plain

    with open_store(url) as store:
        data, findings, best, verdict = _analyse(store, name, runs, label)
    o = data.objective
    analysis = plain({
        "verdict": verdict.to_dict(), "objective": {"metric": o.metric, "mode": o.mode, "reduce": o.reduce},
        "best": best_rows(data, best), "findings": [f.to_dict() for f in findings],
        "code": trials_code_line(data.trials["trial_id"], data.code_versions),
    })
    isolation, others = figures(data)
    parts = [f'{{"title":{json.dumps(title)},"figure":{pio.to_json(figure, validate=False)}}}'
             for title, figure in [*isolation, *others]]
    return {"analysis": analysis, "figures": "{\"figures\":[" + ",".join(parts) + "]}"}


def report_html(url: str, name: str, runs: str, label: str) -> str:
    """``tunebook report``'s HTML page of experiment ``name``."""
    from tunebook.report import figures
    from tunebook.report.html import render_html
    from tunebook.storage import open_store

    with open_store(url) as store:
        data, findings, best, verdict = _analyse(store, name, runs, label)
    isolation, others = figures(data)
    return render_html(data, best, findings, isolation, others, verdict)


def _analyse(store: Any, name: str, runs: str, label: str) -> tuple[Any, list, Any, Any]:
    from tunebook.analysis import load
    from tunebook.analysis.best import best_per_scientific_value
    from tunebook.analysis.checklist import metrics_read, run_checklist
    from tunebook.analysis.verdict import decide
    from tunebook.core.experiment import Experiment

    record = store.get_experiment(name)
    data = load(name, store, metrics=metrics_read(Experiment.from_dict(record.spec).objective.metric))
    findings = run_checklist(data)
    source = record.source if record.source and Path(record.source).is_file() else None
    verdict = decide(data, findings, store=label, spec=source, runs=runs)
    return data, findings, best_per_scientific_value(data), verdict


def best_rows(data: Any, best: Any) -> list[dict[str, Any]]:
    """The best trial per scientific value, named ``STUDY/NUMBER``: group, trial, objective, best step, count."""
    rows = []
    for record in best.to_dict(orient="records"):
        trial_id = record.get("trial_id")
        known = trial_id is not None and trial_id == trial_id  # NaN: no complete trial
        rows.append({"group": record.get("group"), "n_complete": record.get("n_complete"),
                     "trial": data.trial_name(trial_id) if known else None,
                     "objective": record.get("objective"), "best_step": record.get("best_step")})
    return rows
