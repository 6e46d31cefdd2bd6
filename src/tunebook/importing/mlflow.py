"""Read an MLflow experiment's runs through MLflow's own client (``mlflow.MlflowClient``).

Each active (not deleted) run of the experiment becomes a run to import:

- params: MLflow keeps every param as text; text that reads as a whole
  number becomes an int, as another number a float, ``True``/``False`` (any
  case) a bool, ``None``/``null`` null; anything else stays text.
- curves: every metric's full history (``get_metric_history``) by step; a
  step logged twice keeps the value logged last. MLflow records step 0 when
  none is given, so a metric logged without steps is one point.
- status: FINISHED runs are judged by their curves (``record.outcome``). A
  metric history holding NaN/inf makes the run INFEASIBLE (the configuration
  diverged: an outcome of the search, told apart from a crash, even when the
  script then raised and MLflow marked the run FAILED). A FAILED run without
  such a value is stored FAILED (it crashed, which says nothing about the
  configuration), and so is a KILLED one (stopped by hand before its curves
  finished, so its best value is not comparable to finished runs').
- wall time: the run's start and end times become the trial's.

Left out, and listed: runs still RUNNING or SCHEDULED (not finished) and
parent runs of nested runs (a sweep's parent summarises its children, the
trials). Tags and artifacts are not imported. Reading needs the ``mlflow``
extra.
"""

from __future__ import annotations

import math
import re
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tunebook.core.imports import require
from tunebook.importing.errors import ImportInputError
from tunebook.importing.runs import ImportedRun, LeftOut, Problems, check_params

PARENT_TAG = "mlflow.parentRunId"
MLFLOW_TABLES = frozenset({"experiments", "runs", "params", "metrics", "alembic_version"})
UNFINISHED = {"RUNNING": "still running", "SCHEDULED": "scheduled, not started"}
CRASHED = {"FAILED": "MLflow marks the run FAILED (it crashed)",
           "KILLED": "MLflow marks the run KILLED (stopped before it finished)"}
_INT = re.compile(r"^[+-]?\d+$")
_PAGE = 1000
REACH_TIMEOUT = 10.0  # seconds to wait for a tracking server's TCP handshake


def mlflow_source(tracking_uri: str, experiment: str) -> str:
    """How an imported experiment names where it came from."""
    return f"MLflow experiment {experiment!r} at {tracking_uri}"


def read_mlflow_runs(tracking_uri: str, experiment: str, left_out: list[LeftOut] | None = None) -> list[ImportedRun]:
    """The experiment's finished runs, oldest first; one ImportInputError listing every problem.

    ``left_out`` receives the runs not imported and why. Nothing is created
    in the MLflow store: a tracking URI naming a SQLite file or folder that
    does not exist is refused rather than created.
    """
    mlflow = require("mlflow", "mlflow", "importing MLflow runs")
    source = mlflow_source(tracking_uri, experiment)
    _check_exists(tracking_uri, source)
    _check_reachable(tracking_uri, source)
    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    try:
        runs = _active_runs(client, experiment, tracking_uri)
        parents = {run.data.tags.get(PARENT_TAG) for run in runs}
        names = _run_names(runs)
        problems: Problems = []
        notes: list[LeftOut] = []
        imported = []
        for run in runs:
            why = UNFINISHED.get(run.info.status) or (
                "a parent of nested runs (its children are the trials)" if run.info.run_id in parents else None)
            if why:
                notes.append(LeftOut(names[run.info.run_id], "", why))
            elif (read := _read_run(client, run, names[run.info.run_id], problems)) is not None:
                imported.append(read)
    except mlflow.exceptions.MlflowException as exc:
        raise ImportInputError(f"MLflow could not read the runs: {exc.message}", source) from None
    if problems:
        raise ImportInputError(problems, source)
    if not imported:
        raise ImportInputError(f"no finished runs to import ({len(runs)} runs, {len(notes)} left out)", source)
    if left_out is not None:
        left_out.extend(notes)
    return imported


def _check_reachable(tracking_uri: str, source: str) -> None:
    """ImportInputError if an http(s) tracking server does not accept a connection within ``REACH_TIMEOUT``.

    MLflow's client retries a refused connection with backoff for about four
    minutes before it gives up; a server that is not there is said at once.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(tracking_uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=REACH_TIMEOUT).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ImportInputError(f"--tracking-uri: cannot reach an MLflow server at {parts.hostname}:{port} "
                               f"({reason}); start it (mlflow server) or check the address", source) from None


def _check_exists(tracking_uri: str, source: str) -> None:
    """ImportInputError if the URI names a local store that is not there or not MLflow's.

    MLflow's client would create a missing store, and add its tables to a
    SQLite file of another program (say a tunebook store given by mistake);
    an import must change nothing, so both are refused first.
    """
    path = None
    if tracking_uri.startswith("sqlite:///"):
        path = Path(tracking_uri[len("sqlite:///"):])
    elif tracking_uri.startswith("file://"):
        path = Path(tracking_uri[len("file://"):])
    elif "://" not in tracking_uri:
        path = Path(tracking_uri)
    if path is not None and not path.exists():
        raise ImportInputError(f"--tracking-uri: {tracking_uri!r} names {path}, which does not exist", source)
    if tracking_uri.startswith("sqlite:///") and path is not None:
        missing = sorted(MLFLOW_TABLES - _sqlite_tables(path))
        if missing:
            raise ImportInputError(f"--tracking-uri: {path} is not an MLflow store (it lacks the tables "
                                   f"{', '.join(missing)})", source)


def _sqlite_tables(path: Path) -> set[str]:
    """The table names of a SQLite file, read without writing to it; empty if it is not SQLite."""
    import sqlite3

    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as conn:
            return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError:
        return set()


def _active_runs(client: Any, name: str, tracking_uri: str) -> list[Any]:
    """The experiment's active runs, oldest first; ``name`` may also be the experiment's id."""
    found = client.get_experiment_by_name(name)
    if found is None and name.isdigit():
        found = next((e for e in client.search_experiments() if e.experiment_id == name), None)
    if found is None:
        known = sorted(e.name for e in client.search_experiments())
        raise ImportInputError(f"--experiment: no MLflow experiment {name!r} at {tracking_uri} "
                               f"(experiments: {', '.join(known) or 'none'})")
    runs, token = [], None
    while True:
        page = client.search_runs([found.experiment_id], max_results=_PAGE, page_token=token,
                                  order_by=["attributes.start_time ASC"])
        runs += list(page)
        token = page.token
        if not token:
            return runs


def _run_names(runs: list[Any]) -> dict[str, str]:
    """run id -> the name messages and trials use: its run name, with its id's start where names repeat."""
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.info.run_name or ""] = counts.get(run.info.run_name or "", 0) + 1
    return {run.info.run_id: (run.info.run_name if run.info.run_name and counts[run.info.run_name] == 1
                              else f"{run.info.run_name or 'run'}-{run.info.run_id[:8]}") for run in runs}


def _read_run(client: Any, run: Any, name: str, problems: Problems) -> ImportedRun | None:
    params = check_params({key: typed_param(text) for key, text in run.data.params.items()}, f"{name} (params)",
                          problems)
    if params is None:
        return None
    curves = {key: _history(client, run.info.run_id, key) for key in sorted(run.data.metrics)}
    return ImportedRun(name, params, curves, f"{name} (MLflow run {run.info.run_id})",
                       started_at=_time(run.info.start_time), finished_at=_time(run.info.end_time),
                       failed=CRASHED.get(run.info.status))


def typed_param(text: str) -> Any:
    """An MLflow param's text as the value it was logged from: int, float, bool, None, else the text."""
    stripped = text.strip()
    if stripped.lower() in ("true", "false"):
        return stripped.lower() == "true"
    if stripped in ("None", "null"):
        return None
    if _INT.fullmatch(stripped):
        return int(stripped)
    try:
        number = float(stripped)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _history(client: Any, run_id: str, key: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """A metric's points by step; a step logged more than once keeps its last value (by timestamp)."""
    by_step: dict[int, float] = {}
    for metric in sorted(client.get_metric_history(run_id, key), key=lambda m: (m.timestamp, m.step)):
        by_step[int(metric.step)] = float(metric.value)
    steps = tuple(sorted(by_step))
    return steps, tuple(by_step[s] for s in steps)


def _time(millis: int | None) -> datetime | None:
    return None if not millis else datetime.fromtimestamp(millis / 1000, timezone.utc)
