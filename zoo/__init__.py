"""A Keras 3 model zoo of LSTM sequence models, configured by Hydra and logged to TensorBoard."""

import os
import sys

from zoo.native_output import start_up_lines_dropped

# The zoo's GPU path (cuDNN kernels, memory growth) is TensorFlow's; quiet TF's C++ start-up chatter.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# Imported at start-up by code the zoo never runs: TensorFlow Lite's JAX-to-TFLite converter
# (`jax.jit`) and Keras' image-gallery plots (`matplotlib.pyplot`); skipping them saves about a
# second of every start (docs/benchmarks.md).
_UNUSED_AT_IMPORT = ("jax", "matplotlib")


def _import_keras_without_unused_modules():
    """Imports Keras with the modules of `_UNUSED_AT_IMPORT` hidden, unless the user already imported them.

    Both imports sit in `try: ... except ImportError`, so Keras and TensorFlow load as if those
    packages were missing. They stay importable afterwards (the zoo's figures import matplotlib
    when they are drawn); only TensorFlow Lite's JAX converter and `keras.visualization` see them
    as missing. On the JAX backend, Keras needs JAX, so nothing is hidden from it. TensorFlow's C++
    start-up lines, its CUDA probe's included, are dropped (`zoo.native_output`).
    """
    tensorflow_backend = os.environ["KERAS_BACKEND"] == "tensorflow"
    hidden = [name for name in _UNUSED_AT_IMPORT if name not in sys.modules] if tensorflow_backend else []
    for name in hidden:
        sys.modules[name] = None  # an ImportError for `import name` and `from name import ...`
    try:
        with start_up_lines_dropped():
            import keras  # noqa: F401

            if tensorflow_backend:  # JAX and PyTorch runs need no TensorFlow
                # TensorFlow probes CUDA once, on first listing its devices; on a CPU-only machine that
                # writes a failure line, dropped here. (Listed devices stay configurable.)
                import tensorflow as tf

                tf.config.list_physical_devices("GPU")
    finally:
        for name in hidden:
            del sys.modules[name]


_import_keras_without_unused_modules()
# JAX logs its failed probe for TPUs and GPUs on every start of a CPU-only machine; ZOO_VERBOSE=1 keeps it.
if not os.environ.get("ZOO_VERBOSE"):
    import logging

    logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)

from zoo import models  # noqa: E402, F401  (registers the builders)
from zoo.errors import ZooError  # noqa: E402
from zoo.registry import (  # noqa: E402
    ModelInfo,
    create_model,
    list_models,
    model_info,
    register_model,
)
from zoo.tasks import get_task  # noqa: E402

__all__ = ["ModelInfo", "ZooError", "create_model", "get_task", "list_models", "load_run", "model_info", "register_model"]

from zoo.config import register_resolvers  # noqa: E402

register_resolvers()

from zoo.runs.loading import load_run  # noqa: E402  (reads configs, so after the resolvers)
