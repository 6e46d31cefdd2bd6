"""Live: what changed since the client's last poll, for pages that refresh while a run is going.

``/api/live?name=EXP&since=CURSOR[&limit=N]`` answers the trials whose latest
activity (creation, start, heartbeat or finish) is later than ``CURSOR`` (an
ISO time the previous answer gave), oldest change first, at most ``limit``
(default and most ``MAX_CHANGED``), the counts by state and the next cursor.
Without ``since`` (a first poll) it answers the ``limit`` most recently active
trials and a cursor at the latest activity of all (``limit=0``: the cursor
and counts alone). The client keeps the cursor; the server keeps nothing per
client. A running trial reappears at each heartbeat (every few seconds) with
its state; its new curve points come from ``/api/curves?after=STEP``.
Never cached: it reads the store's trials each time.
"""

from __future__ import annotations

import collections
from datetime import datetime
from typing import Any

from tunebook.core.records import trial_name
from tunebook.ui.params import BadRequest, integer, required
from tunebook.ui.responses import page, plain_json

MAX_CHANGED = 1000  # trials per answer; the rest come with the next poll


def activity(trial: Any) -> datetime:
    """A trial's latest recorded moment."""
    return max(t for t in (trial.created_at, trial.started_at, trial.heartbeat_at, trial.finished_at) if t)


def _since(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"since={text!r} is not a time this server gave as a cursor") from None


def live_api(request: Any) -> Any:
    """``/api/live``: ``{changed: [...], counts: {state: n}, total, cursor}`` (see the module docstring)."""
    ui = request.app.state.ui
    record = ui.store.get_experiment(required(request, "name"))
    since = _since(request.query_params.get("since", ""))
    keys = {s.id: s.key for s in ui.store.list_studies(record.id)}
    trials = ui.store.list_trials(experiment_id=record.id)
    limit = integer(request, "limit", MAX_CHANGED, 0, MAX_CHANGED)
    newer = sorted((t for t in trials if since is None or activity(t) > since), key=activity)
    if since is None:  # a first poll: the latest ``limit`` trials; the cursor is the latest moment of all
        cursor = activity(newer[-1]).isoformat() if newer else ""
        newer = newer[len(newer) - limit:] if limit else []
    else:  # the oldest changes first, so a cut answer loses nothing: the rest come with the next poll
        newer = newer[:limit] if limit else []
        cursor = activity(newer[-1]).isoformat() if newer else since.isoformat()
    changed = [{"trial": trial_name(keys[t.study_id], t.number), "study": keys[t.study_id], "state": t.state.value,
                "objective": t.objective, "best_step": t.best_step, "reason": t.reason,
                "activity": activity(t).isoformat()} for t in newer]
    counts = collections.Counter(t.state.value for t in trials)
    return plain_json({"changed": changed, "counts": dict(counts), "total": len(trials), "cursor": cursor})


def live_page(request: Any) -> Any:
    """``/live?name=``: the experiment's trials as they change, newest activity first, running trials' curves growing."""
    ui = request.app.state.ui
    name = required(request, "name")
    ui.store.get_experiment(name)
    return page(request, "live.html", title=f"{name}: live", name=name)
