"""A TensorBoard event writer that needs no TensorFlow: the `tensorboard` package's own event file
writer and summary protos, so every Keras backend logs the same scalars, text, images, histograms,
HParams and Custom Scalars layouts as `tf.summary` would."""

import sys
import time
import types

import keras
import numpy as np

if keras.backend.backend() != "tensorflow":
    # TensorBoard's switch to its own file layer (local and S3 paths), so JAX and PyTorch runs never import TensorFlow.
    sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))

from tensorboard.compat import tf as tensorboard_tf  # noqa: E402  (TensorFlow's file systems on its backend: gs:// too)
from tensorboard.compat.proto import event_pb2, summary_pb2  # noqa: E402
from tensorboard.plugins.custom_scalar import metadata as custom_scalar_metadata  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402
from tensorboard.plugins.hparams.summary_v2 import HParam, Metric, hparams_config_pb, hparams_pb  # noqa: E402
from tensorboard.plugins.histogram.summary_v2 import histogram_pb  # noqa: E402
from tensorboard.plugins.image import metadata as image_metadata  # noqa: E402
from tensorboard.plugins.scalar.summary_v2 import scalar_pb  # noqa: E402
from tensorboard.plugins.text.summary_v2 import text_pb  # noqa: E402
from tensorboard.summary.writer.event_file_writer import EventFileWriter  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

gfile = tensorboard_tf.io.gfile


class SummaryWriter:
    """Appends summaries to one event file in `log_dir` (one TensorBoard run).

    Args:
        log_dir: str. The run's TensorBoard directory; made if missing.
    """

    def __init__(self, log_dir):
        self._writer = EventFileWriter(str(log_dir), filename_suffix=".v2")

    def _add(self, summary, step):
        if not isinstance(summary, summary_pb2.Summary):  # some helpers build TensorFlow's own proto where it is installed
            summary = summary_pb2.Summary.FromString(summary.SerializeToString())
        self._writer.add_event(event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def scalar(self, tag, value, step):
        self._add(scalar_pb(tag, float(value)), step)

    def text(self, tag, text, step=0):
        self._add(text_pb(tag, text), step)

    def histogram(self, tag, values, step):
        self._add(histogram_pb(tag, np.asarray(values, dtype="float64").reshape(-1)), step)

    def image(self, tag, png_bytes, width, height, step=0):
        """Writes one PNG image (as `tf.summary.image` stores it: width, height, then the encoded image)."""
        tensor = tensor_util.make_tensor_proto([str(width).encode(), str(height).encode(), png_bytes], dtype=np.object_)
        metadata = image_metadata.create_summary_metadata(display_name=tag, description="", converted_to_tensor=True)
        self._add(summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, metadata=metadata, tensor=tensor)]), step)

    def hparams(self, values, trial_id):
        self._add(hparams_pb(values, trial_id=trial_id), 0)

    def experiment(self, hparam_names, metric_tags, differing=()):
        """Writes the HParams experiment: its table's hyperparameters, metrics in order, and the hyperparameters that
        differ between its runs (TensorBoard lists those first, each group by name)."""
        summary = hparams_config_pb([HParam(name) for name in hparam_names], [Metric(tag) for tag in metric_tags])
        plugin_data = summary.value[0].metadata.plugin_data
        content = plugin_data_pb2.HParamsPluginData.FromString(plugin_data.content)
        for info in content.experiment.hparam_infos:
            info.differs = info.name in differing
        plugin_data.content = content.SerializeToString()
        self._add(summary, 0)

    def custom_scalars(self, layout):
        """Writes a Custom Scalars layout (`layout_pb2.Layout`), as `custom_scalar.summary.pb` does with TensorFlow."""
        tensor = tensor_util.make_tensor_proto(layout.SerializeToString(), dtype=np.object_)
        value = summary_pb2.Summary.Value(tag=custom_scalar_metadata.CONFIG_SUMMARY_TAG, metadata=custom_scalar_metadata.create_summary_metadata(), tensor=tensor)
        self._add(summary_pb2.Summary(value=[value]), 0)

    def flush(self):
        self._writer.flush()

    def close(self):
        self._writer.close()


def png_size(png_bytes):
    """Returns `(width, height)` of a PNG from its header."""
    return int.from_bytes(png_bytes[16:20], "big"), int.from_bytes(png_bytes[20:24], "big")
