"""Config helpers: the `zoo.monitor` resolver and the checks that run before anything is built."""

import contextlib

from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from omegaconf import OmegaConf

from zoo.errors import ZooError
from zoo.models.heads import monitored_metric
from zoo.device import DEVICES, PRECISIONS
from zoo.validation import boolean, one_of, positive_int, positive_number

OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")


def register_resolvers():
    """Registers `${zoo.monitor:<head>}`, which configs use to pick the monitored validation metric."""
    OmegaConf.register_new_resolver("zoo.monitor", monitored_metric, replace=True)


def check_required(cfg):
    """Raises a ZooError naming the first required value (`???`) left unset in `cfg`."""
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise ZooError(
            f"Missing required value {missing[0]}: set it on the command line, e.g. {missing[0]}=<value>."
        )


def check_trainer(trainer):
    """Raises a ZooError naming the first `trainer.*` value out of range."""
    positive_int("trainer.epochs", trainer.epochs)
    positive_int("trainer.batch_size", trainer.batch_size)
    positive_int("trainer.steps_per_execution", trainer.steps_per_execution)
    positive_number("trainer.learning_rate", trainer.learning_rate)
    if trainer.clipnorm is not None:
        positive_number("trainer.clipnorm", trainer.clipnorm)
    one_of("trainer.optimizer", trainer.optimizer, OPTIMIZERS)
    one_of("trainer.precision", trainer.precision, PRECISIONS)
    one_of("trainer.device", trainer.device, DEVICES)
    boolean("trainer.jit_compile", trainer.jit_compile)
    boolean("trainer.deterministic", trainer.deterministic)


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
        if isinstance(error.__cause__, TypeError) and "unexpected keyword argument" in str(error.__cause__):
            # An option another config of the group has (debug=quick sets data.length, which only
            # data=synthetic takes).
            key = str(error.__cause__).split("argument")[-1].strip(" '")
            raise ZooError(
                f"Invalid {group} config ({group}={option}): it has no option {key!r}; "
                f"remove {group}.{key} from the command line or the debug/experiment config that sets it."
            ) from error
        raise
    except ZooError as error:
        raise ZooError(f"Invalid {group} config ({group}={option}): {error}") from error
