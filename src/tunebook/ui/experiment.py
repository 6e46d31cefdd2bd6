"""The Experiment page: verdict and isolation result, checklist (problems first), plots, trials table.

The page itself is small and comes at once (the experiment, its notes and
its trials counted by state in the store); its parts arrive from the JSON
API so that an experiment of 50,000 trials opens in well under 2 s: the
trials table (``trials_table``, one page at a time), the judgement
(``/api/analysis``: verdict, best trial per scientific value, checklist, as
``tunebook report`` decides them) and the playbook's plots
(``/api/figures``: ``tunebook.report.figures``, the report's own data
functions in ``tunebook.plots``).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import HTMLResponse, Response

from tunebook.core.provenance import trials_code_line
from tunebook.ui.params import required
from tunebook.ui.responses import page, plain, plain_json

REPORT_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"


def experiment_page(request: Any) -> Any:
    """``/experiment?name=``: the page's frame, its notes and what the scripts fill in."""
    from tunebook.core.experiment import Experiment
    from tunebook.ui.notes import experiment_notes

    ui = request.app.state.ui
    name = required(request, "name")
    record = ui.store.get_experiment(name)
    counts = {state.value: n for state, n in ui.store.count_trials(record.id).items()}
    notes, latest = experiment_notes(ui.store, record)
    return page(request, "experiment.html", title=name, name=name, goal=record.spec.get("goal", ""),
                objective=Experiment.from_dict(record.spec).objective, notes=notes, latest_note=latest,
                n_trials=sum(counts.values()), counts=counts, source=record.source)


def best_rows(data: Any, best: Any) -> list[dict[str, Any]]:
    """The best trial per scientific value, named ``STUDY/NUMBER``: group, trial, objective, best step, count."""
    rows = []
    for record in best.to_dict(orient="records"):
        trial_id = record.get("trial_id")
        rows.append({"group": record.get("group"), "n_complete": record.get("n_complete"),
                     "trial": data.trial_name(trial_id) if trial_id == trial_id and trial_id is not None else None,
                     "objective": record.get("objective"), "best_step": record.get("best_step")})
    return rows


def analysis_api(request: Any) -> Any:
    """``/api/analysis?name=``: the verdict, the isolation result and the checklist (problems first)."""
    ui = request.app.state.ui
    result = ui.analysis(required(request, "name"))
    o = result.data.objective
    return plain_json({
        "verdict": result.verdict.to_dict(), "objective": {"metric": o.metric, "mode": o.mode, "reduce": o.reduce},
        "best": best_rows(result.data, result.best), "findings": [f.to_dict() for f in result.findings],
        "code": trials_code_line(result.data.trials["trial_id"], result.data.code_versions),
    })


def figures_api(request: Any) -> Any:
    """``/api/figures?name=``: the report's figures as ``[{title, figure}]`` (plotly's JSON, drawn by plotly.js)."""
    import plotly.io as pio

    from tunebook.report import figures

    ui = request.app.state.ui
    result = ui.analysis(required(request, "name"))
    isolation, others = figures(result.data)
    parts = [f'{{"title":{json.dumps(plain(title))},"figure":{pio.to_json(figure, validate=False)}}}'
             for title, figure in [*isolation, *others]]
    return Response("{\"figures\":[" + ",".join(parts) + "]}", media_type="application/json")


def report_page(request: Any) -> Any:
    """``/report?name=``: the full static report (``tunebook report``'s HTML), served as it would be written."""
    from tunebook.report import figures
    from tunebook.report.html import render_html

    ui = request.app.state.ui
    result = ui.analysis(required(request, "name"))
    isolation, others = figures(result.data)
    body = render_html(result.data, result.best, result.findings, isolation, others, result.verdict)
    return HTMLResponse(body, headers={"Content-Security-Policy": REPORT_CSP})
