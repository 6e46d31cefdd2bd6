"""What the routes share: the store (read-only unless ``--allow-write``), the trial folders, and a short cache.

An experiment of 50,000 trials takes about a second to read; a user paging,
sorting and filtering its table should not wait that long each click. Reads
are therefore kept for ``FRESH_S`` seconds (the trials alone) or
``ANALYSIS_FRESH_S`` (with the curves the checklist reads, and the
checklist's result); the Live page and a trial's curves are never cached.
Every read goes through ``tunebook.analysis`` (``load``) or the Store
interface: no SQL here.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Callable

FRESH_S = 3.0
ANALYSIS_FRESH_S = 15.0


@dataclasses.dataclass(frozen=True)
class Analysis:
    """The Experiment page's judgement: data (with curves), checklist findings, best per value, verdict."""

    data: Any
    findings: list
    best: Any
    verdict: Any


class UIContext:
    """The open store and settings of one ``tunebook ui`` server."""

    def __init__(self, store: Any, runs_dir: Path, allow_write: bool, store_label: str) -> None:
        self.store = store
        self.runs_dir = Path(runs_dir)
        self.allow_write = allow_write
        self.store_label = store_label
        self.csrf_token = secrets.token_urlsafe(32)
        self.write_lock = threading.Lock()  # a note's conflict check and its insert, one at a time
        self._cache: dict[tuple[str, str], tuple[float, Any]] = {}
        self._cache_lock = threading.Lock()

    def _cached(self, key: tuple[str, str], fresh_s: float, make: Callable[[], Any]) -> Any:
        with self._cache_lock:
            hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < fresh_s:
            return hit[1]
        value = make()
        with self._cache_lock:
            self._cache[key] = (time.monotonic(), value)
        return value

    def forget(self, name: str) -> None:
        """Drop what is cached of experiment ``name`` (after a write)."""
        with self._cache_lock:
            for key in [k for k in self._cache if k[1] == name]:
                del self._cache[key]

    def trials(self, name: str) -> Any:
        """``ExperimentData`` of experiment ``name`` without curves (NotFoundError for an unknown name)."""
        from tunebook.analysis import load

        return self._cached(("trials", name), FRESH_S, lambda: load(name, self.store, metrics=()))

    def trials_now(self, name: str) -> Any:
        """``trials`` read afresh (and cached anew): after a miss that a trial started since may explain."""
        self.forget(name)
        return self.trials(name)

    def analysis(self, name: str) -> Analysis:
        """The checklist, the best per scientific value and the verdict of ``name``, as ``tunebook report`` makes them."""
        return self._cached(("analysis", name), ANALYSIS_FRESH_S, lambda: self._analyse(name))

    def _analyse(self, name: str) -> Analysis:
        from tunebook.analysis import load
        from tunebook.analysis.best import best_per_scientific_value
        from tunebook.analysis.checklist import metrics_read, run_checklist
        from tunebook.analysis.verdict import decide
        from tunebook.core.experiment import Experiment

        record = self.store.get_experiment(name)
        data = load(name, self.store, metrics=metrics_read(Experiment.from_dict(record.spec).objective.metric))
        findings = run_checklist(data)
        source = record.source if record.source and Path(record.source).is_file() else None
        verdict = decide(data, findings, store=self.store_label, spec=source, runs=str(self.runs_dir))
        return Analysis(data, findings, best_per_scientific_value(data), verdict)
