"""What plans and advice return: a ready experiment spec with its reasons, or an Advice.

Both are frozen records of plain data. A ``Plan`` is written to YAML by
``write_plan``: the reasons become comments at the top of the file, and an
absolute ``run.workdir`` (the folder of the training program the plan was
derived from) is rewritten relative to the file, so the spec runs as is.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any, Mapping

import yaml

from tunebook.core.errors import ProblemsError, TunebookError
from tunebook.core.yaml_loader import dump_yaml

__all__ = [
    "Advice", "Plan", "PlanFileExists", "PlanInputError", "Reason", "check_free", "plan_note", "read_plan_note",
    "write_plan",
]

NOTE_PREFIX = "planned by tunebook plan"


class PlanInputError(ProblemsError):
    """A plan's or an advice's input (an option, a stored trial) does not allow it; names the field and value."""

    subject = "invalid input"


class PlanFileExists(TunebookError, FileExistsError):
    """The plan's output file exists; pass --force (``force=True``) to overwrite it."""


@dataclasses.dataclass(frozen=True)
class Reason:
    """Why one choice of a plan was made, in the playbook's words, and the section it comes from."""

    text: str
    section: str

    def render(self) -> str:
        return f"{self.text} [{self.section}]"


@dataclasses.dataclass(frozen=True)
class Plan:
    """A ready experiment spec (plain data, as ``Experiment.from_dict`` takes it) and why it is so."""

    kind: str  # the plan's name: adam, lr-sweep, instability, early-instability, warmup, round2
    spec: Mapping[str, Any]
    reasons: tuple[Reason, ...]

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "spec": dict(self.spec),
                "reasons": [{"text": r.text, "section": r.section} for r in self.reasons]}


@dataclasses.dataclass(frozen=True)
class Advice:
    """What a finished experiment or trial says to do next.

    ``lines`` say it in plain words; ``warnings`` are what must not be missed;
    ``numbers`` hold the figures behind it (JSON-able); ``next_command`` is
    the command to run next, when there is one.
    """

    topic: str
    subject: str
    lines: tuple[str, ...]
    numbers: Mapping[str, Any]
    section: str
    warnings: tuple[str, ...] = ()
    next_command: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "subject": self.subject, "lines": list(self.lines),
                "warnings": list(self.warnings), "numbers": dict(self.numbers), "section": self.section,
                "next_command": self.next_command}


def plan_note(kind: str, **values: Any) -> str:
    """A line for a spec's ``notes`` that later advice reads back with ``read_plan_note``."""
    return f"{NOTE_PREFIX} {kind}: " + " ".join(f"{k}={_scalar(v)}" for k, v in values.items())


def read_plan_note(notes: str, kind: str) -> dict[str, Any]:
    """The values ``plan_note(kind, ...)`` wrote into ``notes``; {} when there is no such line."""
    match = re.search(rf"^{re.escape(NOTE_PREFIX)} {re.escape(kind)}: (.*)$", notes or "", re.M)
    if match is None:
        return {}
    values = {}
    for item in match.group(1).split():
        key, _, text = item.partition("=")
        values[key] = yaml.safe_load(text) if text else None
    return values


def _scalar(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def check_free(path: str | Path, force: bool = False) -> None:
    """PlanFileExists if ``path`` exists and not ``force``: a plan never overwrites a file unless told."""
    if Path(path).exists() and not force:
        raise PlanFileExists(f"{path} already exists; pass --force to overwrite it")


def write_plan(plan: Plan, path: str | Path, force: bool = False) -> Path:
    """Write ``plan`` as a YAML spec at ``path``; PlanFileExists if it exists and not ``force``."""
    path = Path(path)
    check_free(path, force)
    spec = dict(plan.spec)
    run = dict(spec.get("run") or {})
    workdir = run.get("workdir")
    if isinstance(workdir, str) and os.path.isabs(workdir):
        relative = os.path.relpath(workdir, path.resolve().parent)
        if relative == ".":
            run.pop("workdir")
        else:
            run["workdir"] = relative
        spec["run"] = run
    header = "".join(f"# {line}\n" for reason in plan.reasons for line in _wrap(reason.render()))
    body = dump_yaml(spec, sort_keys=False, allow_unicode=True, width=100)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# tunebook plan {plan.kind}: why each choice was made\n{header}\n{body}", encoding="utf-8")
    return path


def _wrap(text: str, width: int = 98) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, subsequent_indent="  ") or [""]
