"""The XLA compile policy: what `trainer.jit_compile=auto` means per backend, and XLA under op determinism."""

import contextlib

import keras

from zoo.errors import ZooError
from zoo.training.device import backend_name, nested_layers


def resolve_jit_compile(value):
    """Returns `trainer.jit_compile` with `auto` decided for the running backend.

    `auto` is XLA on JAX (its compiled path; without it JAX runs op by op) and off on TensorFlow,
    whose cuDNN LSTM kernels are not XLA-compatible.
    """
    if value == "auto":
        return backend_name() == "jax"
    return value


# Layers whose gradient TensorFlow refuses to compile with XLA while op determinism is on.
NO_DETERMINISTIC_XLA = (keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.MaxPooling3D)


def compile_model(model, *, jit_compile, **arguments):
    """`model.compile(jit_compile=..., **arguments)`, keeping XLA when TensorFlow runs deterministically.

    Keras silently turns `jit_compile=True` off on TensorFlow whenever op determinism is on (the
    zoo's default), since XLA has no deterministic gradient for some ops. The zoo compiles with
    determinism paused instead, after refusing models with such a layer (max pooling), so
    `trainer.jit_compile=true` does what it says and seeded runs still repeat exactly.

    Args:
        model: the built Keras model.
        jit_compile: bool. XLA for the training, evaluation and prediction steps.
        **arguments: the rest of `model.compile`'s arguments (optimizer, loss, metrics, ...).

    Raises:
        ZooError: XLA was asked for, op determinism is on, and the model has max pooling.
    """
    if not (jit_compile and backend_name() == "tensorflow" and _tf_config().is_op_determinism_enabled()):
        model.compile(jit_compile=jit_compile, **arguments)
        return
    refused = [layer.name for layer in nested_layers(model) if isinstance(layer, NO_DETERMINISTIC_XLA)]
    if refused:
        raise ZooError(
            f"trainer.jit_compile=true with trainer.deterministic=true, but TensorFlow has no deterministic XLA gradient "
            f"for the max pooling of {model.name} ({', '.join(refused)}): set trainer.deterministic=false or trainer.jit_compile=false."
        )
    with op_determinism_paused():  # read by Keras' compile only; the traced steps run under determinism again
        model.compile(jit_compile=True, **arguments)


@contextlib.contextmanager
def op_determinism_paused():
    """Turns TensorFlow's op determinism off inside the block and back on after it, even if the block fails."""
    _tf_config().disable_op_determinism()
    try:
        yield
    finally:
        _tf_config().enable_op_determinism()


def _tf_config():
    # Imported on the TensorFlow backend only; disable_op_determinism has no public name.
    from tensorflow.python.framework import config

    return config
