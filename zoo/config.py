"""Config helpers: the `zoo.*` resolvers and the checks that run before anything is built."""

import contextlib
import inspect
import os

import keras
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.utils import get_object
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from zoo.errors import ZooError
from zoo.registry import list_models, model_info
from zoo.training.adaptive import is_auto
from zoo.training.device import DEVICES, PRECISIONS
from zoo.validation import (
    boolean,
    non_negative_int,
    non_negative_number,
    one_of,
    positive_int,
    positive_number,
)

# The Keras callbacks a config may name (zoo.runs.saved_config allows them in a saved run), with their
# arguments and Keras' defaults, so callback options are checked before Keras loads (a test pins
# them to Keras' signatures; ReduceLROnPlateau's **kwargs would swallow a misspelt one).
KERAS_CALLBACK_OPTIONS = {
    "EarlyStopping": {
        "monitor": "val_loss", "min_delta": 0, "patience": 0, "verbose": 0, "mode": "auto", "baseline": None,
        "restore_best_weights": False, "start_from_epoch": 0,
    },
    "ReduceLROnPlateau": {
        "monitor": "val_loss", "factor": 0.1, "patience": 10, "verbose": 0, "mode": "auto", "min_delta": 0.0001,
        "cooldown": 0, "min_lr": 0.0,
    },
    "TerminateOnNaN": {"raise_error": False},
}
# The zoo's loggers and the options a config gives them (the zoo passes run_config and model_summary
# itself), so a misspelt one is refused before Keras loads; a test pins them to their signatures.
LOGGER_OPTIONS = {
    "zoo.tensorboard_logger.TensorBoardLogger": ("log_dir", "update_freq", "histogram_freq", "profile_steps"),
    "zoo.csv_logger.CSVLogger": ("log_dir",),
    "zoo.mlflow_logger.MLflowLogger": ("tracking_uri", "experiment_name", "run_dir"),
}
KERAS_OPTIMIZERS = ("Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lamb", "Lion", "Nadam", "RMSprop", "SGD")


def register_resolvers():
    """Registers the three resolvers the configs need from outside OmegaConf.

    `${zoo.cwd:}` is the directory the command was started from (Hydra's own `runtime.cwd` is not
    set yet when `paths` resolve in a compose); `${zoo.resume_or:${resume},<value>}` and
    `${zoo.unless_resume:${resume},<value>}` are what Hydra uses when a command resumes a run (its
    directory; no new `.hydra/`).
    """
    OmegaConf.register_new_resolver("zoo.cwd", os.getcwd, replace=True)
    OmegaConf.register_new_resolver("zoo.resume_or", lambda resume, default: resume or default, replace=True)
    OmegaConf.register_new_resolver("zoo.unless_resume", lambda resume, value: None if resume else value, replace=True)


def check_required(cfg):
    """Raises a ZooError naming the first required value (`???`) left unset in `cfg` (Hydra's own node aside)."""
    # Unresolved: a run's paths resolve through Hydra's runtime config, which the callback runs before.
    missing = _unset_keys({key: value for key, value in OmegaConf.to_container(cfg).items() if key != "hydra"})
    if missing:
        raise ZooError(
            f"Missing required value {missing[0]}: set it on the command line, e.g. {missing[0]}=<value>."
        )


def check_seed(seed):
    """Raises a ZooError unless `seed` is an integer in [0, 2**32): NumPy's and TensorFlow's seeds are 32-bit."""
    non_negative_int("seed", seed)
    if seed >= 2**32:
        raise ZooError(f"Received an invalid value for seed, expected an integer below 2**32 = {2**32}, got {seed}.")


def check_normalization(cfg):
    """Refuses per-series scaling for forecasts, which are scored in the original units."""
    if cfg.model.get("head") == "forecast" and cfg.data.get("normalize") == "series":
        raise ZooError(
            "data.normalize=series scales each series by its own statistics, which a forecast in the original "
            "units cannot undo: set data.normalize=global (what auto chooses for model.head=forecast) or none."
        )


# Every trainer option the zoo reads: configs/trainer/default.yaml sets each (a test pins the two).
TRAINER_KEYS = (
    "epochs", "steps", "batch_size", "learning_rate", "clipnorm", "optimizer", "backup_every_steps", "steps_per_execution",
    "jit_compile", "precision", "device", "strategy", "logical_cpus", "cluster", "deterministic", "ensemble",
)
# What the zoo itself records in a run's config.yaml: the backend it trained on (`check_backend`).
RECORDED_TRAINER_KEYS = ("backend",)


# The top-level keys of a training config (configs/train.yaml; a test pins them to every composition).
TOP_LEVEL_KEYS = ("resume", "seed", "monitor", "model", "trainer", "data", "callbacks", "logger", "paths", "hydra")
PATHS_KEYS = ("root_dir", "data_dir", "log_dir", "output_dir")


def check_top_level_keys(cfg):
    """Raises a ZooError for a top-level or `paths.*` key nothing reads (`+epochs=3`), naming the group that has it."""
    unknown = [key for key in cfg if key not in TOP_LEVEL_KEYS]
    unknown += [f"paths.{key}" for key in cfg.get("paths") or {} if key not in PATHS_KEYS]
    if unknown:
        key = unknown[0]
        groups = [group for group in ("trainer", "data", "model") if key in (cfg.get(group) or {})]
        hint = f" (did you mean {groups[0]}.{key}?)" if groups else ""
        raise ZooError(f"Invalid config: it has no key {key!r}{hint}; remove {key} from the command line.")


def check_before_keras(cfg):
    """The checks of a training config that need no Keras, which the run-directory callback makes
    before TensorFlow loads: top-level and `paths.*` keys, required values, the seed, `trainer.*` keys
    and values but the optimizer, `data.*` keys, the model's options, and the options of the zoo's
    loggers and of the Keras callbacks it allows (other callbacks' options are checked against their
    classes once Keras loads)."""
    choices = cfg.hydra.runtime.choices if "hydra" in cfg else {}
    check_top_level_keys(cfg)
    check_required(cfg)
    check_seed(cfg.seed)
    check_trainer_values(cfg.trainer, choices.get("trainer", "default"))
    if "_target_" in cfg.data:
        check_options("data", choices.get("data", "synthetic"), cfg.data, accepted_options(cfg.data._target_))
    check_model_options(cfg.model)
    check_keras_callbacks(cfg.get("callbacks") or {}, choices.get("callbacks", "default"))
    for name, logger in (cfg.get("logger") or {}).items():
        if logger.get("_target_") in LOGGER_OPTIONS:  # another logger's class needs Keras: build_loggers checks it
            check_logger_options(name, logger)


def check_model_options(model_cfg):
    """Raises a ZooError for an unknown `model.name`, an option its builder does not take or a value out of range."""
    if model_cfg.name not in list_models():
        raise ZooError(f"Unknown model {model_cfg.name!r}: choose model=<name> with name in {list_models()}.")
    info = model_info(model_cfg.name)
    check_options("model", model_cfg.name, model_cfg, info.options() | {"name"})
    try:
        options = OmegaConf.to_container(model_cfg, resolve=True)
    except OmegaConfBaseException:  # an interpolation that resolves only in a run: the builder checks it then
        return
    with config_group("model", model_cfg.name):
        info.check_options({key: value for key, value in options.items() if key not in ("_target_", "name")})


def _unset_keys(container, prefix=""):
    """The dotted keys (`a.b`, `a.c[0]`) of `container` (nested dicts and lists) whose value is `???`, sorted."""
    found = []
    items = container.items() if isinstance(container, dict) else ((f"[{index}]", value) for index, value in enumerate(container))
    for key, value in items:
        path = f"{prefix}{key}" if str(key).startswith("[") or not prefix else f"{prefix}.{key}"
        if isinstance(value, (dict, list)):
            found += _unset_keys(value, path)
        elif value == "???":
            found.append(path)
    return sorted(found)


def check_trainer(trainer):
    """Raises a ZooError naming the first `trainer.*` key nothing reads (one added with `+`) or value out of range."""
    check_trainer_values(trainer, group_choice("trainer", "default"))
    optimizer_class(trainer.optimizer)


def check_trainer_values(trainer, option):
    """`check_trainer` but the optimizer, which needs Keras; `option` is the trainer config chosen."""
    check_options("trainer", option, trainer, {*TRAINER_KEYS, *RECORDED_TRAINER_KEYS})
    for name in ("epochs", "batch_size"):
        if not is_auto(trainer[name]):
            positive_int(f"trainer.{name}", trainer[name])
    positive_int("trainer.steps", trainer.steps)
    if not is_auto(trainer.steps_per_execution):
        positive_int("trainer.steps_per_execution", trainer.steps_per_execution)
    non_negative_int("trainer.backup_every_steps", trainer.get("backup_every_steps", 0))
    if not is_auto(trainer.learning_rate):
        positive_number("trainer.learning_rate", trainer.learning_rate)
    if trainer.clipnorm is not None:
        positive_number("trainer.clipnorm", trainer.clipnorm)
    one_of("trainer.precision", trainer.precision, PRECISIONS)
    one_of("trainer.device", trainer.device, DEVICES)
    if not is_auto(trainer.jit_compile):
        boolean("trainer.jit_compile", trainer.jit_compile)
    boolean("trainer.deterministic", trainer.deterministic)


def optimizer_class(optimizer_cfg):
    """Returns the `keras.optimizers` class that `trainer.optimizer._target_` names, or raises a ZooError."""
    target = optimizer_cfg.get("_target_") if isinstance(optimizer_cfg, DictConfig) else None
    found = _locate(target) if isinstance(target, str) and target.startswith("keras.optimizers.") else None
    if not (inspect.isclass(found) and issubclass(found, keras.optimizers.Optimizer)):
        raise ZooError(
            f"Received an invalid value for trainer.optimizer._target_, expected a keras.optimizers class "
            f"such as keras.optimizers.Adam, got {target!r}."
        )
    return found


def _locate(target):
    try:
        return get_object(target)
    except Exception:  # Hydra raises ImportError or ValueError variants for a bad path
        return None


def accepted_options(target):
    """Returns the option names the callable a `_target_` names accepts, or None if it takes any."""
    found = _locate(target)
    if found is None:
        return None
    parameters = inspect.signature(found).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def check_logger_options(name, logger_cfg):
    """Raises a ZooError for an option `logger.<name>` does not take: the zoo's loggers' from `LOGGER_OPTIONS`
    (no Keras), any other's from its class."""
    target = logger_cfg.get("_target_", "")
    accepted = set(LOGGER_OPTIONS[target]) if target in LOGGER_OPTIONS else accepted_options(target)
    check_options("logger", name, logger_cfg, accepted, path=f"logger.{name}")


def callback_options(callback_cfg):
    """Returns `{option: Keras' default}` of the allow-listed Keras callback a `callbacks.*` node names, else None."""
    target = callback_cfg.get("_target_", "") if isinstance(callback_cfg, DictConfig) else ""
    name = target.removeprefix("keras.callbacks.") if target.startswith("keras.callbacks.") else None
    return KERAS_CALLBACK_OPTIONS.get(name)


def check_keras_callbacks(callbacks_cfg, option):
    """Raises a ZooError for an option of an allow-listed Keras callback that it does not take or whose value is not of its kind.

    Args:
        callbacks_cfg: the `callbacks` config.
        option: str. The callbacks config chosen ("default").
    """
    for name, callback in callbacks_cfg.items():
        defaults = callback_options(callback)
        if defaults is not None:
            check_options("callbacks", option, callback, set(defaults), path=f"callbacks.{name}")
            check_callback_values(f"callbacks.{name}", callback, defaults)


def check_callback_values(path, callback_cfg, defaults):
    """Raises a ZooError for an option of an allow-listed Keras callback whose value is not of its default's kind.

    Args:
        path: str. Where the callback sits (`callbacks.early_stopping`).
        callback_cfg: DictConfig of the callback.
        defaults: dict. Its options with Keras' defaults (`KERAS_CALLBACK_OPTIONS`).
    """
    for key, default in defaults.items():
        value = callback_cfg.get(key, default)
        if key == "mode":
            one_of(f"{path}.mode", value, ["auto", "min", "max"])
        elif isinstance(default, bool):
            boolean(f"{path}.{key}", value)
        elif isinstance(default, str):
            if not isinstance(value, str):
                raise ZooError(f"Received an invalid value for {path}.{key}, expected a metric name, got {value!r}.")
        elif key == "baseline":
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ZooError(f"Received an invalid value for {path}.baseline, expected a number or null, got {value!r}.")
        elif key == "patience" and is_auto(value):  # the zoo fills it (zoo.training.adaptive)
            continue
        elif key in ("patience", "verbose", "cooldown", "start_from_epoch"):  # counts of epochs or a level
            non_negative_int(f"{path}.{key}", value)
        else:
            non_negative_number(f"{path}.{key}", value)


def check_options(group, option, node, accepted, path=None):
    """Raises a ZooError for the first key of config `node` that its target does not accept.

    Args:
        group: str. The config group ("model", "data", "trainer", "callbacks").
        option: str. The option chosen in the group ("synthetic").
        node: DictConfig with `_target_`.
        accepted: set of option names, or None to accept anything.
        path: str. Where `node` sits in the config (`callbacks.early_stopping`); default `group`.
    """
    if accepted is None:
        return
    unknown = sorted(key for key in node if not str(key).startswith("_") and key not in accepted)
    if unknown:
        # Typically an option another config of the group has (debug=quick sets data.length, which
        # only data=synthetic takes).
        raise ZooError(
            f"Invalid {group} config ({group}={option}): it has no option {unknown[0]!r}; "
            f"remove {path or group}.{unknown[0]} from the command line or the debug/experiment config that sets it."
        )


def sweeper_direction():
    """Returns the running sweeper's `direction` ("maximize", "minimize"), or None outside an optimizing sweep."""
    if HydraConfig.initialized():
        return HydraConfig.get().sweeper.get("direction")
    return None


def group_choice(group, fallback):
    """Returns the option chosen for config `group` on the command line (e.g. "synthetic"), or `fallback`."""
    if HydraConfig.initialized():
        return HydraConfig.get().runtime.choices.get(group, fallback)
    return fallback


@contextlib.contextmanager
def config_group(group, option):
    """Prefixes a ZooError raised inside the block with the config group it came from.

    Builders name their arguments bare (`units`); the prefix says they live under `model.`.
    """
    try:
        yield
    except InstantiationException as error:
        # hydra.utils.instantiate wraps what the target raised; unwrap a user error.
        if isinstance(error.__cause__, ZooError):
            raise ZooError(f"Invalid {group} config ({group}={option}): {error.__cause__}") from error
        raise
    except ZooError as error:
        raise ZooError(f"Invalid {group} config ({group}={option}): {error}") from error
