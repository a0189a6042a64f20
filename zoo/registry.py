"""The model registry: builders register by name; `create_model` and `list_models` look them up."""

import fnmatch

from zoo.errors import ZooError

_MODEL_BUILDERS = {}


def register_model(builder):
    """Decorator that registers `builder` under its function name.

    Returns:
        `builder`, unchanged.
    """
    _MODEL_BUILDERS[builder.__name__] = builder
    return builder


def list_models(pattern="*"):
    """Returns the sorted names of registered models that match the glob `pattern`."""
    return sorted(name for name in _MODEL_BUILDERS if fnmatch.fnmatch(name, pattern))


def create_model(name, spec, **options):
    """Builds the registered model `name` for data described by `spec`.

    Args:
        name: str. A name from `list_models()`.
        spec: DataSpec. Shapes, classes and horizon of the data.
        **options: the builder's keyword arguments (units, num_layers, ...).

    Returns:
        An uncompiled `keras.Model` named `name`.
    """
    if name not in _MODEL_BUILDERS:
        raise ZooError(f"Unknown model {name!r}; choose one of {list_models()}.")
    return _MODEL_BUILDERS[name](spec, **options)
