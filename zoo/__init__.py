"""A Keras 3 model zoo of LSTM sequence models, configured by Hydra and logged to TensorBoard.

`import zoo` does not import Keras: `keras` is a lazy module until the zoo first uses it, so a
command whose config is wrong fails before TensorFlow loads (docs/runs.md).
"""

import importlib.util
import os
import sys
import types

from zoo.native_output import start_up_lines_dropped

# The zoo's GPU path (cuDNN kernels, memory growth) is TensorFlow's; quiet TF's C++ start-up chatter.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# Imported at start-up by code the zoo never runs: TensorFlow Lite's JAX-to-TFLite converter
# (`jax.jit`) and Keras' image-gallery plots (`matplotlib.pyplot`); skipping them saves about a
# second of every start (docs/benchmarks.md).
_UNUSED_AT_IMPORT = ("jax", "matplotlib")


class _LazyKeras(types.ModuleType):
    """`keras` until the zoo first uses it: an attribute it lacks yet imports Keras into this same module.

    importlib's LazyLoader would not do: an `import keras` statement reads `__spec__`, which loads
    it. Keras loads with the modules of `_UNUSED_AT_IMPORT` hidden, unless already imported, and
    TensorFlow's C++ start-up lines dropped (`zoo.native_output`). Both imports sit in
    `try: ... except ImportError`, so Keras and TensorFlow load as if those packages were missing.
    They stay importable afterwards (the zoo's figures import matplotlib when they are drawn); only
    TensorFlow Lite's JAX converter and `keras.visualization` see them as missing. On the JAX
    backend, Keras needs JAX, so nothing is hidden from it.
    """

    def __getattr__(self, name):
        self.__class__ = types.ModuleType  # from here on a plain module: Keras' own code runs in it
        self.__path__ = self.__spec__.submodule_search_locations
        tensorflow_backend = os.environ["KERAS_BACKEND"] == "tensorflow"
        hidden = [module for module in _UNUSED_AT_IMPORT if module not in sys.modules] if tensorflow_backend else []
        for module in hidden:
            sys.modules[module] = None  # an ImportError for `import module` and `from module import ...`
        try:
            with start_up_lines_dropped():
                self.__spec__.loader.exec_module(self)
                if tensorflow_backend:  # JAX and PyTorch runs need no TensorFlow
                    # TensorFlow probes CUDA once, on first listing its devices; on a CPU-only machine that
                    # writes a failure line, dropped here. (Listed devices stay configurable.)
                    import tensorflow as tf

                    tf.config.list_physical_devices("GPU")
        finally:
            for module in hidden:
                del sys.modules[module]
        _register_layers()
        return getattr(self, name)


def _register_layers():
    """Registers the zoo's custom layers with Keras, so `keras.saving.load_model` reads any zoo model."""
    import zoo.layers

    zoo.layers.register_all()


def _defer_keras():
    """Puts a `_LazyKeras` module in `sys.modules`; if Keras is already imported, registers the zoo's layers."""
    if "keras" in sys.modules:
        _register_layers()
        return
    module = importlib.util.module_from_spec(importlib.util.find_spec("keras"))
    # Without `__path__`, importing a submodule (TensorFlow imports `keras.src...`) asks for it, which
    # loads Keras whole first, as a plain `import keras` would have.
    del module.__path__
    module.__class__ = _LazyKeras
    sys.modules["keras"] = module


_defer_keras()
# JAX logs its failed probe for TPUs and GPUs on every start of a CPU-only machine; ZOO_VERBOSE=1 keeps it.
if not os.environ.get("ZOO_VERBOSE"):
    import logging

    logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)

from zoo.errors import ZooError  # noqa: E402
from zoo.registry import (  # noqa: E402  (the zoo's own models register on first lookup)
    ModelInfo,
    create_model,
    list_models,
    model_info,
    register_model,
)

__all__ = ["ModelInfo", "ZooError", "create_model", "get_task", "list_models", "load_run", "model_info", "register_model"]

from zoo.config import register_resolvers  # noqa: E402

register_resolvers()


def __getattr__(name):
    """`zoo.get_task` and `zoo.load_run`, imported on first use (they import Keras)."""
    if name == "get_task":
        from zoo.tasks import get_task

        return get_task
    if name == "load_run":
        from zoo.runs.loading import load_run

        return load_run
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
