"""The report: the verdict, the isolation result, the checklist and the playbook's plots, in one HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunebook.analysis.data import ExperimentData

__all__ = ["figures", "write_html_report"]


def figures(data: ExperimentData) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """(isolation figures, the other figures) as (title, plotly Figure) pairs, in reading order."""
    from tunebook import plots

    isolation = [(f"Isolation plot: {i.param}", plots.render_isolation(i)) for i in plots.get_isolation_infos(data)]
    others: list[tuple[str, Any]] = [("Training curves (the best few per scientific value highlighted)",
                                      plots.render_curves(plots.get_curves_info(data)))]
    others += [(f"Axis plot: {a.param}", plots.render_axis(a)) for a in plots.get_axis_infos(data)]
    others.append(("Best of k trials, bootstrapped (have we sampled enough?)",
                   plots.render_bootstrap(plots.get_bootstrap_info(data))))
    others.append(("Retrospective best steps", plots.render_best_step(plots.get_best_step_info(data))))
    grad = plots.get_grad_norm_info(data)
    if grad is not None:
        others.append(("Gradient norms and the p90 clipping threshold", plots.render_grad_norm(grad)))
    return isolation, others


def write_html_report(
    data: ExperimentData, out_dir: Path, findings: list | None = None, best: Any = None, verdict: Any = None,
    importance: Any = None,
) -> Path:
    """Write ``out_dir/<experiment>.html`` and return its path.

    ``findings`` (``run_checklist``), ``best`` (``best_per_scientific_value``)
    and ``verdict`` (``analysis.verdict.decide``) are computed here unless the
    caller already has them; a verdict made here knows no store or spec, so
    its commands name neither (the caller's ``decide(..., store, spec)`` does).
    ``importance`` (``analysis.importance.importance``): its section and bar chart, when given.
    """
    from tunebook.analysis.best import best_per_scientific_value
    from tunebook.analysis.checklist import run_checklist
    from tunebook.analysis.verdict import decide
    from tunebook.report.html import render_html

    findings = run_checklist(data) if findings is None else findings
    best = best_per_scientific_value(data) if best is None else best
    verdict = decide(data, findings) if verdict is None else verdict
    isolation, others = figures(data)
    section = ""
    if importance is not None:
        from tunebook import plots
        from tunebook.report.importance_section import importance_html
        from tunebook.report.plot_embed import figure_html

        chart = plots.get_importance_info(importance)
        section = importance_html(importance) + (
            figure_html("Importance: share of variance with 90 % intervals", plots.render_importance(chart))
            if chart.bars else "")
    page = render_html(data, best, findings, isolation, others, verdict, importance_section=section)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{data.experiment.name}.html"
    path.write_text(page, encoding="utf-8")
    return path
