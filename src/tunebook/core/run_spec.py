"""The ``run:`` section of a spec: how to run one trial and how many at once.

``run`` stays plain data on the Experiment (it is stored as written);
``parse_run`` validates it into a RunConfig whenever trials are to be run.
"""

from __future__ import annotations

import dataclasses
import math
import re
import string
from typing import TYPE_CHECKING, Any, Iterable, Mapping

if TYPE_CHECKING:
    from tunebook.core.spec import Problems

RUN_FIELDS = (
    "function", "command", "metrics", "parallel", "timeout", "retries",
    "gpus_per_trial", "checkpoints_kept", "workdir", "divergence", "env",
    "executor", "address", "cpus_per_trial", "resources",
)
EXECUTORS = ("local", "ray")
DIVERGENCE_FIELDS = ("loss", "factor")
DEFAULT_LOSS_METRICS = ("train/loss", "train_loss", "loss")
JSON_LINES = "json"  # a metrics entry that reads JSON objects printed one per line
_FUNCTION = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """How trials run. Exactly one of ``function`` and ``command`` is set."""

    function: str | None = None  # "module:callable", called as callable(params, trial)
    command: str | tuple[str, ...] | None = None  # a command line (or argv) with {name} placeholders
    metrics: tuple[str, ...] = ()  # named-group regexes over output lines, or "json"
    parallel: int = 1
    timeout: float | None = None  # seconds per trial
    retries: int = 1  # for crashes, not for infeasible outcomes
    gpus_per_trial: int = 0
    checkpoints_kept: int = 3
    workdir: str | None = None  # relative to the spec file; default: the spec's folder
    loss_metrics: tuple[str, ...] = DEFAULT_LOSS_METRICS
    divergence_factor: float | None = 10.0
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    executor: str = "local"  # "local" (processes here) or "ray" (tasks on a Ray cluster)
    address: str | None = None  # the Ray cluster's address; None: Ray's default
    cpus_per_trial: float = 1.0  # Ray only: CPUs each trial's task asks for
    resources: Mapping[str, float] = dataclasses.field(default_factory=dict)  # Ray only: custom resources

    @property
    def output_metrics(self) -> tuple[str, ...]:
        """What to read from a command's output: its regexes, else JSON lines."""
        return self.metrics or ((JSON_LINES,) if self.command else ())


def parse_run(run: Mapping[str, Any], problems: "Problems", need_program: bool = True) -> RunConfig:
    """Validate the run section; record problems under ``run.<field>``."""
    from tunebook.core.spec import unknown_fields

    unknown_fields(run, RUN_FIELDS, "run", problems)
    function, command = run.get("function"), run.get("command")
    if function is not None and command is not None:
        problems.add("run", "give either function or command, not both")
    elif need_program and function is None and command is None:
        problems.add("run", "says how to run a trial: function: module:callable, or command: 'python train.py ...'")
    if function is not None and not (isinstance(function, str) and _FUNCTION.match(function)):
        problems.add("run.function", f"must be 'module:callable' (e.g. train:train), got {function!r}")
    if isinstance(command, (list, tuple)) and command and all(isinstance(a, str) for a in command):
        command = tuple(command)
    elif command is not None and not (isinstance(command, str) and command.strip()):
        problems.add("run.command", f"must be a command line or a list of arguments, got {command!r}")
        command = None
    loss, factor = _divergence(run.get("divergence"), problems)
    return RunConfig(
        function=function if isinstance(function, str) else None,
        command=command,
        metrics=_metrics(run.get("metrics"), problems),
        parallel=_int(run, "parallel", 1, 1, problems),
        timeout=_seconds(run.get("timeout"), problems),
        retries=_int(run, "retries", 1, 0, problems),
        gpus_per_trial=_int(run, "gpus_per_trial", 0, 0, problems),
        checkpoints_kept=_int(run, "checkpoints_kept", 3, 1, problems),
        workdir=_text_or_none(run, "workdir", problems),
        loss_metrics=loss,
        divergence_factor=factor,
        env=_env(run.get("env"), problems),
        executor=_executor(run.get("executor", "local"), problems),
        address=_text_or_none(run, "address", problems),
        cpus_per_trial=_positive(run, "cpus_per_trial", 1.0, problems),
        resources=_resources(run.get("resources"), problems),
    )


def placeholders(command: str | tuple[str, ...]) -> set[str]:
    """The ``{name}`` fields a command line uses."""
    parts = [command] if isinstance(command, str) else list(command)
    return {field for part in parts for _, field, _, _ in string.Formatter().parse(part) if field}


def check_runnable(config: RunConfig, objective_metric: str, names: Iterable[str], problems: "Problems") -> None:
    """What would only show once trials ran, caught before any starts.

    - every ``{placeholder}`` of ``run.command`` is a hyperparameter's plain name;
    - when the command's metrics come only from regexes, one of them has a
      group named for the objective metric (else every trial would end FAILED
      with "the objective was never logged").
    """
    names = set(names)
    try:
        unknown = sorted(placeholders(config.command) - names) if config.command else []
    except ValueError as exc:  # an unbalanced brace
        problems.add("run.command", f"is not a valid command template ({exc}): {config.command!r}")
        unknown = []
    if unknown:
        known = ", ".join(sorted(names)) or "none"
        problems.add("run.command", f"uses {{{unknown[0]}}}, which is not a hyperparameter of this experiment "
                                    f"(it has: {known})")
    if config.command and config.metrics and JSON_LINES not in config.metrics:
        captured = {g for p in config.metrics for g in _groups(p)} - {"step"}
        if objective_metric not in captured and not objective_metric.isidentifier():
            problems.add("run.metrics", (
                f"a regex group cannot be named for the objective metric {objective_metric!r} (group names are "
                "identifiers): name the objective like a captured group (e.g. valid_loss), or print JSON lines "
                "with metrics: [json]"
            ))
        elif objective_metric not in captured:
            problems.add("run.metrics", (
                f"no regex has a group named for the objective metric {objective_metric!r} "
                f"(they capture: {', '.join(sorted(captured)) or 'nothing'}); add (?P<{objective_metric}>\\S+) "
                "to the regex of the line that prints it, or name the objective after a captured group"
            ))


def run_warnings(config: RunConfig) -> list[str]:
    """Legal but probably unintended: each a message naming the field.

    A metrics regex without a ``step`` group numbers its matching lines
    0, 1, 2, ...: best steps and curves then count printed lines, not training
    steps (a warning, not an error: a program that prints no step number can
    still be tuned on its objective value).
    """
    return [
        f"run.metrics[{i}]: has no (?P<step>\\d+) group, so steps count the matching lines (0, 1, 2, ...), "
        f"not training steps; best steps and curves will use that count. Add a step group if the line prints one"
        for i, pattern in enumerate(config.metrics)
        if pattern != JSON_LINES and _groups(pattern) and "step" not in _groups(pattern)
    ]


def _groups(pattern: str) -> set[str]:
    try:
        return set(re.compile(pattern).groupindex)
    except re.error:
        return set()


def _metrics(value: Any, problems: "Problems") -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        problems.add("run.metrics", f"must be a list of regexes, got {value!r}")
        return ()
    for i, pattern in enumerate(value):
        where = f"run.metrics[{i}]"
        if not isinstance(pattern, str):
            problems.add(where, f"must be a regex string, got {pattern!r}")
        elif pattern != JSON_LINES:
            _check_regex(pattern, where, problems)
    return tuple(p for p in value if isinstance(p, str))


def _check_regex(pattern: str, where: str, problems: "Problems") -> None:
    try:
        groups = set(re.compile(pattern).groupindex)
    except re.error as exc:
        problems.add(where, f"is not a valid regex ({exc}): {pattern!r}")
        return
    if not groups - {"step"}:
        problems.add(where, f"needs a named group per metric, e.g. (?P<valid_loss>\\S+), got {pattern!r}")


def _int(run: Mapping[str, Any], field: str, default: int, minimum: int, problems: "Problems") -> int:
    value = run.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problems.add(f"run.{field}", f"must be an integer >= {minimum}, got {value!r}")
        return default
    return value


def _seconds(value: Any, problems: "Problems") -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value > 0 and math.isfinite(value)):
        problems.add("run.timeout", f"must be a number of seconds > 0, got {value!r}")
        return None
    return float(value)


def _text_or_none(run: Mapping[str, Any], field: str, problems: "Problems") -> str | None:
    value = run.get(field)
    if value is not None and not isinstance(value, str):
        problems.add(f"run.{field}", f"must be text, got {value!r}")
        return None
    return value


def _divergence(value: Any, problems: "Problems") -> tuple[tuple[str, ...], float | None]:
    if value is None:
        return DEFAULT_LOSS_METRICS, 10.0
    if not isinstance(value, Mapping):
        problems.add("run.divergence", f"must be {{loss: METRIC, factor: NUMBER|null}}, got {value!r}")
        return DEFAULT_LOSS_METRICS, 10.0
    from tunebook.core.spec import unknown_fields

    unknown_fields(value, DIVERGENCE_FIELDS, "run.divergence", problems)
    loss = value.get("loss", list(DEFAULT_LOSS_METRICS))
    loss = [loss] if isinstance(loss, str) else loss
    if not isinstance(loss, list) or not all(isinstance(m, str) and m for m in loss):
        problems.add("run.divergence.loss", f"must name the training-loss metric(s), got {value.get('loss')!r}")
        loss = list(DEFAULT_LOSS_METRICS)
    factor = value.get("factor", 10.0)
    if factor is not None and (isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor > 1):
        problems.add("run.divergence.factor", f"must be a number > 1, or null to turn the check off, got {factor!r}")
        factor = 10.0
    return tuple(loss), None if factor is None else float(factor)


def _env(value: Any, problems: "Problems") -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        problems.add("run.env", f"must map variable names to values, got {value!r}")
        return {}
    return {k: str(v) for k, v in value.items()}


def _executor(value: Any, problems: "Problems") -> str:
    if value not in EXECUTORS:
        problems.add("run.executor", f"must be one of {', '.join(EXECUTORS)}, got {value!r}")
        return "local"
    return value


def _positive(run: Mapping[str, Any], field: str, default: float, problems: "Problems") -> float:
    value = run.get(field, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value > 0 and math.isfinite(value)):
        problems.add(f"run.{field}", f"must be a number > 0, got {value!r}")
        return default
    return float(value)


def _resources(value: Any, problems: "Problems") -> dict[str, float]:
    """Ray custom resources per trial, e.g. {TPU: 1, large_memory: 0.5}."""
    if value is None:
        return {}
    valid = isinstance(value, Mapping) and all(
        isinstance(k, str) and k and not isinstance(v, bool) and isinstance(v, (int, float)) and v >= 0
        and math.isfinite(v) for k, v in value.items()
    )
    if not valid:
        problems.add("run.resources", f"must map Ray resource names to amounts >= 0, got {value!r}")
        return {}
    return {k: float(v) for k, v in value.items()}
