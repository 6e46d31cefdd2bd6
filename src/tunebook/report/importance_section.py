"""The importance section of the report, as text lines and as HTML: one table per region, pairs below.

Every share is printed with its 90 % interval and verdict, so a reader can
tell a real ranking from noise; the rule is printed once under the tables.
"""

from __future__ import annotations

import html
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tunebook.analysis.importance import Importance, RegionImportance, Share

PAIRS_SHOWN = 5  # the largest interactions per region; --format json holds every pair

__all__ = ["importance_html", "importance_lines", "region_title", "subsample_note"]


def region_title(imp: "Importance", region: "RegionImportance") -> str:
    if region.region == "all":
        return f"Over all {region.trials} complete trials"
    if region.region == "top":
        return f"In the good region: the best {imp.top_share:.0%} ({region.trials} trials), over the box they span"
    return f"Feasibility: which hyperparameters decide divergence ({region.trials} finished trials)"


def subsample_note(region: "RegionImportance") -> str | None:
    """Says when the region's forests were fitted on a subsample of its trials (``analysis.importance``)."""
    if not region.subsampled:
        return None
    return (f"fitted on a stratified subsample of {region.fitted:,} of its {region.trials:,} trials (per study"
            + (" and outcome" if region.region == "feasibility" else "") + ", weighted back, fixed seed)")


def _row(share: "Share") -> str:
    return f"  {share.name:<28} {share.estimate:6.1%}  [{share.low:6.1%}, {share.high:6.1%}]  {share.verdict}"


def importance_lines(imp: "Importance", width: int = 80) -> list[str]:
    """The section as plain text lines, none wider than ``width`` (long sentences wrapped, indented)."""
    return [part for line in _lines(imp) for part in (textwrap.wrap(line, width, subsequent_indent="    ",
                                                                     break_on_hyphens=False) or [""])]


def _lines(imp: "Importance") -> list[str]:
    lines = [f"Importance: {imp.experiment}, objective {imp.objective}", "(share of variance, 90 % interval)"]
    for region in imp.regions:
        lines += ["", region_title(imp, region)]
        if region.too_few is not None:
            lines.append(f"  {region.too_few}")
            continue
        note = subsample_note(region)
        lines += [f"  {note}"] if note else []
        lines.append(f"  {'hyperparameter':<28} {'share':>6}  {'90 % interval':^18}  verdict")
        lines += [_row(s) for s in region.params]
        if region.pairs:
            lines.append("  interactions:")
            lines += [_row(s) for s in region.pairs[:PAIRS_SHOWN]]
    lines += ["", f"Re-tune together: {retune_together(imp)}"]
    lines.append(f"rule: {imp.rule()}")
    return lines


def retune_together(imp: "Importance") -> str:
    """The pairs to re-tune together; "too few trials to tell" when no region that measures pairs was judged."""
    together = imp.interacting()
    if together:
        return ", ".join(s.name for s in together)
    if imp.all.too_few is not None and imp.top.too_few is not None:
        return "too few trials to tell"
    return "no pair interacts beyond the rule"


def _table(shares: "tuple[Share, ...]", header: str) -> str:
    rows = "".join(
        f"<tr class='imp-{s.verdict}'><td>{html.escape(s.name)}</td><td>{s.estimate:.1%}</td>"
        f"<td>[{s.low:.1%}, {s.high:.1%}]</td><td>{s.verdict}</td></tr>" for s in shares)
    return (f"<table class='importance'><tr><th>{header}</th><th>share of variance</th><th>90 % interval</th>"
            f"<th>verdict</th></tr>{rows}</table>")


def importance_html(imp: "Importance") -> str:
    """The section's HTML (no plot): a table per region, its largest interactions, the rule."""
    parts = ["<h2 id='importance'>Importance: what mattered, what interacts</h2>"]
    for region in imp.regions:
        parts.append(f"<h3>{html.escape(region_title(imp, region))}</h3>")
        if region.too_few is not None:
            parts.append(f"<p class='muted'>{html.escape(region.too_few)}</p>")
            continue
        note = subsample_note(region)
        parts += [f"<p class='muted'>{html.escape(note[0].upper() + note[1:])}.</p>"] if note else []
        parts.append(_table(region.params, "hyperparameter"))
        if region.pairs:
            parts.append(_table(region.pairs[:PAIRS_SHOWN], "pair (interaction)"))
    parts.append(f"<p><b>Re-tune together:</b> {html.escape(retune_together(imp))}</p>")
    parts.append(f"<p class='muted'>Rule: {html.escape(imp.rule())}. Next: <code>tunebook plan next "
                 f"{html.escape(imp.experiment)}</code>.</p>")
    return "\n".join(parts)
