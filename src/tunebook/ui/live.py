"""Live: what changed since the client's last poll, for pages that refresh while a run is going.

``/api/live?name=EXP&since=CURSOR[&limit=N]`` answers the trials created,
started, heartbeating or finished after ``CURSOR`` (``Store.list_trials_changed``:
the store filters, it does not hand over every trial), latest activity last,
at most ``limit`` (default and most ``MAX_CHANGED``, the latest kept), the
counts by state (``Store.count_trials``) and the next cursor. Without
``since`` (a first poll) it answers the ``limit`` most recently active trials
(``limit=0``: the counts and a cursor alone).

The cursor is the moment the server began reading, less ``LAG_S``: a writer
stamps a trial a moment before its transaction commits, so a cursor at the
newest timestamp seen could skip a change committed just after the read. A
change may therefore come twice; clients update rows in place. The server
keeps nothing per client. A running trial reappears at each heartbeat (every
few seconds); its new curve points come from ``/api/curves?after=STEP``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from tunebook.core.records import trial_name
from tunebook.ui.params import BadRequest, integer, required
from tunebook.ui.responses import page, plain_json

MAX_CHANGED = 1000
LAG_S = 5.0
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def activity(trial: Any) -> datetime:
    """A trial's latest recorded moment."""
    return max(t for t in (trial.created_at, trial.started_at, trial.heartbeat_at, trial.finished_at) if t)


def _since(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"since={text!r} is not a time this server gave as a cursor") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def live_api(request: Any) -> Any:
    """``/api/live``: ``{changed: [...], counts: {state: n}, total, cursor}`` (see the module docstring)."""
    ui = request.app.state.ui
    record = ui.store.get_experiment(required(request, "name"))
    since = _since(request.query_params.get("since", ""))
    limit = integer(request, "limit", MAX_CHANGED, 0, MAX_CHANGED)
    started = datetime.now(timezone.utc)
    changed = []
    if limit:
        keys = {s.id: s.key for s in ui.store.list_studies(record.id)}
        newer = sorted(ui.store.list_trials_changed(record.id, since or EPOCH), key=activity)[-limit:]
        changed = [{"trial": trial_name(keys[t.study_id], t.number), "study": keys[t.study_id],
                    "state": t.state.value, "objective": t.objective, "best_step": t.best_step, "reason": t.reason,
                    "activity": activity(t).isoformat()} for t in newer]
    counts = {state.value: n for state, n in ui.store.count_trials(record.id).items()}
    cursor = (started - timedelta(seconds=LAG_S)).isoformat()
    return plain_json({"changed": changed, "counts": counts, "total": sum(counts.values()), "cursor": cursor})


def live_page(request: Any) -> Any:
    """``/live?name=``: the experiment's trials as they change, newest activity on top."""
    ui = request.app.state.ui
    name = required(request, "name")
    ui.store.get_experiment(name)
    return page(request, "live.html", title=f"{name}: live", name=name)
