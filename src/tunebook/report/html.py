"""One self-contained HTML report: opens offline, plotly bundled once, no CDN.

Order, as a reader needs it: the verdict (which value won, whether to trust
it, the commands to run next); the goal, roles and caveats; the isolation
result (the best trial per scientific value); the checklist; the plots; every
trial in a sortable table.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any, Callable, Sequence

from tunebook.analysis.data import ExperimentData
from tunebook.analysis.findings import Finding

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem} h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem} th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f6f6;cursor:pointer} .problem{color:#b00020;font-weight:600} .warning{color:#a15c00;font-weight:600} .info{color:#555}
.muted{color:#666} .plot{margin:1rem 0} code{background:#f4f4f4;padding:0 .2rem}
.fit{max-width:100%;overflow-x:auto} table.trials{width:100%;font-size:.82rem}
table.trials td,table.trials th{white-space:nowrap;padding:.25rem .4rem} table.trials th small{font-weight:400;color:#666}
table.trials .num{text-align:right;font-variant-numeric:tabular-nums}
.cut{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:8rem}
table.trials .rest{width:100%;max-width:0;min-width:10rem} .cut.reason{max-width:none}
tr.infeasible td,tr.failed td{background:#fff6f5} ul.notes li{margin:.2rem 0}
"""

_VERDICT_STYLE = """
.verdict{margin:1.2rem 0 1.6rem;padding:1rem 1.3rem;border-left:8px solid #a15c00;background:#fff8ec;border-radius:4px}
.verdict.supported{border-left-color:#1b7f3b;background:#eef8f0}
.verdict .label{text-transform:uppercase;letter-spacing:.08em;font-size:.75rem;color:#666;margin:0}
.verdict .headline{font-size:1.45rem;font-weight:700;margin:.2rem 0 .6rem}
.verdict .text{font-size:1.02rem;line-height:1.5;margin:.4rem 0}
.verdict ol{margin:.3rem 0 0;padding-left:1.3rem} .verdict li{margin:.35rem 0}
.verdict pre{margin:.25rem 0 0;padding:.35rem .6rem;background:#f4f4f4;border:1px solid #ddd;border-radius:3px;overflow-x:auto;white-space:pre}
.verdict pre code{background:none;padding:0}
"""

_SORT = """
document.querySelectorAll('table.sortable th').forEach(function(th, i){th.addEventListener('click', function(){
 var table=th.closest('table'), body=table.tBodies[0], rows=Array.from(body.rows), asc=th.dataset.asc!=='1';
 rows.sort(function(a,b){var x=a.cells[i].dataset.v||a.cells[i].textContent, y=b.cells[i].dataset.v||b.cells[i].textContent;
  var nx=parseFloat(x), ny=parseFloat(y); var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y); return asc?c:-c;});
 rows.forEach(function(r){body.appendChild(r)}); table.querySelectorAll('th').forEach(function(h){h.dataset.asc=''}); th.dataset.asc=asc?'1':'0';});});
"""


def render_html(
    data: ExperimentData, best: Any, findings: Sequence[Finding],
    isolation: Sequence[tuple[str, Any]], figures: Sequence[tuple[str, Any]], verdict: Any,
) -> str:
    """The report page. ``isolation`` and ``figures`` are (title, plotly Figure) pairs; ``verdict`` opens it."""
    experiment = data.experiment
    parts = [
        f"<h1>{_e(experiment.name)}</h1>",
        f"<p><b>Goal:</b> {_e(experiment.goal or '(none given)')}</p>",
        _code_line(data),
        _verdict(verdict),
        _roles(data),
        "<h2>Isolation result: the best trial per scientific value</h2>",
        _objective_line(data),
        _best_table(data, best),
        *(_figure(title, figure, i == 0) for i, (title, figure) in enumerate(isolation)),
        "<h2>Checklist</h2>",
        _findings(findings),
        "<h2>Plots</h2>",
        *(_figure(title, figure, not isolation and i == 0) for i, (title, figure) in enumerate(figures)),
        *_notes(data),
        "<h2>Trials</h2><p class='muted'>Click a column to sort; hover a cut cell for its full text. "
        "Fixed hyperparameters are the caveats above, not columns.</p>",
        _trials_table(data),
    ]
    body = "\n".join(parts)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(experiment.name)} — tunebook report</title>"
            f"<style>{_STYLE}{_VERDICT_STYLE}</style></head><body>{body}<script>{_SORT}</script></body></html>")


def _verdict(verdict: Any) -> str:
    """The verdict box: headline, paragraph, and the next steps with their commands (unbroken, to copy)."""
    steps = "".join(
        f"<li>{_e(step.what)}" + (f"<pre><code>{_e(step.command)}</code></pre>" if step.command else "") + "</li>"
        for step in verdict.next_steps
    )
    kind = "supported" if verdict.supported else "unsupported"
    return (f"<section class='verdict {kind}' id='verdict' data-case='{_e(verdict.case)}'>"
            f"<p class='label'>Verdict</p><p class='headline'>{_e(verdict.headline)}</p>"
            f"<p class='text'>{_e(verdict.text)}</p>"
            + (f"<p><b>Next</b></p><ol>{steps}</ol>" if steps else "") + "</section>")


def _best_table(data: ExperimentData, best: Any) -> str:
    """The isolation result: one row per scientific value, its best trial named ``STUDY/NUMBER``."""
    if not len(best):
        return "<p class='muted'>No complete trial yet.</p>"
    head = "".join(f"<th>{h}</th>" for h in ("scientific value", "best trial", "objective", "best step",
                                             "complete trials"))
    rows = "".join(
        f"<tr><td>{_e(r['group'])}</td><td>{_e(data.trial_name(r['trial_id']))}</td>"
        f"<td>{_e(_number(r['objective']))}</td><td>{_e(_number(r['best_step']))}</td>"
        f"<td>{_e(r['n_complete'])}</td></tr>"
        for r in best.to_dict("records")
    )
    return f"<table class='best'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.4g}" if isinstance(value, float) and not float(value).is_integer() else f"{value:g}"


def _roles(data: ExperimentData) -> str:
    rows = []
    for role in ("scientific", "nuisance", "fixed"):
        params = data.experiment.space.with_role(role)
        if params:
            text = ", ".join(f"<code>{_e(hp.id)}</code> {_e(hp.domain.describe())}" for hp in params)
            rows.append(f"<li><b>{role}</b>: {text}</li>")
    caveat = "<p class='muted'>Fixed hyperparameters are caveats: the conclusion holds for their values only.</p>"
    return "<ul>" + "".join(rows) + "</ul>" + caveat


def _objective_line(data: ExperimentData) -> str:
    o = data.objective
    return f"<p>Objective: <code>{_e(o.metric)}</code>, {o.mode}imized, {o.reduce} value over training.</p>"


def _findings(findings: Sequence[Finding]) -> str:
    if not findings:
        return "<p>No findings.</p>"
    rows = "".join(
        f"<tr><td class='{f.severity.value}'>{f.severity.value}</td><td>{_e(f.id)}</td><td>{_e(f.study or '')}</td>"
        f"<td>{_e(f.message)}</td><td>{_e(f.action)}<br><span class='muted'>{_e(f.section)}</span></td></tr>"
        for f in findings
    )
    return ("<table><thead><tr><th>severity</th><th>check</th><th>study</th><th>finding</th><th>what to do</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


def _figure(title: str, figure: Any, first: bool) -> str:
    plot = figure.to_html(full_html=False, include_plotlyjs=_plotly_js() if first else False)
    return f"<h3>{_e(title)}</h3><div class='plot'>{plot}</div>"


def _plotly_js() -> str:
    """plotly.js itself, inlined once, so the page opens offline."""
    from plotly.offline import get_plotlyjs

    return f"<script>{get_plotlyjs()}</script>"


def _notes(data: ExperimentData) -> list[str]:
    """A small Notes section: the spec's notes, then each ``tunebook note`` with its date (none: nothing)."""
    notes = getattr(data, "notes", ())
    if not notes:
        return []
    items = "".join(
        f"<li><span class='muted'>{_e(f'{at:%Y-%m-%d %H:%M} UTC' if at else 'spec')}</span> {_e(text)}</li>"
        for at, text in notes
    )
    return ["<h2>Notes</h2>", f"<ul class='notes'>{items}</ul>"]


def _trial_columns(data: ExperimentData) -> list[str]:
    """Scientific then nuisance hyperparameters, in the space's order (fixed ones are caveats, not columns)."""
    return [hp.id for role in ("scientific", "nuisance") for hp in data.experiment.space.with_role(role)
            if hp.id in data.trials.columns]


def _trials_table(data: ExperimentData) -> str:
    """Every trial, named STUDY/NUMBER, as one sortable table that fits the page.

    Long cells are cut with an ellipsis and carry their full text as a
    tooltip; durations read with units and sort by seconds.
    """
    from tunebook.core.readable import format_duration, reason_line

    if data.trials.empty:
        return "<p class='muted'>None yet.</p>"
    params = _trial_columns(data)
    code = _code_cells(data)
    head = "".join(_header(c) for c in ["trial", *params, "state", "objective", "best step", "duration",
                                          *(["code"] if code else []), "reason"])
    trials = data.trials
    column = {c: trials[c].tolist() for c in ("trial_id", "state", "objective", "best_step", "duration", "reason")}
    states = [_e(state) for state in column["state"]]
    cells = [  # one list of cells per column, formatted column by column
        [f"<td>{_e(data.trial_name(t))}</td>" for t in column["trial_id"]],
        *(_column_cells(_param_cell, trials[p].tolist()) for p in params),
        [f"<td>{state}</td>" for state in states],
        _column_cells(_param_cell, column["objective"]), _column_cells(_step_cell, column["best_step"]),
        _column_cells(lambda d: _number_cell(d, format_duration(d)), column["duration"]),
        *([code] if code else []),
        _column_cells(lambda r: _text_cell(reason_line(r), r, "reason"), column["reason"]),
    ]
    rows = [f"<tr class='{state}'>{''.join(row)}</tr>" for state, *row in zip(states, *cells)]
    return (f"<div class='fit'><table class='sortable trials'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _code_line(data: ExperimentData) -> str:
    """The code the trials ran on, in one line (``core.provenance.versions_line``); '' when none is recorded."""
    from tunebook.core.provenance import trials_code_line

    text = trials_code_line(data.trials["trial_id"], data.code_versions)
    return f"<p><b>Code:</b> {_e(text)}</p>" if text else ""


def _code_cells(data: ExperimentData) -> list[str]:
    """The code column's cells (short commit, dirty, not exact; the full line as tooltip), or [] when every trial
    ran on the same code version: then the line under the goal says it once."""
    from tunebook.core.provenance import code_cell, code_line

    versions = [data.code_versions.get(int(t)) for t in data.trials["trial_id"]]
    if len({v.id if v else None for v in versions}) < 2:
        return []
    made = {v.id: _text_cell(code_cell(v), code_line(v)) for v in data.code_versions.values()}
    return [made[v.id] if v else _text_cell(code_cell(None), code_line(None)) for v in versions]


def _column_cells(cell: Callable[[Any], str], values: list) -> list[str]:
    """``cell(value)`` for each value of a column, computed once per distinct value of one type (a float
    zero each time: 0.0 == -0.0, but their cells differ; an unhashable value each time)."""
    made: dict[tuple[type, Any], str] = {}
    out = []
    for value in values:
        if type(value) is float and value == 0.0 or getattr(value, "__hash__", None) is None:
            out.append(cell(value))
            continue
        key = (type(value), value)
        text = made.get(key)
        if text is None:
            text = made[key] = cell(value)
        out.append(text)
    return out


def _header(column: str) -> str:
    """A column header; a branch's id (``beta1[optimizer=adam]``) on two lines, its condition small."""
    name, _, branch = column.partition("[")
    below = f"<br><small>{_e(branch.rstrip(']'))}</small>" if branch else ""
    rest = " class='rest'" if column == "reason" else ""  # the reason column takes the width the others leave
    return f"<th{rest} title='{_e(column)}'><div class='cut'>{_e(name)}{below}</div></th>"


def _param_cell(value: Any) -> str:
    """A hyperparameter value or objective: numbers right-aligned (4 significant digits), text cut to fit."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "dtype"):
        text = "" if value is None else str(value)
        return _text_cell(text, text) if text else "<td data-v=''>-</td>"
    number = float(value)
    whole = number.is_integer() and abs(number) < 1e6
    return _number_cell(value, str(int(number)) if whole else f"{number:.4g}")


def _step_cell(value: Any) -> str:
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return _number_cell(None if missing else value, "" if missing else str(int(value)))


def _number_cell(value: Any, text: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "<td class='num' data-v=''>-</td>"
    return f"<td class='num' data-v='{float(value)!r}'>{_e(text)}</td>"


def _text_cell(text: str, full: Any, kind: str = "") -> str:
    """A cell cut to its column's width, the full text in its tooltip."""
    if not text:
        return "<td data-v=''></td>"
    if len(text) <= 12 and text == full:  # short enough for any column: no cut, no tooltip
        return f"<td>{_e(text)}</td>"
    title = _e(full if isinstance(full, str) and full else text)
    rest = " class='rest'" if kind == "reason" else ""  # the reason takes the width the others leave
    return f"<td{rest} data-v='{_e(text)}'><div class='cut {kind}' title='{title}'>{_e(text)}</div></td>"


def _table(rows: list[dict[str, Any]], columns: list[str] | None, sortable: bool = False) -> str:
    if not rows:
        return "<p class='muted'>None yet.</p>"
    columns = columns or list(rows[0])
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(r.get(c)) for c in columns) + "</tr>" for r in rows)
    css = " class='sortable'" if sortable else ""
    return f"<table{css}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "<td data-v=''>-</td>"
    if isinstance(value, float):
        return f"<td data-v='{value!r}'>{value:.4g}</td>"
    if isinstance(value, (dict, list)):
        return f"<td>{_e(json.dumps(value))}</td>"
    return f"<td>{_e(str(value).splitlines()[0] if str(value) else '')}</td>"


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)
