"""Scalars, hparams and wall times from the TensorBoard event files of one folder.

Every scalar encoding TensorBoard knows is read:

- the legacy ``simple_value`` that torch's ``SummaryWriter``, tensorboardX and
  TF1's ``tf.summary.scalar`` write;
- tensor summaries with the ``scalars`` plugin metadata (or the scalar data
  class) that TF2's ``tf.summary.scalar``, Keras's TensorBoard callback and
  JAX writers (flax / clu metric writers) write: a float32, float64 or whole
  number scalar held as ``float_val``, ``double_val``, ``int_val`` or packed
  ``tensor_content``.

Writers put a tag's metadata on its first event only, so a tag's kind is
remembered for the rest of the folder. Files are read as the tensorboard
package's own ``EventFileLoader`` reads them (its record reader and compat
layers, which turn ``simple_value`` into a scalar tensor), no TensorFlow
needed.

Several event files in one folder are restarts of one run: they are taken in
the order they were started (their first event's wall time, then name), and
a later file's points of a tag replace the earlier files' points of that tag
from its first step on: training resumed from a checkpoint at that step and
redid them, so the later write wins. This is TensorBoard's own rule (its
``purge_orphaned_data``). Within a file, a step logged twice keeps its last
value.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Iterator

EVENT_GLOB = "events.out.tfevents.*"
SCALARS_PLUGIN = "scalars"
HPARAMS_PLUGIN = "hparams"
_RECORD_FRAMING = 16  # a TFRecord: 8-byte length, 4-byte length CRC, the data, 4-byte data CRC
_SCALAR_DTYPE_KINDS = "fiub"  # numpy dtype kinds a scalar value may have: float, int, unsigned, bool


@dataclasses.dataclass
class FolderEvents:
    """What one folder's event files hold.

    ``curves``: tag -> (steps, values) in step order. ``hparams``: each
    distinct set of hparams found (HParams plugin session_start_info, v1 or
    v2 writers, torch's add_hparams). ``left_out``: tag -> why it is not a
    curve. ``replaced``: tag -> (count, first step) of earlier points a
    restart replaced. ``wall_times``: (first, last) wall time of a logged
    value in seconds since the epoch, None if no value was logged.
    """

    curves: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = dataclasses.field(default_factory=dict)
    hparams: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    left_out: dict[str, str] = dataclasses.field(default_factory=dict)
    replaced: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    wall_times: tuple[float, float] | None = None


class EventFileError(Exception):
    """An event file that cannot be read; the message names the file."""


def read_folder(folder: Path) -> FolderEvents:
    """The folder's own event files (not sub-folders'), merged; EventFileError on an unreadable file.

    Files are streamed one event at a time: only scalar points are kept, so
    logs heavy with images or histograms do not fill memory.
    """
    found = FolderEvents()
    kinds: dict[str, str] = {}  # tag -> plugin name, from the first event that carried metadata
    merged: dict[str, dict[int, float]] = {}
    walls = [math.inf, -math.inf]
    for path in sorted(folder.glob(EVENT_GLOB), key=lambda p: (_first_wall_time(p), p.name)):
        points: dict[str, dict[int, float]] = {}
        for event in _events(path, found):
            if event.wall_time > 0 and event.summary.value:  # not the writer's file_version record
                walls = [min(walls[0], event.wall_time), max(walls[1], event.wall_time)]
            for value in event.summary.value:
                _take_value(value, int(event.step), kinds, points, found)
        _merge(points, merged, found.replaced)
    found.curves = {tag: (tuple(sorted(steps)), tuple(steps[s] for s in sorted(steps)))
                    for tag, steps in merged.items() if steps}
    found.wall_times = (walls[0], walls[1]) if math.isfinite(walls[0]) else None
    return found


def _records(path: Path) -> Iterator[bytes]:
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader

    return RawEventFileLoader(str(path)).Load()


def _events(path: Path, found: FolderEvents) -> Iterator[Any]:
    """The file's events as ``EventFileLoader`` gives them (simple_value migrated to scalar tensors).

    The loader stops quietly at a damaged record, as it must for files still
    being written; here a non-empty file with no readable record is an
    EventFileError, an empty one is noted in ``left_out``, and a damaged tail (a writer cut off mid-record) is noted in ``left_out``.
    """
    from tensorboard import data_compat, dataclass_compat
    from tensorboard.compat.proto import event_pb2

    read, metadata = 0, {}
    try:
        for record in _records(path):
            read += len(record) + _RECORD_FRAMING
            yield from dataclass_compat.migrate_event(data_compat.migrate_event(event_pb2.Event.FromString(record)),
                                                      metadata)
    except Exception as exc:  # noqa: BLE001 - tensorboard and protobuf raise assorted errors on corrupt files
        raise EventFileError(f"cannot read event file {path.name}: {exc}") from None
    size = path.stat().st_size
    if not size:  # a writer that opened its file and died before its first record
        found.left_out[f"{path.name}"] = "an empty event file"
        return
    if not read:
        raise EventFileError(f"cannot read event file {path.name}: no readable record in its {size} bytes "
                             "(damaged, or not an event file)")
    if read < size:
        found.left_out[f"{path.name}'s last {size - read} bytes"] = "a damaged or cut-off record"


def _first_wall_time(path: Path) -> float:
    """When the file was started: its first event's wall time (the writer's file_version record)."""
    from tensorboard.compat.proto import event_pb2

    try:
        first = next(iter(_records(path)), None)
        return event_pb2.Event.FromString(first).wall_time if first else math.inf
    except Exception:  # noqa: BLE001 - a damaged file is reported when it is read in full
        return math.inf


def _take_value(value: Any, step: int, kinds: dict[str, str], points: dict[str, dict[int, float]],
                found: FolderEvents) -> None:
    """File one summary value: a scalar point, a set of hparams, or a tag left out with the reason."""
    tag = value.tag
    metadata = value.metadata
    if metadata.plugin_data.plugin_name:
        kinds[tag] = metadata.plugin_data.plugin_name
    elif metadata.data_class == _scalar_data_class():
        kinds[tag] = SCALARS_PLUGIN
    kind = kinds.get(tag, "")
    if kind == HPARAMS_PLUGIN:
        hparams = _hparams(metadata.plugin_data.content)
        if hparams is not None and hparams not in found.hparams:
            found.hparams.append(hparams)
    elif kind == SCALARS_PLUGIN:
        number = _scalar(value)
        if number is None:
            found.left_out.setdefault(tag, "logged as a scalar summary but holds no single number")
        else:
            points.setdefault(tag, {})[step] = number
    elif tag not in found.left_out:
        found.left_out[tag] = f"{kind or 'untyped tensor'} data, not a scalar"


def _scalar_data_class() -> int:
    from tensorboard.compat.proto import summary_pb2

    return summary_pb2.DATA_CLASS_SCALAR


def _scalar(value: Any) -> float | None:
    """The single number a scalar summary holds (simple_value or a tensor of one element), else None."""
    from tensorboard.util import tensor_util

    if value.HasField("simple_value"):  # not migrated by the loader: keep it as it is
        return float(value.simple_value)
    if not value.HasField("tensor"):
        return None
    try:
        array = tensor_util.make_ndarray(value.tensor)
    except (TypeError, ValueError):
        return None
    if array.size != 1 or array.dtype.kind not in _SCALAR_DTYPE_KINDS:
        return None
    return float(array.reshape(()))


def _hparams(content: bytes) -> dict[str, Any] | None:
    """The hparams of a session_start_info record (HParams plugin), None for its other records."""
    from google.protobuf.message import DecodeError
    from tensorboard.plugins.hparams import plugin_data_pb2

    try:
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
    except DecodeError:
        return None
    if data.WhichOneof("data") != "session_start_info":
        return None
    return {name: _hparam_value(v) for name, v in data.session_start_info.hparams.items()}


def _hparam_value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind in ("string_value", "bool_value"):
        return getattr(value, kind)
    return None


def _merge(points: dict[str, dict[int, float]], merged: dict[str, dict[int, float]],
           replaced: dict[str, tuple[int, int]]) -> None:
    """Add one file's points: for each tag, earlier points from its first step on give way to it."""
    for tag, steps in points.items():
        if not steps:
            continue
        first = min(steps)
        earlier = merged.setdefault(tag, {})
        stale = [s for s in earlier if s >= first]
        if stale:
            count, _ = replaced.get(tag, (0, first))
            replaced[tag] = (count + len(stale), first)
            for step in stale:
                del earlier[step]
        earlier.update(steps)
