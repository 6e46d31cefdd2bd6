"""Notes on experiments and on trials: shown always, added only with ``--allow-write``.

The store keeps notes per experiment and per trial (``notes.trial_id``),
append-only and timestamped (``tunebook note [--trial STUDY/NUMBER]`` adds
them too).

A note is added with ``POST /api/notes`` (form fields ``name``, ``trial``
(optional), ``text``, ``seen``, ``csrf_token``; or the token in the
``X-CSRF-Token`` header). ``seen`` is the id of the newest note of that
experiment or trial the page showed (0: none). If someone added a note there
since (another tab, a colleague, ``tunebook note``), nothing is written and
the answer is 409 with that note's time and text: the writer reads it and
submits again, nothing is overwritten silently. The check and the insert run
under one lock of this server; a ``tunebook note`` from another process at
that very instant can still slip between them (notes are appended, never
replaced, so even then nothing is lost).
"""

from __future__ import annotations

from typing import Any

from tunebook.ui.params import BadRequest
from tunebook.ui.responses import plain_json
from tunebook.ui.security import write_refusal

MAX_NOTE = 10_000  # characters


def _shown(note: Any, text: str) -> dict[str, Any]:
    return {"id": note.id, "at": note.created_at.strftime("%Y-%m-%d %H:%M UTC"), "text": text}


def experiment_notes(store: Any, record: Any) -> tuple[list[dict[str, Any]], int]:
    """(the experiment's own notes, the spec's first, oldest first; the newest one's id, 0 if none)."""
    notes = [{"id": 0, "at": "spec", "text": record.spec["notes"]}] if record.spec.get("notes") else []
    own = store.list_notes(record.id)
    return notes + [_shown(n, n.text) for n in own], max((n.id for n in own), default=0)


def trial_notes(store: Any, record: Any, trial_id: int) -> tuple[list[dict[str, Any]], int]:
    """(the notes on trial ``trial_id`` of the experiment, oldest first; the newest one's id, 0 if none)."""
    own = store.list_notes(record.id, trial_id=trial_id)
    return [_shown(n, n.text) for n in own], max((n.id for n in own), default=0)


async def add_note_api(request: Any) -> Any:
    """``POST /api/notes``: add a note (403 read-only or bad token, 409 conflict, 400 bad input, 201 added)."""
    from starlette.concurrency import run_in_threadpool

    ui = request.app.state.ui
    form = await request.form()
    refusal = write_refusal(request, ui.csrf_token, ui.allow_write, form.get("csrf_token"))
    if refusal:
        return plain_json({"error": refusal}, 403)
    return await run_in_threadpool(_add, ui, {k: str(v) for k, v in form.items()})


def _add(ui: Any, form: dict[str, str]) -> Any:
    name, ref, text = form.get("name", ""), form.get("trial", ""), form.get("text", "").strip()
    if not name:
        raise BadRequest("missing form field 'name' (the experiment)")
    if not text:
        raise BadRequest("a note needs some text (form field 'text' is empty)")
    if len(text) > MAX_NOTE:
        raise BadRequest(f"text is {len(text)} characters; a note holds at most {MAX_NOTE}")
    try:
        seen = int(form.get("seen", "0") or 0)
    except ValueError:
        raise BadRequest(f"seen={form.get('seen')!r} is not a note id") from None
    with ui.write_lock:
        record = ui.store.get_experiment(name)
        trial_id = None
        if ref:
            from tunebook.ui.trial import find_trial

            trial_id = find_trial(ui, name, ref)[0].id
            notes, latest = trial_notes(ui.store, record, trial_id)
        else:
            notes, latest = experiment_notes(ui.store, record)
        if latest != seen:
            newer = [n for n in notes if n["id"] and n["id"] > seen]
            where = f"trial {ref}" if ref else f"experiment {name}"
            return plain_json({"error": f"conflict: {len(newer)} note(s) were added to {where} since this page "
                                        "was loaded; yours was NOT saved. Read them below, then submit yours again.",
                               "newer": newer, "latest": latest}, 409)
        note = ui.store.add_note(record.id, text, trial_id=trial_id)
    ui.forget(name)
    return plain_json({"note": _shown(note, text), "latest": note.id}, 201)
