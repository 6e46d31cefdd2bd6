"""The Trial page: params (conditional ids too), state and reason, every metric's curves, checkpoints,
the tail of stdout/stderr, the code version, the reproduce command and the trial's notes.

Curves come from ``/api/curves``: every metric of the trial, each thinned on
the server to ``plots.lines.MAX_POINTS``-ish points by ``plots.lines.decimate``
(the bucket's lowest and highest, and the first NaN/inf: spikes and divergence
stay visible), so a trial of 1,000,000 points opens at once. With
``after=STEP`` only points past that step come back (the Live page's and a
running trial's growth), thinned the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tunebook.core.provenance import code_line, rerun_command
from tunebook.core.records import plain_name
from tunebook.ui.params import BadRequest, integer, required, trial_ref
from tunebook.ui.responses import page, plain_json

CURVE_POINTS = 1000  # per metric on the Trial page: a wide panel's pixels
LOG_LINES = 200  # the log tail the Trial page shows (``/api/log`` may ask for up to 5,000)


def find_trial(ui: Any, name: str, ref: str) -> tuple[Any, str, Any]:
    """(the Trial record, its name ``STUDY/NUMBER``, the experiment's record) of trial ``ref`` of experiment
    ``name``, looked up in the store by study and number (no other trial is read); NotFoundError if none."""
    from tunebook.core.errors import NotFoundError
    from tunebook.core.records import trial_name

    study_key, number = trial_ref(ref)
    record = ui.store.get_experiment(name)
    study = next((s for s in ui.store.list_studies(record.id) if s.key == study_key), None)
    trial = ui.store.trial_by_number(study.id, number) if study is not None else None
    if trial is None:
        raise NotFoundError(f"experiment {name!r} has no trial {ref!r}")
    return trial, trial_name(study_key, number), record


def trial_page(request: Any) -> Any:
    """``/trial?name=EXP&trial=STUDY/NUMBER``."""
    from tunebook.core.experiment import Experiment
    from tunebook.ui.notes import trial_notes

    ui = request.app.state.ui
    name = required(request, "name")
    trial, ref, record = find_trial(ui, name, required(request, "trial"))
    version = ui.store.get_code_version(trial.code_version_id) if trial.code_version_id is not None else None
    if version is not None:
        reproduce = rerun_command(name, ref, ui.store_label)
    else:
        reproduce = f"tunebook run {record.source} --store {ui.store_label}" if record.source else None
    params = [{"id": k, "name": plain_name(k), "value": v, "conditional": k != plain_name(k)}
              for k, v in trial.params.items()]
    notes, latest = trial_notes(ui.store, record, trial.id)
    log_lines, missing = _log_tail(ui, name, ref, "stdout", LOG_LINES)
    return page(request, "trial.html", title=f"{name}/{ref}", name=name, trial=trial, ref=ref, params=params,
                code=code_line(version), reproduce=reproduce, checkpoints=ui.store.list_checkpoints(trial.id),
                objective=Experiment.from_dict(record.spec).objective, notes=notes, latest_note=latest,
                log_lines=log_lines, log_note=missing or f"last {len(log_lines)} lines of stdout.log")


def _log_tail(ui: Any, name: str, ref: str, stream: str, lines: int) -> tuple[list[str], str | None]:
    """(the last ``lines`` lines of the trial's ``stream`` log, None), or ([], why there is no log to show)."""
    from tunebook.ui.logs import tail, trial_log

    study, number = trial_ref(ref)
    path, why = trial_log(ui.runs_dir, name, study, number, stream)
    return (tail(path, lines), None) if path else ([], why)


def curves_api(request: Any) -> Any:
    """``/api/curves?name=&trial=[&after=STEP]``: ``{metrics: {name: {steps, values}}, last_step, state}``."""
    ui = request.app.state.ui
    name = required(request, "name")
    fresh = find_trial(ui, name, required(request, "trial"))[0]  # read now: its state and objective current
    after = integer(request, "after", -1, -1, 2**62)
    if after == -1 and fresh.state.is_finished:  # its curves will not change: thinned once, then cached
        metrics, last_step = ui.cached_forever(("curves", name, fresh.id), lambda: _thinned(ui, fresh.id, after))
    else:
        metrics, last_step = _thinned(ui, fresh.id, after)
    return plain_json({"metrics": metrics, "last_step": last_step, "state": fresh.state.value,
                       "objective": fresh.objective, "reason": fresh.reason})


def _thinned(ui: Any, trial_id: int, after: int) -> tuple[dict[str, Any], int]:
    """Per metric the points after step ``after``, thinned; and the last step logged (``after`` if none)."""
    curves = ui.store.load_curves(trial_ids=[trial_id])
    metrics = {}
    last_step = after
    for metric, points in curves.groupby("metric", observed=True, sort=True):
        steps, values = points["step"].to_numpy(), points["value"].to_numpy(dtype=float)
        steps, values = _latest(steps, values)
        if len(steps):
            last_step = max(last_step, int(steps[-1]))
        new = steps > after
        steps, values = _thin(steps[new], values[new])
        metrics[str(metric)] = {"steps": steps.tolist(), "values": values.tolist()}
    return metrics, last_step


def _latest(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One value per step, the one logged last (a resumed trial re-logs steps), as ``analysis.latest_points``."""
    if len(steps) < 2 or (np.diff(steps) > 0).all():
        return steps, values
    keep = np.append(steps[1:] != steps[:-1], True)
    return steps[keep], values[keep]


def _thin(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from tunebook.plots.lines import decimate

    return decimate(steps, values, CURVE_POINTS)


def log_api(request: Any) -> Any:
    """``/api/log?name=&trial=&stream=stdout|stderr[&lines=N]``: the last N lines (default 200, up to 5,000).

    The file is the trial folder's ``stdout.log``/``stderr.log``
    (``logs.trial_log``): no name from the request reaches the path.
    """
    ui = request.app.state.ui
    name = required(request, "name")
    trial, ref, _ = find_trial(ui, name, required(request, "trial"))
    stream = request.query_params.get("stream", "stdout")
    if stream not in ("stdout", "stderr"):
        raise BadRequest(f"stream={stream!r} is not stdout or stderr")
    lines, missing = _log_tail(ui, name, ref, stream, integer(request, "lines", LOG_LINES, 1, 5000))
    return plain_json({"stream": stream, "lines": lines, "missing": missing})
