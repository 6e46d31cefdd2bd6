"""The Experiment page: verdict and isolation result, checklist (problems first), plots, trials table.

The page itself is small and comes at once (the experiment, its notes and
its trials counted by state in the store); its parts arrive from the JSON
API so that an experiment of 50,000 trials opens in well under 2 s: the
trials table (``trials_table``, one page at a time), the judgement
(``/api/analysis``: verdict, best trial per scientific value, checklist, as
``tunebook report`` decides them) and the playbook's plots
(``/api/figures``: ``tunebook.report.figures``, the report's own data
functions in ``tunebook.plots``); those two are made in a worker process
(``judge.py``) so that they never stall the other pages. Until the
judgement is made those two answer 202 ("computing", and for how long) and
the page says so and asks again: no request is held open for it.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import HTMLResponse, Response

from tunebook.ui.params import required
from tunebook.ui.responses import page, plain_json

REPORT_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"


def experiment_page(request: Any) -> Any:
    """``/experiment?name=``: the page's frame, its notes and what the scripts fill in."""
    from tunebook.core.experiment import Experiment
    from tunebook.ui.notes import experiment_notes

    from tunebook.core.errors import TunebookError

    ui = request.app.state.ui
    name = required(request, "name")
    record = ui.store.get_experiment(name)
    counts = {state.value: n for state, n in ui.store.count_trials(record.id).items()}
    notes, latest = experiment_notes(ui.store, record)
    try:  # a spec this tunebook cannot read (a newer one's) still shows its page: the judgement says why
        objective, spec_error = Experiment.from_dict(record.spec).objective, None
    except TunebookError as exc:
        objective, spec_error = None, str(exc)
    return page(request, "experiment.html", title=name, name=name, goal=record.spec.get("goal", ""),
                objective=objective, spec_error=spec_error, notes=notes, latest_note=latest,
                n_trials=sum(counts.values()), counts=counts, source=record.source)


def analysis_api(request: Any) -> Any:
    """``/api/analysis?name=``: the verdict, the isolation result, the checklist (problems first), the code line.
    While the worker is still making it: 202 ``{"computing": true, "seconds": ...}`` (ask again); with
    ``wait=1`` the answer waits for it instead."""
    made = _judged(request)
    return made if not isinstance(made, dict) else plain_json(made["analysis"])


def figures_api(request: Any) -> Any:
    """``/api/figures?name=``: the report's figures as ``[{title, figure}]`` (plotly's JSON, drawn by plotly.js);
    202 while they are being made, as ``/api/analysis``."""
    made = _judged(request)
    return made if not isinstance(made, dict) else Response(made["figures"], media_type="application/json")


def _judged(request: Any) -> Any:
    """The judgement of the request's experiment, or the 202 answer saying it is being made."""
    ui = request.app.state.ui
    name = required(request, "name")
    if request.query_params.get("wait") in ("1", "true"):
        return ui.analysis(name)
    made = ui.analysis_when_ready(name)
    if made is None:
        return plain_json({"computing": True, "seconds": round(ui.judging_for(name), 1)}, 202)
    return made


def report_page(request: Any) -> Any:
    """``/report?name=``: the full static report (``tunebook report``'s HTML), served as it would be written."""
    from tunebook.ui.judge import report_html

    ui = request.app.state.ui
    name = required(request, "name")
    ui.store.get_experiment(name)
    return HTMLResponse(ui.in_worker(report_html, name), headers={"Content-Security-Policy": REPORT_CSP})
