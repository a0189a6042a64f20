"""A run's saved config: what it may instantiate, and how a new command's config differs from it.

A run's config.yaml is data, not code: evaluation, prediction and resume build only the zoo's own
data sources, models and loggers, and the Keras callbacks and optimizers named in `ZOO_TARGETS`.
"""

from omegaconf import DictConfig, ListConfig

from zoo.config import KERAS_CALLBACK_OPTIONS, KERAS_OPTIMIZERS, LOGGER_OPTIONS
from zoo.errors import ZooError
from zoo.runs.directory import resume_command

# What a saved run config may instantiate, by name: whole namespaces would admit classes that
# write files (BackupAndRestore, CSVLogger).
ZOO_TARGETS = (
    "zoo.create_model",
    "zoo.data.synthetic_dataset",
    "zoo.data.ts_dataset",
    "zoo.data.csv_dataset",
    "zoo.data.npz_dataset",
    "zoo.data.forecast_dataset",
    *LOGGER_OPTIONS,
    *(f"keras.callbacks.{name}" for name in KERAS_CALLBACK_OPTIONS),
    *(f"keras.optimizers.{name}" for name in KERAS_OPTIMIZERS),
)


def check_saved_targets(cfg, source):
    """Refuses a saved config that names a `_target_` outside the zoo's allow-list.

    A run's config is data, not code: evaluation and resume build only the zoo's own data sources,
    models and logger, and the Keras callbacks and optimizers `ZOO_TARGETS` names.

    Args:
        cfg: DictConfig read from a run directory.
        source: str. The file it came from, for the message.
    """
    for target in _targets(cfg):
        if target in ZOO_TARGETS:
            continue
        raise ZooError(
            f"{source} names _target_ {target!r}, which is not one of the zoo's data sources, models, loggers, "
            "Keras callbacks or optimizers; the zoo refuses to run code a saved config names: "
            "restore the run's original config.yaml."
        )


def differing_keys(new, saved, ignore=("paths",)):
    """Returns the dotted keys whose values differ between two plain config dicts, sorted.

    Args:
        new: dict. The config a command composes now.
        saved: dict. The config a run directory holds.
        ignore: top-level keys left out (where files go does not change what a run computes).
    """
    if isinstance(new, dict) and isinstance(saved, dict):
        keys = sorted(set(new) | set(saved), key=str)
        differing = []
        for key in keys:
            if key in ignore:
                continue
            inner = differing_keys(new.get(key), saved.get(key), ignore=())
            differing += [f"{key}.{name}" if name else str(key) for name in inner]
        return differing
    return [] if new == saved else [""]


def another_config_refusal(run_dir, differing):
    """The one line that refuses a config into an unfinished run whose config differs in `differing` keys."""
    return (
        f"{run_dir} holds an unfinished run with another config ({', '.join(differing[:6])} differ): "
        f"continue it with {resume_command(run_dir)}, or choose another hydra.run.dir."
    )


def read_run_config(run):
    """Reads a run's saved config (a RunDirectory's), refusing one that names code outside the allow-list."""
    run_cfg = run.read_config()
    check_saved_targets(run_cfg, run.config)
    return run_cfg


def _targets(node):
    """Yields every `_target_` string in a config, depth first."""
    if isinstance(node, DictConfig):
        for key in node:
            value = node.get(key)
            if key == "_target_":
                yield str(value)
            else:
                yield from _targets(value)
    elif isinstance(node, ListConfig):
        for item in node:
            yield from _targets(item)
