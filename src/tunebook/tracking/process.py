"""``trial()``: the trial of this process, managed by tunebook or standalone.

Under tunebook (``$TUNEBOOK_TRIAL_DIR`` set) the first call reads the trial's
context and params, opens its store, and arranges that buffered points are
flushed when the interpreter exits and on SIGTERM; later calls return the
same ``Trial``. Outside tunebook each call returns a new standalone ``Trial``.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import sys
from pathlib import Path
from collections.abc import Mapping
TYPE_CHECKING = False  # typing costs a trial process ~5 ms to import; annotations only need it for checkers
if TYPE_CHECKING:
    from typing import Any

from tunebook.tracking.protocol import (
    CHECKPOINT_DIR, ENV_PARAMS, ENV_TRIAL_DIR, PARAMS_FILE, TrialContext,
)
from tunebook.tracking.sinks import NullSink, open_sink
from tunebook.tracking.trial import Trial

STANDALONE_CHECKPOINT_DIR = "tunebook-checkpoints"

# A standalone trial runs under the protocol's defaults (divergence policy,
# checkpoints kept) with no store and no objective: its checkpoints carry no
# value, so pruning keeps the latest ones.
_STANDALONE = TrialContext(trial_id=0, store="", objective_metric="", objective_mode="min")

_managed: Trial | None = None


def trial(defaults: Mapping[str, Any] | None = None) -> Trial:
    """The trial this process runs.

    Under tunebook: the managed trial, a process-wide singleton; its params
    are ``defaults`` overridden by the trial's params (``defaults`` of later
    calls are ignored). Outside tunebook: a new standalone trial whose params
    are ``defaults`` overridden by ``$TUNEBOOK_PARAMS`` (JSON) if set; its
    ``log`` keeps nothing but still checks divergence (raising ``Diverged``),
    its checkpoints go to ``./tunebook-checkpoints/`` and are pruned the same
    way (with no objective to rank them, the latest 3 stay), and
    ``resume_from`` is None.
    """
    global _managed
    if defaults is not None and not isinstance(defaults, Mapping):
        raise TypeError(f"defaults must be a mapping of param name to value, got {defaults!r}")
    folder = os.environ.get(ENV_TRIAL_DIR)
    if not folder:
        return _standalone(defaults or {})
    trial_dir = Path(folder).absolute()
    if _managed is None:
        _managed = _open_managed(trial_dir, defaults or {})
        _install_hooks(_managed)
    elif _managed.dir != trial_dir:
        raise RuntimeError(
            f"this process already runs the trial in {_managed.dir}; ${ENV_TRIAL_DIR} now names {trial_dir}"
        )
    return _managed


def _open_managed(trial_dir: Path, defaults: Mapping[str, Any]) -> Trial:
    try:
        context = TrialContext.read(trial_dir)
        text = os.environ.get(ENV_PARAMS)
        where = f"${ENV_PARAMS}"
        if text is None:
            where = str(trial_dir / PARAMS_FILE)
            text = (trial_dir / PARAMS_FILE).read_text()
    except (OSError, ValueError, TypeError) as exc:
        raise RuntimeError(f"${ENV_TRIAL_DIR}={trial_dir} is not a readable trial folder: {exc}") from None
    params = _params_object(text, where)
    sink = open_sink(context.store, context.trial_id)
    return Trial({**defaults, **params}, context, trial_dir, trial_dir / CHECKPOINT_DIR, sink, managed=True)


def _standalone(defaults: Mapping[str, Any]) -> Trial:
    params = dict(defaults)
    text = os.environ.get(ENV_PARAMS)
    if text:
        params.update(_params_object(text, f"${ENV_PARAMS}"))
    here = Path.cwd()
    return Trial(params, _STANDALONE, here, here / STANDALONE_CHECKPOINT_DIR, NullSink(), managed=False)


def _params_object(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{where} must hold a JSON object of params, got {text[:80]!r} ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{where} must hold a JSON object of params, got {value!r}")
    return value


def _install_hooks(managed: Trial) -> None:
    """Flush at exit and on SIGTERM; forget the parent's buffer in a forked child."""
    atexit.register(_flush_at_exit, managed, os.getpid())
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=managed._after_fork_in_child)
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, managed._on_sigterm)
    except ValueError:
        pass  # not the main thread: only it may set handlers; exit still flushes


def _flush_at_exit(managed: Trial, pid: int) -> None:
    """Flush at exit; if that fails, exit 1 so the executor retries the trial
    instead of completing it on incomplete curves."""
    if os.getpid() != pid:
        return  # a forked child's exit: the points are the parent's business
    try:
        managed.flush()
    except Exception as exc:
        print(f"tunebook: could not save the last points of trial {managed.id}: {exc}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
