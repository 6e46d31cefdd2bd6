"""Event files as TF2, Keras, JAX (flax/clu) and TF1 writers leave them, built with tensorboard's own protobufs.

No TensorFlow: the events are the ``event_pb2.Event`` messages those
writers produce, written by tensorboard's ``EventFileWriter``. A tensor
summary carries the ``scalars`` plugin metadata on a tag's first event only,
as TF2's summary writer does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.hparams import plugin_data_pb2, summary_v2
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.summary.writer.event_file_writer import EventFileWriter

ENCODINGS = ("simple_value", "float_val", "double_val", "content_float32", "content_float64")
BASE_WALL_TIME = 1_700_000_000.0  # 2023-11-14, when the planted runs "ran"


def scalar_tensor(number: float, encoding: str) -> tensor_pb2.TensorProto:
    """A rank-0 tensor holding ``number`` the way ``encoding`` names it."""
    shape = tensor_shape_pb2.TensorShapeProto()
    if encoding == "float_val":
        return tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape, float_val=[number])
    if encoding == "double_val":
        return tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, tensor_shape=shape, double_val=[number])
    if encoding == "content_float32":
        return tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape,
                                      tensor_content=np.float32(number).tobytes())
    if encoding == "content_float64":
        return tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, tensor_shape=shape,
                                      tensor_content=np.float64(number).tobytes())
    raise ValueError(encoding)


class EventWriter:
    """Writes scalar events of any encoding into one new event file of ``folder``."""

    def __init__(self, folder: Path, suffix: str = "") -> None:
        self._writer = EventFileWriter(str(folder), filename_suffix=suffix)
        self._described: set[str] = set()

    def scalar(self, tag: str, step: int, number: float, encoding: str, wall_time: float | None = None) -> None:
        if encoding == "simple_value":
            value = summary_pb2.Summary.Value(tag=tag, simple_value=number)
        else:
            value = summary_pb2.Summary.Value(tag=tag, tensor=scalar_tensor(number, encoding))
            if tag not in self._described:  # TF2 writes a tag's metadata with its first event only
                value.metadata.CopyFrom(scalar_metadata.create_summary_metadata(display_name="", description=""))
                self._described.add(tag)
        self.value(value, step, wall_time)

    def value(self, value: summary_pb2.Summary.Value, step: int, wall_time: float | None = None) -> None:
        summary = summary_pb2.Summary(value=[value])
        wall = BASE_WALL_TIME + step if wall_time is None else wall_time
        self._writer.add_event(event_pb2.Event(wall_time=wall, step=step, summary=summary))

    def hparams_v2(self, hparams: Mapping[str, Any]) -> None:
        """hparams as ``hp.hparams`` / Keras's ``hp.KerasCallback`` (summary_v2) write them."""
        for value in summary_v2.hparams_pb(dict(hparams), start_time_secs=BASE_WALL_TIME).value:
            self.value(value, 0, BASE_WALL_TIME)

    def hparams_v1(self, hparams: Mapping[str, Any]) -> None:
        """hparams as the TF1 writer's ``session_start_pb`` does: its message, built without TensorFlow."""
        info = plugin_data_pb2.SessionStartInfo(model_uri="", monitor_url="", group_name="",
                                                start_time_secs=BASE_WALL_TIME)
        for name, setting in hparams.items():
            if isinstance(setting, bool):
                info.hparams[name].bool_value = setting
            elif isinstance(setting, (int, float)):
                info.hparams[name].number_value = setting
            else:
                info.hparams[name].string_value = setting
        data = plugin_data_pb2.HParamsPluginData(session_start_info=info)
        value = summary_pb2.Summary.Value(tag=hparams_metadata.SESSION_START_INFO_TAG,
                                          metadata=hparams_metadata.create_summary_metadata(data),
                                          tensor=hparams_metadata.NULL_TENSOR)
        self.value(value, 0, BASE_WALL_TIME)

    def close(self) -> None:
        self._writer.close()


def write_curve(folder: Path, tag: str, points: Iterable[tuple[int, float]], encodings: Iterable[str],
                suffix: str = "") -> None:
    """One event file holding ``tag`` at each (step, value), encodings taken in turn."""
    writer = EventWriter(folder, suffix)
    for (step, number), encoding in zip(points, encodings):
        writer.scalar(tag, step, number, encoding)
    writer.close()
