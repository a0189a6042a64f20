"""A Keras 3 model zoo of LSTM sequence models, configured by Hydra and logged to TensorBoard."""

import os
import sys

# The zoo's GPU path (cuDNN kernels, memory growth) is TensorFlow's; quiet TF's C++ start-up chatter.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _import_keras_without_jax():
    """Imports Keras on TensorFlow without the JAX import TensorFlow Lite makes when JAX is installed.

    `tensorflow.lite.python.util` imports `jax.jit` at start-up for its JAX-to-TFLite converter,
    which the zoo never uses; where the `jax` extra is installed, that import slows every start-up
    (docs/benchmarks.md). JAX stays importable afterwards; only that converter sees it as missing.
    """
    if os.environ["KERAS_BACKEND"] != "tensorflow" or "jax" in sys.modules:
        import keras  # noqa: F401
        return
    sys.modules["jax"] = None  # an ImportError for `from jax import ...` while Keras loads TensorFlow
    try:
        import keras  # noqa: F401
    finally:
        del sys.modules["jax"]


_import_keras_without_jax()

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
