"""A Keras 3 model zoo of LSTM sequence models, configured by Hydra and logged to TensorBoard."""

import os

# The zoo's GPU path (cuDNN kernels, memory growth) is TensorFlow's; quiet TF's C++ start-up chatter.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from zoo import models  # noqa: E402, F401  (registers the builders)
from zoo.errors import ZooError  # noqa: E402
from zoo.registry import ModelInfo, create_model, list_models, model_info, register_model  # noqa: E402
from zoo.tasks import get_task  # noqa: E402

__all__ = ["ModelInfo", "ZooError", "create_model", "get_task", "list_models", "load_run", "model_info", "register_model"]

from zoo.config import register_resolvers  # noqa: E402

register_resolvers()

from zoo.trained_run import load_run  # noqa: E402  (reads configs, so after the resolvers)
