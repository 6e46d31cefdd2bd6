"""One self-contained HTML report: opens offline, plotly bundled once, no CDN.

Order, as a reader needs it: the verdict (which value won, whether to trust
it, the commands to run next); the goal, roles and caveats; the isolation
result (the best trial per scientific value); the checklist; the plots; every
trial in a sortable table.
"""

from __future__ import annotations

import html
import math
from typing import Any, Sequence

from tunebook.analysis.data import ExperimentData
from tunebook.analysis.findings import Finding
from tunebook.report.plot_embed import SCRIPT as PLOT_SCRIPT
from tunebook.report.plot_embed import figure_html, plotly_js
from tunebook.report.trial_table import SCRIPT as TABLE_SCRIPT
from tunebook.report.trial_table import STYLE as TABLE_STYLE
from tunebook.report.trial_table import trials_section

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem} h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem} th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f6f6;cursor:pointer} .problem{color:#b00020;font-weight:600} .warning{color:#a15c00;font-weight:600} .info{color:#555}
.muted{color:#666} .plot{margin:1rem 0} code{background:#f4f4f4;padding:0 .2rem} ul.notes li{margin:.2rem 0}
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


def render_html(
    data: ExperimentData, best: Any, findings: Sequence[Finding],
    isolation: Sequence[tuple[str, Any]], figures: Sequence[tuple[str, Any]], verdict: Any,
    importance_section: str = "",
) -> str:
    """The report page. ``isolation`` and ``figures`` are (title, plotly Figure) pairs; ``verdict`` opens it;
    ``importance_section``: the importance tables' HTML (``report.importance_section``), after the checklist."""
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
        *(figure_html(title, figure) for title, figure in isolation),
        "<h2>Checklist</h2>",
        _findings(findings),
        importance_section,
        "<h2>Plots</h2>",
        *(figure_html(title, figure) for title, figure in figures),
        *_notes(data),
        "<h2>Trials</h2><p class='muted'>Click a column to sort; hover a cut cell for its full text. "
        "Fixed hyperparameters are the caveats above, not columns.</p>",
        trials_section(data),
    ]
    body = "\n".join(parts)
    # the scripts last, so the text is on screen before plotly.js is read; the plots then draw nearest first
    scripts = f"<script>{TABLE_SCRIPT}</script>" + (f"{plotly_js()}<script>{PLOT_SCRIPT}</script>"
                                                    if isolation or figures else "")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(experiment.name)} — tunebook report</title>"
            f"<style>{_STYLE}{_VERDICT_STYLE}{TABLE_STYLE}</style></head><body>{body}{scripts}</body></html>")


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


def _code_line(data: ExperimentData) -> str:
    """The code the trials ran on, in one line (``core.provenance.versions_line``); '' when none is recorded."""
    from tunebook.core.provenance import trials_code_line

    text = trials_code_line(data.trials["trial_id"], data.code_versions)
    return f"<p><b>Code:</b> {_e(text)}</p>" if text else ""


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)
