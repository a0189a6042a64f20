"""Custom layers, each registered for `.keras` saving under the "zoo" package.

Each class is imported on first use (`zoo.layers.MaskSteps`), since defining a Keras layer imports
Keras: a model's module can then be read (its options, by `zoo.config`) before TensorFlow loads.
`zoo` registers them all as soon as Keras loads.
"""

import importlib

# Each layer by the module that defines it.
LAYER_MODULES = {
    "AttentionPooling": "attention_pooling",
    "AutoregressiveLoop": "autoregressive",
    "LastValidStep": "autoregressive",
    "SeasonalNaive": "autoregressive",
    "DownsampleMask": "masking",
    "MaskSteps": "masking",
    "PadSteps": "masking",
    "ConcatenateStatic": "static",
}

__all__ = sorted(LAYER_MODULES)


def register_all():
    """Imports every layer's module, which registers its classes for `keras.saving.load_model`."""
    for module in sorted(set(LAYER_MODULES.values())):
        importlib.import_module(f"zoo.layers.{module}")


def __getattr__(name):
    if name in LAYER_MODULES:
        return getattr(importlib.import_module(f"zoo.layers.{LAYER_MODULES[name]}"), name)
    raise AttributeError(f"module 'zoo.layers' has no attribute {name!r}")
