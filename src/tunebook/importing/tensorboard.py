"""Read runs logged with TensorBoard: one folder per run holding ``events.out.tfevents.*`` files.

Every scalar tag in a run folder's own event files becomes a curve named
after the tag (``eval/loss``), whatever encoding wrote it (tb_events: the
legacy ``simple_value`` of torch and tensorboardX, the ``scalars`` tensor
summaries of TF2, Keras and JAX writers, mixed freely); restarts' event files
are merged by step, the later write winning. A sub-folder holding scalars is
part of its run: Keras's TensorBoard callback writes ``run/train/`` and
``run/validation/``, so their tags become ``train/epoch_loss`` and
``validation/epoch_loss``. Tags that hold no scalars (histograms, images,
text, graphs) are left out and said so.

A run's params come from a JSON file in its folder when one is named and
present, else from TensorBoard's HParams plugin data (session_start_info, as
the v1 and v2 hparams writers, Keras's ``hp.KerasCallback`` and torch's
``add_hparams`` write it): in the run folder's own event files, or in the
sub-folder that torch's ``SummaryWriter.add_hparams`` opens beside them
(``run-07/1732612345.123/``). Such a sub-folder gives params, not curves:
the metric values given to ``add_hparams`` are final numbers and are not
imported (the run's own curves hold them). Several sets of hparams in one
run must agree. The run's first and last event wall times are kept as when
it started and finished. Reading needs the ``tensorboard`` package.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from tunebook.core.domains import same_value
from tunebook.core.imports import require
from tunebook.importing.errors import ImportInputError
from tunebook.importing.runs import ImportedRun, LeftOut, Problems, check_params, read_params, run_folders
from tunebook.importing.tb_events import EVENT_GLOB, EventFileError, FolderEvents, read_folder


def read_tensorboard_runs(root: str | Path, params_file: str | None = None,
                          left_out: list[LeftOut] | None = None) -> list[ImportedRun]:
    """Every run under ``root``; one ImportInputError listing all problems found.

    What was seen and not imported (non-scalar tags, add_hparams' final
    values, points a restart replaced) is appended to ``left_out``.
    """
    require("tensorboard.backend.event_processing.event_file_loader", "import", "reading TensorBoard event files")
    root = Path(root)
    problems: Problems = []
    notes: list[LeftOut] = []
    runs = [run for folder in run_folders(root) if (run := _read_run(folder, params_file, problems, notes))]
    if problems:
        raise ImportInputError(problems, str(root))
    if left_out is not None:
        left_out.extend(notes)
    return runs


def _read_run(folder: Path, params_file: str | None, problems: Problems, notes: list[LeftOut]) -> ImportedRun | None:
    """One run folder as a run; None after recording its problems."""
    before = len(problems)
    folders = _event_folders(folder, problems)
    if folders is None:
        return None
    if not folders:
        problems.append((folder.name, f"no TensorBoard event files ({EVENT_GLOB})"))
        return None
    curves: dict[str, tuple] = {}
    found: list[tuple[str, dict]] = []
    summaries: set[str] = set()
    for prefix, events in folders:
        label = f"{folder.name}/{prefix}" if prefix else f"{folder.name}/{EVENT_GLOB}"
        found += [(label, hparams) for hparams in events.hparams]
        if prefix and events.hparams:  # torch's add_hparams sub-folder: params, and final values only
            summaries |= set(events.curves)
            continue
        named = {prefix + tag: curve for tag, curve in events.curves.items()}
        for clash in sorted(set(named) & set(curves)):
            problems.append((folder.name, f"two curves would be named {clash}: the tag {clash} in its own event "
                                          f"files and the tag {clash[len(prefix):]} in its {prefix} sub-folder"))
        curves.update(named)
        notes += _notes(folder.name, prefix, events)
    params = _params(folder, params_file, found, problems)
    if params is None or len(problems) > before:
        return None
    final_only = sorted(summaries - set(curves))
    notes += [LeftOut(folder.name, tag, "a final value given to add_hparams, not a curve") for tag in final_only]
    started, finished = _wall_times([events for _, events in folders])
    return ImportedRun(folder.name, params, curves, f"{folder.name}/{EVENT_GLOB}", tuple(final_only),
                       started_at=started, finished_at=finished)


def _event_folders(folder: Path, problems: Problems) -> list[tuple[str, FolderEvents]] | None:
    """(curve name prefix, events) of the run folder and each sub-folder holding event files.

    The run folder's own files come first with prefix ''; a sub-folder's
    prefix is its name and '/'. None after recording an unreadable file.
    """
    own = [(folder, "")] if any(folder.glob(EVENT_GLOB)) else []
    subs = [(sub, f"{sub.name}/") for sub in sorted(folder.iterdir()) if sub.is_dir() and any(sub.glob(EVENT_GLOB))]
    found, before = [], len(problems)
    for path, prefix in own + subs:
        try:
            found.append((prefix, read_folder(path)))
        except EventFileError as exc:
            problems.append((f"{folder.name}/{prefix}", str(exc)))
    return found if len(problems) == before else None


def _notes(run: str, prefix: str, events: FolderEvents) -> list[LeftOut]:
    notes = [LeftOut(run, prefix + tag, why) for tag, why in sorted(events.left_out.items())]
    for tag, (count, step) in sorted(events.replaced.items()):
        notes.append(LeftOut(run, f"{count} earlier points of {prefix + tag}",
                             f"replaced by a later event file restarting at step {step}"))
    return notes


def _wall_times(folders: list[FolderEvents]) -> tuple[datetime | None, datetime | None]:
    spans = [events.wall_times for events in folders if events.wall_times]
    if not spans:
        return None, None
    return (datetime.fromtimestamp(min(s[0] for s in spans), timezone.utc),
            datetime.fromtimestamp(max(s[1] for s in spans), timezone.utc))


def _params(folder: Path, params_file: str | None, found: list[tuple[str, dict]],
            problems: Problems) -> dict[str, Any] | None:
    """The params file's content, else the one set of hparams found (``found``: where, hparams)."""
    if params_file and (folder / params_file).exists():
        return read_params(folder / params_file, f"{folder.name}/{params_file}", problems)
    if not found:
        where = f"no {params_file} and " if params_file else ""
        problems.append((folder.name, f"{where}no hparams in the event files: write the run's params as a JSON "
                                      "file in its folder and pass --params NAME"))
        return None
    (label, hparams), others = found[0], found[1:]
    for other_label, other in others:
        difference = _difference(hparams, other)
        if difference:
            problems.append((folder.name, f"conflicting hparams in {label} and {other_label} ({difference}); a run "
                                          "has one set of hparams: delete the stale add_hparams sub-folder, or "
                                          "write the run's params as a JSON file in its folder and pass --params "
                                          "NAME"))
            return None
    return check_params(hparams, f"{label} (hparams)", problems)


def _difference(one: Mapping[str, Any], other: Mapping[str, Any]) -> str | None:
    """The first hparam that differs between two sets, as text; None if they agree."""
    for name in sorted(set(one) | set(other)):
        if name not in one or name not in other:
            return f"{name} is set in only one"
        if not same_value(one[name], other[name]):
            return f"{name}: {one[name]!r} vs {other[name]!r}"
    return None
