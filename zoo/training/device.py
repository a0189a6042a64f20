"""Backend, device, precision and determinism set-up, and the cuDNN eligibility check for recurrent layers.

The XLA policy (`trainer.jit_compile`) is in `zoo.training.compile`.
"""

import logging
import os
import sys

import keras

from zoo.errors import ZooError
from zoo.validation import one_of

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "gpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
BACKENDS = ("tensorflow", "jax", "torch")


def loaded_tensorflow():
    """Returns TensorFlow where this process runs it (its backend, or imported by a library), else None;
    JAX and PyTorch never need it installed."""
    if backend_name() == "tensorflow":
        import tensorflow as tf

        return tf
    return sys.modules.get("tensorflow")


def backend_name():
    """Returns the Keras backend this process runs ("tensorflow", "jax" or "torch"), chosen by `KERAS_BACKEND` at start-up."""
    return keras.backend.backend()


def check_backend(recorded):
    """Raises a ZooError unless `recorded` (a config's `trainer.backend`) is the backend this process runs.

    Keras picks its backend once, when it is imported, so a config value cannot switch it.
    """
    running = backend_name()
    if running not in BACKENDS:
        raise ZooError(f"Keras runs on the {running} backend, which the zoo does not support: set KERAS_BACKEND to one of {', '.join(BACKENDS)}.")
    if recorded != running:
        raise ZooError(
            f"trainer.backend={recorded} but Keras runs on {running}: the backend is chosen before Python starts, "
            f"so run KERAS_BACKEND={recorded} python train.py ... instead of setting trainer.backend."
        )


def configure_device(device="auto", precision="float32", deterministic=False):
    """Chooses the device and precision; call before any TensorFlow or JAX op runs.

    GPUs get memory growth so several runs can share one card (TensorFlow); on JAX, a TensorFlow
    some library loaded gets no GPU.

    Args:
        device: "auto" (GPU if the backend sees one), "cpu" or "gpu".
        precision: "float32", "mixed_float16" or "mixed_bfloat16".
        deterministic: on JAX, asks XLA for deterministic GPU kernels (JAX on CPU is deterministic already).

    Returns:
        "GPU" or "CPU": where training will run.
    """
    one_of("trainer.device", device, DEVICES)
    one_of("trainer.precision", precision, PRECISIONS)
    if backend_name() == "jax":
        gpus = _configure_jax_device(device, deterministic)
    elif backend_name() == "torch":
        gpus = _configure_torch_device(device, deterministic)
    else:
        gpus = _configure_tensorflow_device(device)
    if not gpus:
        use_one_inter_op_thread()
    keras.mixed_precision.set_global_policy(precision)
    return "GPU" if gpus else "CPU"


def _no_gpu_error(framework):
    return ZooError(
        f"trainer.device=gpu but {framework} sees no GPU: install the gpu extra "
        "(pip install -e '.[gpu]') on a CUDA machine, or set trainer.device=auto."
    )


def _configure_tensorflow_device(device):
    """Hides or prepares TensorFlow's GPUs (memory growth); returns the GPUs training uses."""
    tf = loaded_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise _no_gpu_error("TensorFlow")
    if device == "cpu" and gpus:
        tf.config.set_visible_devices([], "GPU")
        gpus = []
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised by an earlier run in this process
            pass
    return gpus


def _configure_jax_device(device, deterministic):
    """Chooses JAX's device; a TensorFlow loaded beside it gets no GPU, so JAX has the whole card."""
    import jax

    if deterministic and "--xla_gpu_deterministic_ops" not in os.environ.get("XLA_FLAGS", ""):
        # Read when JAX starts its backends (at its first op), so set before jax.devices().
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_gpu_deterministic_ops=true").strip()

    tf = loaded_tensorflow()
    try:
        if tf is not None:
            tf.config.set_visible_devices([], "GPU")
    except RuntimeError:  # TensorFlow already started in this process
        pass
    if device == "cpu":
        jax.config.update("jax_platforms", "cpu")
    gpus = [d for d in jax.devices() if d.platform == "gpu"]
    if device == "gpu" and not gpus:
        raise _no_gpu_error("JAX")
    return gpus


def _configure_torch_device(device, deterministic):
    """Checks PyTorch's device against `device`: Keras places every tensor on its default device
    (`KERAS_TORCH_DEVICE`, else a GPU when torch sees one), chosen when Keras is imported."""
    import torch
    from keras.src.backend.torch.core import get_device  # no public name for the device Keras chose

    on_gpu = str(get_device()).startswith("cuda")
    if device == "gpu" and not on_gpu:
        raise _no_gpu_error("PyTorch")
    if device == "cpu" and on_gpu:
        raise ZooError("trainer.device=cpu, but Keras already placed the torch backend on the GPU: run KERAS_TORCH_DEVICE=cpu python train.py ...")
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)  # warns where an op has no deterministic kernel
    return [get_device()] if on_gpu else []


def use_one_inter_op_thread():
    """On CPU, runs independent ops one after another, each op still on every core.

    A recurrent model's step is a chain of ops, so a second inter-op thread mostly competes for the
    cores (docs/benchmarks.md); the results are the same numbers (the same kernels run).
    """
    tf = loaded_tensorflow()
    try:
        if tf is not None:
            tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already started in this process (a second run in one process)
        pass


def seed_everything(seed, deterministic=True):
    """Seeds Python, NumPy and Keras and, if `deterministic`, makes TensorFlow ops deterministic where TensorFlow runs."""
    if backend_name() != "tensorflow" and "tensorflow" not in sys.modules:
        # Keras also seeds TensorFlow wherever it is installed; JAX and PyTorch runs never load it.
        sys.modules["tensorflow"] = None
        try:
            keras.utils.set_random_seed(seed)
        finally:
            del sys.modules["tensorflow"]
    else:
        keras.utils.set_random_seed(seed)
    tf = loaded_tensorflow()
    if deterministic and tf is not None:
        tf.config.experimental.enable_op_determinism()


def nested_layers(model):
    """Yields every layer in `model`: wrappers (Bidirectional, TimeDistributed) and nested models, then what they hold."""
    from zoo.layers import AutoregressiveLoop  # Keras layers: imported once a model exists

    pending = list(model.layers)
    while pending:
        layer = pending.pop(0)
        yield layer
        if isinstance(layer, keras.layers.Bidirectional):
            pending[:0] = [layer.forward_layer, layer.backward_layer]
        elif isinstance(layer, keras.layers.TimeDistributed):
            pending.insert(0, layer.layer)
        elif isinstance(layer, keras.Model):
            pending[:0] = list(layer.layers)
        elif isinstance(layer, AutoregressiveLoop):  # a free-running seq2seq's decoder lives inside its loop
            pending.insert(0, layer.decoder)


def recurrent_layers(model):
    """Yields every LSTM and GRU layer in `model`, unwrapping Bidirectional and TimeDistributed."""
    return (layer for layer in nested_layers(model) if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)))


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
