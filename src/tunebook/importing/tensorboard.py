"""Read runs logged with TensorBoard: one folder per run holding ``events.out.tfevents.*`` files.

Every scalar tag becomes a curve named after the tag (``eval/loss``); its
events give steps and values. A run's params come from a JSON file in its
folder when one is named and present, else from the TensorBoard hparams
plugin data in the same event files (``SummaryWriter.add_hparams`` writes
them to a sub-folder: pass that sub-folder's events along with the run's, or
write a JSON params file). Reading needs the ``tensorboard`` package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunebook.core.imports import require
from tunebook.importing.errors import ImportInputError
from tunebook.importing.runs import ImportedRun, Problems, check_params, read_params, run_folders

EVENT_GLOB = "events.out.tfevents.*"
HPARAMS_PLUGIN = "hparams"


def read_tensorboard_runs(root: str | Path, params_file: str | None = None) -> list[ImportedRun]:
    """Every run under ``root``; one ImportInputError listing all problems found."""
    accumulator_module = require(
        "tensorboard.backend.event_processing.event_accumulator", "import", "reading TensorBoard event files"
    )
    root = Path(root)
    problems: Problems = []
    runs = []
    for folder in run_folders(root):
        if not list(folder.glob(EVENT_GLOB)):
            problems.append((folder.name, f"no TensorBoard event files ({EVENT_GLOB})"))
            continue
        accumulator = accumulator_module.EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
        try:
            accumulator.Reload()
        except Exception as exc:  # noqa: BLE001 - tensorboard raises assorted errors on corrupt files
            problems.append((folder.name, f"cannot read event files: {exc}"))
            continue
        params = _params(folder, params_file, accumulator, problems)
        curves = _scalars(accumulator)
        if params is not None:
            runs.append(ImportedRun(folder.name, params, curves, f"{folder.name}/{EVENT_GLOB}"))
    if problems:
        raise ImportInputError(problems, str(root))
    return runs


def _scalars(accumulator: Any) -> dict[str, tuple]:
    curves = {}
    for tag in accumulator.Tags().get("scalars", []):
        events = accumulator.Scalars(tag)
        if events:
            curves[tag] = (tuple(int(e.step) for e in events), tuple(float(e.value) for e in events))
    return curves


def _params(folder: Path, params_file: str | None, accumulator: Any, problems: Problems) -> dict[str, Any] | None:
    if params_file and (folder / params_file).exists():
        return read_params(folder / params_file, f"{folder.name}/{params_file}", problems)
    found = hparams_from_plugin(accumulator)
    if found is None:
        where = f"no {params_file} and " if params_file else ""
        problems.append((folder.name, f"{where}no hparams in the event files: write the run's params as a JSON "
                                      "file in its folder and pass --params NAME"))
        return None
    return check_params(found, f"{folder.name}/{EVENT_GLOB} (hparams)", problems)


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
