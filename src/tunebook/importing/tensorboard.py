"""Read runs logged with TensorBoard: one folder per run holding ``events.out.tfevents.*`` files.

Every scalar tag in the run folder's own event files becomes a curve named
after the tag (``eval/loss``); its events give steps and values. A run's
params come from a JSON file in its folder when one is named and present,
else from TensorBoard's hparams data: in the run folder's own event files,
or in the sub-folder that torch's ``SummaryWriter.add_hparams`` opens beside
them (``run-07/1732612345.123/``). Such a sub-folder is part of its run, not
a run of its own; the metric values given to ``add_hparams`` and written
there are final numbers, not curves, and are not imported (the run's own
curves hold them). Several hparams sub-folders of one run must agree.
Reading needs the ``tensorboard`` package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from tunebook.core.domains import same_value
from tunebook.core.imports import require
from tunebook.importing.errors import ImportInputError
from tunebook.importing.runs import ImportedRun, Problems, check_params, read_params, run_folders

EVENT_GLOB = "events.out.tfevents.*"
HPARAMS_PLUGIN = "hparams"
_WHOLE = {"scalars": 0, "tensors": 0}  # keep every event
_GLANCE = {"scalars": 1, "tensors": 1}  # tags and plugin data only


def read_tensorboard_runs(root: str | Path, params_file: str | None = None) -> list[ImportedRun]:
    """Every run under ``root``; one ImportInputError listing all problems found."""
    accumulators = require(
        "tensorboard.backend.event_processing.event_accumulator", "import", "reading TensorBoard event files"
    )
    root = Path(root)
    problems: Problems = []
    runs = [run for folder in run_folders(root) if (run := _read_run(accumulators, folder, params_file, problems))]
    if problems:
        raise ImportInputError(problems, str(root))
    return runs


def _read_run(accumulators: Any, folder: Path, params_file: str | None, problems: Problems) -> ImportedRun | None:
    """One run folder as a run; None after recording its problems."""
    before = len(problems)
    hparams_folders = _hparams_folders(accumulators, folder, problems)
    own_events = any(folder.glob(EVENT_GLOB))
    if not own_events and not hparams_folders and len(problems) == before:
        problems.append((folder.name, f"no TensorBoard event files ({EVENT_GLOB})"))
    accumulator = _load(accumulators, folder, folder.name, _WHOLE, problems) if own_events else None
    if len(problems) > before:
        return None
    curves = _scalars(accumulator) if accumulator is not None else {}
    found = [(label, hparams) for label, hparams, _ in hparams_folders]
    own = hparams_from_plugin(accumulator) if accumulator is not None else None
    if own is not None:
        found.insert(0, (f"{folder.name}/{EVENT_GLOB}", own))
    params = _params(folder, params_file, found, problems)
    if params is None:
        return None
    summaries = sorted({tag for *_, tags in hparams_folders for tag in tags} - set(curves))
    return ImportedRun(folder.name, params, curves, f"{folder.name}/{EVENT_GLOB}", tuple(summaries))


def _hparams_folders(accumulators: Any, folder: Path, problems: Problems) -> list[tuple[str, dict, list[str]]]:
    """(label, hparams, scalar tags) of each sub-folder holding hparams data, by name.

    Other sub-folders (checkpoints, ``add_scalars`` output) are not part of the
    import and are skipped.
    """
    found = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and any(p.glob(EVENT_GLOB))):
        label = f"{folder.name}/{sub.name}/"
        accumulator = _load(accumulators, sub, label, _GLANCE, problems)
        hparams = None if accumulator is None else hparams_from_plugin(accumulator)
        if hparams is not None:
            found.append((label, hparams, list(accumulator.Tags().get("scalars", []))))
    return found


def _load(accumulators: Any, folder: Path, label: str, guidance: dict[str, int], problems: Problems) -> Any:
    accumulator = accumulators.EventAccumulator(str(folder), size_guidance=guidance)
    try:
        accumulator.Reload()
    except Exception as exc:  # noqa: BLE001 - tensorboard raises assorted errors on corrupt files
        problems.append((label, f"cannot read event files: {exc}"))
        return None
    return accumulator


def _scalars(accumulator: Any) -> dict[str, tuple]:
    curves = {}
    for tag in accumulator.Tags().get("scalars", []):
        events = accumulator.Scalars(tag)
        if events:
            curves[tag] = (tuple(int(e.step) for e in events), tuple(float(e.value) for e in events))
    return curves


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


def hparams_from_plugin(accumulator: Any) -> dict[str, Any] | None:
    """The hparams a run recorded with TensorBoard's hparams plugin, or None if it recorded none."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    try:
        contents = accumulator.PluginTagToContent(HPARAMS_PLUGIN)
    except KeyError:
        return None
    for content in contents.values():
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        if data.WhichOneof("data") == "session_start_info":
            return {name: _value(v) for name, v in data.session_start_info.hparams.items()}
    return None


def _value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind in ("string_value", "bool_value"):
        return getattr(value, kind)
    return None
