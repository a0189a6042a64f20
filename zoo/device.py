"""Device, precision and determinism set-up, and the cuDNN eligibility check for recurrent layers."""

import logging

import keras
import tensorflow as tf

from zoo.errors import ZooError
from zoo.validation import one_of

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "gpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def configure_device(device="auto", precision="float32"):
    """Chooses the device and precision; call before any TensorFlow op runs.

    GPUs get memory growth so several runs can share one card.

    Args:
        device: "auto" (GPU if TensorFlow sees one), "cpu" or "gpu".
        precision: "float32", "mixed_float16" or "mixed_bfloat16".

    Returns:
        "GPU" or "CPU": where training will run.
    """
    one_of("trainer.device", device, DEVICES)
    one_of("trainer.precision", precision, PRECISIONS)
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise ZooError(
            "trainer.device=gpu but TensorFlow sees no GPU: install the gpu extra "
            "(pip install -e '.[gpu]') on a CUDA machine, or set trainer.device=auto."
        )
    if device == "cpu" and gpus:
        tf.config.set_visible_devices([], "GPU")
        gpus = []
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised by an earlier run in this process
            pass
    if not gpus:
        use_one_inter_op_thread()
    keras.mixed_precision.set_global_policy(precision)
    return "GPU" if gpus else "CPU"


def use_one_inter_op_thread():
    """On CPU, runs independent ops one after another, each op still on every core.

    Measured on the 2-core machine (default model, batch 64, two alternating rounds): 5,014 to
    5,275 series/s against 4,572 to 4,608 with TensorFlow's default pools, about 1.1x; a recurrent
    model's step is a chain of ops, so a second inter-op thread mostly competes for the cores.
    The results are the same numbers (the same kernels run).
    """
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already started in this process (a second run in one process)
        pass


def seed_everything(seed, deterministic=True):
    """Seeds Python, NumPy and Keras and, if `deterministic`, makes TensorFlow ops deterministic."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def recurrent_layers(model):
    """Yields every LSTM and GRU layer in `model`, unwrapping Bidirectional and TimeDistributed."""
    pending = list(model.layers)
    while pending:
        layer = pending.pop(0)
        if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
            yield layer
        elif isinstance(layer, keras.layers.Bidirectional):
            pending[:0] = [layer.forward_layer, layer.backward_layer]
        elif isinstance(layer, keras.layers.TimeDistributed):
            pending.insert(0, layer.layer)
        elif isinstance(layer, keras.Model):
            pending[:0] = list(layer.layers)


def cudnn_problems(layer):
    """Lists why `layer` (LSTM or GRU) cannot use the cuDNN kernel; empty when it can.

    These are the conditions of Keras' TensorFlow backend (`backend.tensorflow.rnn.cudnn_ok`)
    plus its run-time ones: no recurrent dropout and `use_cudnn` not False. Masks must be
    right-padded, which the zoo's data always is.
    """
    cell = layer.cell
    problems = []
    if cell.activation not in (keras.activations.tanh,):
        problems.append("activation is not tanh")
    if cell.recurrent_activation not in (keras.activations.sigmoid,):
        problems.append("recurrent_activation is not sigmoid")
    if cell.recurrent_dropout:
        problems.append("recurrent_dropout > 0")
    if layer.unroll:
        problems.append("unroll=True")
    if not cell.use_bias:
        problems.append("use_bias=False")
    if isinstance(layer, keras.layers.GRU) and not cell.reset_after:
        problems.append("reset_after=False")
    if layer.use_cudnn is False:
        problems.append("use_cudnn=False")
    return problems


def describe_cudnn(model, device):
    """Returns one log sentence saying whether the model's recurrent layers will use cuDNN on `device`."""
    layers = list(recurrent_layers(model))
    if not layers:
        return "The model has no recurrent layers."
    blocked = {layer.name: cudnn_problems(layer) for layer in layers}
    blocked = {name: problems for name, problems in blocked.items() if problems}
    if blocked:
        return f"Recurrent layers that cannot use cuDNN: {blocked}."
    if device == "GPU":
        return f"All {len(layers)} recurrent layers meet the cuDNN conditions and will use the cuDNN kernel."
    return f"All {len(layers)} recurrent layers meet the cuDNN conditions (cuDNN is used only on a GPU)."
