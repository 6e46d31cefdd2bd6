"""``tunebook compare BASELINE CANDIDATE``: adopt, keep the baseline, or not enough evidence, with the numbers.

The text layout fits one screen: the verdict, one row per side, each seed's
value, the effect with its intervals, study variance, why, and the commands
to reproduce the comparison or gather more evidence. ``--format json`` holds
every number (``Comparison.to_dict``). The exit status is 0 whatever the
verdict (it is an answer); bad input exits 1 with a message.
"""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING, Any

import click

from tunebook.cli.options import store_option
from tunebook.cli.render import cell_text

if TYPE_CHECKING:
    from rich.console import Console

    from tunebook.analysis.compare import Comparison

__all__ = ["compare_command", "comparison_text", "print_comparison"]

SEED_ROWS = 12  # the seeds table's rows on screen; --format json holds every seed
STYLE = {"adopt": "bold green", "keep baseline": "bold red", "not enough evidence": "bold yellow"}


@click.command("compare")
@click.argument("baseline")
@click.argument("candidate")
@click.option("--min-effect", type=float, default=0.0, show_default=True, metavar="X",
              help="The smallest improvement worth adopting, in the metric's units: the playbook's \"improvements "
                   "that outweigh any complexity they add\".")
@click.option("--seed-param", default="seed", show_default=True, metavar="NAME",
              help="The hyperparameter that differs between repeats of one configuration.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@store_option
def compare_command(baseline: str, candidate: str, min_effect: float, seed_param: str, fmt: str,
                    store_url: str | None) -> None:
    """Does CANDIDATE beat BASELINE beyond trial variance? Adopt, keep the baseline, or not enough evidence.

    Each side is a TRIAL reference: EXPERIMENT/STUDY/NUMBER (that trial's configuration: every trial of its
    experiment with the same params apart from the seed, itself included), EXPERIMENT (its best trial and that
    trial's repeats) or EXPERIMENT/STUDY (the study's best trial and its repeats). Diverged or failed repeats
    count as the worst outcome. Exit status 0 whatever the verdict.
    """
    from tunebook.cli.options import open_cli_store
    from tunebook.plans.comparison import compare_refs

    with open_cli_store(store_url) as store:
        comparison = compare_refs(store, baseline, candidate, min_effect=min_effect, seed_param=seed_param)
    if fmt == "json":
        click.echo(json.dumps(comparison.to_dict(), indent=2))
    else:
        print_comparison(comparison)


def comparison_text(comparison: "Comparison", width: int = 100) -> str:
    """The text layout as a string (no colours), e.g. for a prompt that shows the evidence first."""
    from rich.console import Console

    console = Console(width=width, record=True, color_system=None, force_terminal=False, file=_Null())
    print_comparison(comparison, console)
    return console.export_text()


def print_comparison(c: "Comparison", console: "Console | None" = None) -> None:
    """Print ``c`` as the one-screen text layout on ``console`` (default: stdout)."""
    from rich.console import Console
    from rich.markup import escape

    from tunebook.analysis.compare import RULE

    console = console or Console()

    def say(text: str) -> None:  # lines are never broken by rich: commands stay copyable, the terminal wraps
        console.print(text, soft_wrap=True)

    better = "lower" if c.mode == "min" else "higher"
    say(f"[{STYLE[c.decision]}]{c.decision.upper()}[/]: {escape(c.headline)}")
    threshold = f", --min-effect {c.min_effect:g}" if c.min_effect else ""
    say(f"objective {escape(c.metric)} ({better} is better){threshold}")
    for name, side in (("baseline", c.baseline), ("candidate", c.candidate)):
        named = "" if side["ref"] in ("", side["label"]) else f" = {side['ref']}"
        say(f"{name:<9}  {escape(side['label'])}{escape(named)} and its repeats")
    console.print(_sides_table(c))
    console.print(_seeds_table(c))
    for line in _effect_lines(c):
        say(escape(line))
    for reason in c.reasons:
        say(f"  why: {escape(reason)}")
    say(f"[dim]  rule: {escape(RULE)}[/]")
    for warning in c.warnings:
        say(f"[yellow]warning[/]: {escape(warning)}")
    for command in c.next_commands:
        say(f"next: {escape(command)}")
    for command in c.commands:
        say(f"[dim]reproduce: {escape(command)}[/]")


def _sides_table(c: "Comparison") -> Any:
    """One row per side: seeds, lost ones (diverged/failed), median, mean, std, min, max."""
    from rich.table import Table

    table = Table(show_edge=True)
    table.add_column("side", no_wrap=True)
    for header in ("seeds", "div/fail", "median", "mean", "std", "min", "max"):
        table.add_column(header, justify="right", no_wrap=True)
    for name, side in (("baseline", c.baseline), ("candidate", c.candidate)):
        median = cell_text(side["median"]) if side["median"] is not None else "lost"
        table.add_row(name, str(side["n"]), f"{side['diverged']}/{side['failed']}", median,
                      *(_short(side[k]) for k in ("mean", "std", "min", "max")))
    return table


def _short(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"


def _seeds_table(c: "Comparison") -> Any:
    """Each seed's value, the two sides side by side (a lost repeat shows its state)."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_edge=True)
    for header, justify in (("#", "right"), ("baseline trial", "left"), ("value", "right"),
                            ("candidate trial", "left"), ("value", "right")):
        table.add_column(header, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    pairs = list(itertools.zip_longest(c.baseline["repeats"], c.candidate["repeats"]))
    for i, (b, k) in enumerate(pairs[:SEED_ROWS], start=1):
        table.add_row(str(i), *(escape(x) for x in _seed_cells(b)), *(escape(x) for x in _seed_cells(k)))
    if len(pairs) > SEED_ROWS:
        more = [max(0, len(c.baseline["repeats"]) - SEED_ROWS), max(0, len(c.candidate["repeats"]) - SEED_ROWS)]
        table.add_row("...", f"{more[0]} more", "", f"{more[1]} more (--format json lists all)", "")
    return table


def _seed_cells(repeat: dict[str, Any] | None) -> tuple[str, str]:
    if repeat is None:
        return "", ""
    value = cell_text(repeat["value"]) if repeat["value"] is not None else repeat["state"]
    seed = f" (seed {repeat['seed']})" if repeat.get("seed") is not None else ""
    return repeat["trial"] + seed, value


def _effect_lines(c: "Comparison") -> list[str]:
    lines = []
    if c.difference is not None:
        parts = [f"{c.difference:+.4g} {c.metric} {_interval(c.difference_interval)}"]
        if c.percent is not None:
            parts.append(f"{c.percent:+.3g} % {_interval(c.percent_interval, '.3g')}")
        if c.sd_units is not None:
            parts.append(f"{c.sd_units:+.3g} seed sd {_interval(c.sd_units_interval, '.3g')}")
        lines.append("difference candidate - baseline (means of finished seeds; 95 % bootstrap intervals):")
        lines.append("  " + " = ".join(parts) + (f"  (pooled seed sd {c.pooled_sd:.3g})" if c.pooled_sd else ""))
    else:
        lines.append("difference: none (a side has no finished seed; the ranks still count the lost ones)")
    n, m = c.baseline["n"], c.candidate["n"]
    p_interval = _interval(c.p_better_interval, ".2f")
    lines.append(f"P(candidate beats baseline on a fresh seed) = {c.p_better:.2f} {p_interval}")
    lines.append(f"{c.test}: p = {c.p_value:.3g} (the smallest possible with {n} vs {m} seeds: {c.min_p:.2g})")
    for name, side in (("baseline", c.baseline), ("candidate", c.candidate)):
        s = side["study_variance"]
        if s:
            lines.append(f"study variance ({name}): best of {s['k']} trials of {s['study']} bootstrapped: median "
                         f"{s['median']:.4g}, 95 % {s['low']:.4g} to {s['high']:.4g}, IQR {s['iqr']:.3g}")
    return lines


def _interval(interval: tuple[float, float] | None, spec: str = ".4g") -> str:
    if not interval:
        return ""
    return f"[{format(interval[0], spec)}, {format(interval[1], spec)}]"


class _Null:
    """A file that drops what is written (the recording console keeps it)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
