"""The live display of ``tunebook run``: a table redrawn on a terminal, plain lines in a log.

Both show what a user watches for: elapsed time and an estimate to finish,
per study the counts in ``tunebook status``'s words (trials, complete,
infeasible, failed, running), the running trials with their latest step and
objective value, and failed or infeasible trials with their reasons as they
happen.
"""

from __future__ import annotations

from typing import Any

from tunebook.cli.render import cell_text, fitted_table
from tunebook.core.records import trial_name
from tunebook.core.readable import format_duration, reason_line
from tunebook.execution.live import LiveStatus

STUDY_COLUMNS = ("study", "trials", "complete", "infeasible", "failed", "running", "best objective", "best trial")
# the same words as tunebook status's table (cli.status.TABLE_COLUMNS)


def headline(name: str, status: LiveStatus) -> str:
    """``tunebook run NAME · 1 min 12 s elapsed · about 3 min to go``."""
    return f"tunebook run {name} · {format_duration(status.elapsed)} elapsed · {time_to_go(status)}"


def time_to_go(status: LiveStatus) -> str:
    """``about 3 min to go``, or why there is no estimate yet."""
    if status.eta is None:
        return "time to go: known once a trial ends"
    return "finishing" if status.eta == 0 else f"about {format_duration(status.eta)} to go"


def study_rows(status: LiveStatus) -> list[dict[str, Any]]:
    """One row per study, keyed by ``STUDY_COLUMNS``."""
    return [
        dict(zip(STUDY_COLUMNS, (
            p.key, f"{p.finished}/{p.budget}", p.complete, p.infeasible, p.failed, p.running,
            p.best, None if p.best_trial is None else trial_name(p.key, p.best_trial),
        )))
        for p in status.studies
    ]


def running_lines(status: LiveStatus, metric: str) -> list[str]:
    """``width=4/3  running 41.0 s  step 120  valid_loss 0.31`` per running trial."""
    lines = []
    for t in status.running:
        point = "no objective value yet" if t.step is None else f"step {t.step}  {metric} {cell_text(t.value)}"
        lines.append(f"{t.name}  running {format_duration(t.seconds)}  {point}")
    return lines


def problem_lines(status: LiveStatus) -> list[str]:
    """``width=4/2 failed: exit code 1 after 2 attempt(s)`` for the latest failed/infeasible trials."""
    return [f"{p.name} {p.state}: {p.reason or '(no reason given)'}" for p in status.problems]


def suggestion_lines(studies: list) -> list[str]:
    """``default: 6 initial points, 9 model suggestions, 1 fallback (quasi-random)`` per study whose sampler says."""
    words = {"initial": "initial point(s)", "model": "model suggestion(s)", "fallback": "fallback(s) to quasi-random"}
    return [
        f"{p.key}: " + ", ".join(f"{n} {words.get(by, by)}" for by, n in sorted(
            p.suggested_by.items(), key=lambda item: list(words).index(item[0]) if item[0] in words else len(words)))
        for p in studies if p.suggested_by
    ]


def live_view(name: str, metric: str, status: LiveStatus, width: int) -> Any:
    """The whole display as one rich renderable ``width`` wide at most (headline, table, running,
    problems, notices), its table fitted as ``tunebook status``'s."""
    from rich.console import Group
    from rich.text import Text

    from tunebook.cli.status import TABLE_COLUMNS

    table = fitted_table(study_rows(status), TABLE_COLUMNS, width, title=headline(name, status))
    parts: list[Any] = [table]
    for label, lines, style in (("suggested", suggestion_lines(status.studies), "dim"),
                                ("running", running_lines(status, metric), ""),
                                ("failed or infeasible", problem_lines(status), "red"),
                                ("note", status.notices, "yellow")):
        parts.extend(Text(f"{label}: {line}", style=style, overflow="ellipsis", no_wrap=True) for line in lines)
    return Group(*parts)


class PlainLog:
    """For output that is not a terminal (a cluster job's log): one line per event, as it happens."""

    def __init__(self, name: str, echo: Any):
        self.name = name
        self.echo = echo
        self._said = 0  # notices already printed
        self._ended = 0  # trials whose end was printed

    def update(self, status: LiveStatus, runner: Any) -> None:
        for notice in status.notices[self._said:]:
            self.echo(f"note: {notice}")
        self._said = len(status.notices)
        for key, trial in runner.ended[self._ended:]:
            self.echo(f"[{format_duration(status.elapsed)}] {_ended_line(key, trial)}")
        if len(runner.ended) > self._ended:
            done = sum(p.finished for p in status.studies)
            total = sum(p.budget for p in status.studies)
            self.echo(f"[{format_duration(status.elapsed)}] {done}/{total} trials ended · {time_to_go(status)}")
        self._ended = len(runner.ended)


def _ended_line(study_key: str, trial: Any) -> str:
    from tunebook.core.states import TrialState

    name = trial_name(study_key, trial.number)
    by = (trial.suggestion or {}).get("by")
    name += f" ({by})" if by else ""
    if trial.state is TrialState.COMPLETE:
        return f"{name} complete: objective {cell_text(trial.objective)} at step {trial.best_step}"
    reason = reason_line(trial.reason) or "(no reason given)"
    word = "re-queued" if trial.state is TrialState.WAITING else trial.state.value
    return f"{name} {word}: {reason}"
