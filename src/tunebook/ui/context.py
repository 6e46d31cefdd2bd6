"""What the routes share: the store (written only with ``--allow-write``), the trial folders, and a cache.

An experiment of 50,000 trials takes one to several seconds to read whole
(the spreadsheet, a table sorted by a text parameter, the judgement); a user
must not wait that long at each click. So such reads are cached and served stale-while-revalidate: an answer
younger than ``FRESH_S`` (the trials) or ``ANALYSIS_FRESH_S`` (the checklist
and plots' data) is served as it is; an older one is still served at once
while one background thread reads it again for the next request. Only the
first read waits (``warm`` starts the spreadsheet's when the server starts;
the judgement's is started in the background and the page polls for it). A stale read is redone only if the store says a trial changed
since (``Store.list_trials_changed``, one cheap query), and at most every
``COST_FACTOR`` times its own duration. The Live API and a running trial's
curves are never cached.
Every read goes through ``tunebook.analysis`` (``load``) or the Store
interface: no SQL here.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

FRESH_S = 3.0
ANALYSIS_FRESH_S = 15.0
COST_FACTOR = 5.0  # a cached read is redone at most every COST_FACTOR times its own duration
CHANGE_LAG_S = 5.0  # a trial stamped up to this long before its commit is still seen as changed
RETRY_AFTER_S = 30.0  # a failed judgement is reported this long before it is tried again


@dataclasses.dataclass
class _Entry:
    made: float  # time.monotonic() when made or last found current
    value: Any
    cost: float = 0.0  # seconds it took to make
    wall: datetime | None = None  # when made, for ``unchanged``
    refreshing: bool = False


class UIContext:
    """The open store and settings of one ``tunebook ui`` server."""

    def __init__(self, store: Any, runs_dir: Path, allow_write: bool, store_label: str) -> None:
        self.store = store
        self.runs_dir = Path(runs_dir)
        self.allow_write = allow_write
        self.store_label = store_label
        self.csrf_token = secrets.token_urlsafe(32)
        self.plotly_url = "/static/plotly.min.js"  # app.create_app sets the content-named URL
        self.write_lock = threading.Lock()  # a note's conflict check and its insert, one at a time
        self._cache: dict[tuple[Any, ...], _Entry] = {}
        self._cache_lock = threading.Lock()
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}
        self._worker: Any = None  # the judgement's process (judge.py), started on first use
        self._judging: dict[str, float] = {}  # experiment -> when its background judgement began (monotonic)
        self._judge_failures: dict[str, tuple[str, float]] = {}  # experiment -> (why its judgement failed, when)

    def _cached(self, key: tuple[str, str], fresh_s: float, make: Callable[[], Any],
                unchanged: Callable[[datetime], bool] | None = None) -> Any:
        """``make()``'s value for ``key``: cached; a stale one is served while a thread makes it anew.

        Stale: older than ``fresh_s``, or than ``COST_FACTOR`` times what making it took (a read of
        50,000 trials is not redone every few seconds). ``unchanged(when)``: a cheap question to the
        store (has anything changed since ``when``?); when it says no, the value stays as it is.
        """
        with self._cache_lock:
            entry = self._cache.get(key)
            lock = self._key_locks.setdefault(key, threading.Lock())
            if entry and time.monotonic() - entry.made >= max(fresh_s, COST_FACTOR * entry.cost) \
                    and not entry.refreshing:
                entry.refreshing = True
                threading.Thread(target=self._refresh, args=(key, make, lock, entry, unchanged), daemon=True).start()
        if entry:
            return entry.value
        with lock:  # the first read: one request reads, the others wait for it
            with self._cache_lock:
                entry = self._cache.get(key)
            return entry.value if entry else self._make(key, make)

    def _make(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        wall, started = datetime.now(timezone.utc), time.monotonic()
        value = make()
        with self._cache_lock:
            self._cache[key] = _Entry(time.monotonic(), value, time.monotonic() - started, wall)
        return value

    def _refresh(self, key: tuple[Any, ...], make: Callable[[], Any], lock: threading.Lock, entry: _Entry,
                 unchanged: Callable[[datetime], bool] | None) -> None:
        try:
            with lock:
                if unchanged is not None and entry.wall is not None and unchanged(entry.wall):
                    entry.made, entry.refreshing = time.monotonic(), False
                    return
                self._make(key, make)
        except Exception:  # noqa: BLE001 - the stale value stays; the next request tries again
            entry.refreshing = False

    def cached_forever(self, key: tuple[Any, ...], make: Callable[[], Any], keep: int = 32) -> Any:
        """``make()``'s value for ``key`` (``(kind, experiment, ...)``), kept until forgotten; at most ``keep``
        such values (the oldest dropped): a finished trial's thinned curves."""
        with self._cache_lock:
            entry = self._cache.get(key)
            forever = [k for k in self._cache if len(k) > 2]
            for old in ([] if entry else forever[:max(0, len(forever) - keep + 1)]):
                del self._cache[old]
        return entry.value if entry else self._make(key, make)

    def forget(self, name: str) -> None:
        """Drop what is cached of experiment ``name`` (after a write, or a trial the cache does not know yet)."""
        with self._cache_lock:
            for key in [k for k in self._cache if k[1] in (name, "")]:
                del self._cache[key]

    def warm(self) -> None:
        """Read the spreadsheet in a background thread (a server's start). Experiments' trials are not read:
        the trials table's pages come from the store (``trials_table``), and reading 50,000 trials here
        would only hold the interpreter while the first pages are asked for."""
        def read_all() -> None:
            try:
                self.spreadsheet()
            except Exception:  # noqa: BLE001 - a request will read (and report) it again
                pass

        threading.Thread(target=read_all, daemon=True).start()

    def spreadsheet(self) -> list[dict[str, Any]]:
        """The Experiments page's rows (``experiments.spreadsheet``)."""
        from tunebook.ui.experiments import spreadsheet

        return self._cached(("sheet", ""), FRESH_S, lambda: spreadsheet(self.store))

    def trials(self, name: str) -> Any:
        """``ExperimentData`` of experiment ``name`` without curves (NotFoundError for an unknown name)."""
        from tunebook.analysis import load

        record = self.store.get_experiment(name)

        def unchanged(since: datetime) -> bool:
            return not self.store.list_trials_changed(record.id, since - timedelta(seconds=CHANGE_LAG_S))

        return self._cached(("trials", name), FRESH_S, lambda: load(name, self.store, metrics=()), unchanged)

    def trials_now(self, name: str) -> Any:
        """``trials`` read afresh (and cached anew): after a miss that a trial started since may explain."""
        with self._cache_lock:
            self._cache.pop(("trials", name), None)
        return self.trials(name)

    def analysis(self, name: str) -> dict[str, Any]:
        """``judge.judge``'s answer for ``name`` (checklist, verdict, best per value, plots), made in the worker."""
        from tunebook.ui.judge import judge

        self.store.get_experiment(name)  # NotFoundError here, before the worker
        return self._cached(("analysis", name), ANALYSIS_FRESH_S, lambda: self.in_worker(judge, name))

    def analysis_when_ready(self, name: str) -> dict[str, Any] | None:
        """``analysis(name)`` if it is made; else None, with its making started in the background (once).
        A failure to make it is raised (TunebookError naming the cause) to every caller for ``RETRY_AFTER_S``;
        the next one after that starts it again."""
        from tunebook.core.errors import TunebookError

        self.store.get_experiment(name)
        with self._cache_lock:
            made = ("analysis", name) in self._cache
            failed, when = self._judge_failures.get(name, (None, 0.0))
            if failed is not None and time.monotonic() - when > RETRY_AFTER_S:
                del self._judge_failures[name]
                failed = None
            start = not made and failed is None and name not in self._judging
            if start:
                self._judging[name] = time.monotonic()
        if failed is not None:
            raise TunebookError(f"could not judge experiment {name!r}: {failed}")
        if made:
            return self.analysis(name)
        if start:
            threading.Thread(target=self._judge_in_background, args=(name,), daemon=True).start()
        return None

    def judging_for(self, name: str) -> float:
        """Seconds since the judgement of ``name`` began in the background (0.0 when none is under way)."""
        with self._cache_lock:
            began = self._judging.get(name)
        return 0.0 if began is None else time.monotonic() - began

    def _judge_in_background(self, name: str) -> None:
        try:
            self.analysis(name)
        except Exception as exc:  # noqa: BLE001 - handed to the next request, which shows it
            with self._cache_lock:
                self._judge_failures[name] = (str(exc) or type(exc).__name__, time.monotonic())
        finally:
            with self._cache_lock:
                self._judging.pop(name, None)

    def in_worker(self, function: Callable[..., Any], name: str) -> Any:
        """``function(store url, name, runs, store label)`` run in the worker process; its result. A worker
        that died (killed, out of memory) raises TunebookError saying so, and the next call starts a new one."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        from tunebook.core.errors import TunebookError

        with self._cache_lock:
            if self._worker is None:
                self._worker = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            worker = self._worker
        try:
            return worker.submit(function, self.store.url, name, str(self.runs_dir), self.store_label).result()
        except BrokenProcessPool as exc:
            with self._cache_lock:
                if self._worker is worker:
                    self._worker = None
            worker.shutdown(wait=False, cancel_futures=True)
            raise TunebookError(f"the worker process stopped while working on it (killed, or out of memory?): "
                                f"{exc}; the next try starts a new one") from exc

    def close(self) -> None:
        """Stop the worker process (the server's shutdown)."""
        if self._worker is not None:
            self._worker.shutdown(wait=False, cancel_futures=True)
