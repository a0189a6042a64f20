"""The model registry: builders register by name with what they support; `create_model` and `list_models` look them up."""

import dataclasses
import fnmatch
import inspect
from typing import Callable, Optional

from zoo.errors import ZooError

ALL_HEADS = ("classify", "forecast", "regress")


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """What a registered model supports; tests, bench, configs and evaluation read this, never model names.

    Args:
        name: str. The registry key, the builder's name and the built model's name.
        builder: the builder function `builder(spec, **options)`.
        heads: tuple of the heads (tasks) it can be built with; the first is its default.
        recurrent: bool. Takes the shared recurrent options (`**recurrent`: cell, units, num_layers,
            dropout, bidirectional, static_mode).
        fixed_length: bool. Its input length is fixed to the training length (else `None`: any length).
        forecaster: optional function `(model, inputs, horizon, batch_size) -> (n, horizon, features)`
            that forecasts without the truth (seq2seq's autoregressive decoding). None: `model.predict`.
        serving_model: optional function `model -> keras.Model` that serves the trained model
            without the truth (seq2seq's whole decoding graph); export writes it. None: the model itself.
        attention_weights: optional function `model -> keras.Model` whose outputs are
            `{"prediction", "attention_weights"}`.
        check: optional function that raises a ZooError for a value of the builder's own options out of
            range, taking them by keyword; it needs no data and no Keras, so configs are checked with
            it before TensorFlow loads. The builder calls it too.
        test_options: the builder options that make it small enough for the registry-wide toy tests.
        learning_test_options: the options the every-model learning test trains it with on
            `debug=quick`, where its default network is larger than that test needs.
    """

    name: str
    builder: Callable
    heads: tuple = ALL_HEADS
    recurrent: bool = False
    fixed_length: bool = False
    forecaster: Optional[Callable] = None
    serving_model: Optional[Callable] = None
    attention_weights: Optional[Callable] = None
    check: Optional[Callable] = None
    test_options: dict = dataclasses.field(default_factory=dict)
    learning_test_options: dict = dataclasses.field(default_factory=dict)

    @property
    def default_head(self):
        return self.heads[0]

    @property
    def decoding(self):
        """"autoregressive" when forecasts feed on their own predictions, else "direct"."""
        return "autoregressive" if self.forecaster is not None else "direct"

    def options(self):
        """Returns the names of the keyword options the builder takes (`head`, `units`, ...)."""
        # Late import: the shared recurrent options live with the recurrent encoder, which imports the registry's users.
        from zoo.models.recurrent import RecurrentOptions

        names = set()
        for parameter in list(inspect.signature(self.builder).parameters.values())[1:]:
            if parameter.kind is parameter.VAR_KEYWORD:
                names.update(field.name for field in dataclasses.fields(RecurrentOptions))
            else:
                names.add(parameter.name)
        return names

    def check_options(self, options):
        """Raises a ZooError for an option the builder does not take, a head it lacks or a value out of range.

        Needs no Keras: the config checks call it before TensorFlow loads, and `create_model` before building.

        Args:
            options: dict. The builder's keyword arguments (head, units, ...); missing ones take its defaults.
        """
        from zoo.models.recurrent import RecurrentOptions

        head = options.get("head", self.default_head)
        if head not in self.heads:
            raise ZooError(
                f"Received an invalid value for head, expected one of {list(self.heads)}, got {head!r}: "
                f"{self.name} supports only those heads."
            )
        unknown = sorted(set(options) - self.options())
        if unknown:
            raise ZooError(f"{self.name} has no option {unknown[0]!r}; its options are {sorted(self.options())}.")
        if self.recurrent:
            names = {field.name for field in dataclasses.fields(RecurrentOptions)}
            RecurrentOptions(**{name: value for name, value in options.items() if name in names})
        if self.check is not None:
            defaults = {
                parameter.name: parameter.default
                for parameter in inspect.signature(self.builder).parameters.values()
                if parameter.default is not parameter.empty
            }
            values = {**defaults, **options}
            self.check(**{name: values[name] for name in inspect.signature(self.check).parameters})


_MODELS = {}


def _registered():
    """Returns the registry with the zoo's own builders in it: importing them imports Keras, so on first use."""
    import zoo.models  # noqa: F401  (registers them)

    return _MODELS


def register_model(builder=None, **capabilities):
    """Decorator that registers a builder under its function name, with what it supports.

    Use bare (`@register_model`) or with `ModelInfo` fields (`@register_model(heads=("forecast",))`).

    Returns:
        The builder, unchanged.
    """

    def register(function):
        _MODELS[function.__name__] = ModelInfo(name=function.__name__, builder=function, **capabilities)
        return function

    return register(builder) if builder is not None else register


def list_models(pattern="*", **requirements):
    """Returns the sorted names of registered models that match the glob `pattern` and `requirements`.

    Args:
        pattern: str. Glob on the name.
        **requirements: `head="forecast"` keeps models with that head; any other `ModelInfo`
            field keeps models whose value equals it (`recurrent=True`).
    """
    names = []
    for name, info in _registered().items():
        if not fnmatch.fnmatch(name, pattern):
            continue
        if "head" in requirements and requirements["head"] not in info.heads:
            continue
        if any(getattr(info, key) != value for key, value in requirements.items() if key != "head"):
            continue
        names.append(name)
    return sorted(names)


def model_info(name):
    """Returns the `ModelInfo` of the registered model `name`."""
    if name not in _registered():
        raise ZooError(f"Unknown model {name!r}; choose one of {list_models()}.")
    return _MODELS[name]


def create_model(name, spec, **options):
    """Builds the registered model `name` for data described by `spec`.

    Args:
        name: str. A name from `list_models()`.
        spec: DataSpec. Shapes, classes and horizon of the data.
        **options: the builder's keyword arguments (head, units, num_layers, ...).

    Returns:
        An uncompiled `keras.Model` named `name`.
    """
    info = model_info(name)
    info.check_options(options)
    return info.builder(spec, **options)
