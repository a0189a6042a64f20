"""Builds what a config describes: the dataset, the model, the optimizer and the callbacks."""

import keras
from hydra.errors import InstantiationException
from hydra.utils import instantiate

from zoo.config import (
    accepted_options,
    callback_options,
    check_logger_options,
    check_model_options,
    check_options,
    config_group,
    group_choice,
    optimizer_class,
)
from zoo.errors import ZooError
from zoo.tensorboard_logger import write_run_summaries


def build_dataset(data_cfg):
    """Instantiates the data config; errors name the `data` group.

    Returns:
        A SeriesDataset.
    """
    # Outside a Hydra run the option is guessed from the target: zoo.data.ts_dataset -> ts.
    fallback = data_cfg.get("_target_", "?").rsplit(".", 1)[-1].removesuffix("_dataset")
    option = group_choice("data", fallback)
    check_options("data", option, data_cfg, accepted_options(data_cfg.get("_target_", "")))
    with config_group("data", option):
        return instantiate(data_cfg)


def build_model(model_cfg, spec):
    """Instantiates the model config for data described by `spec`; errors name the `model` group.

    Returns:
        An uncompiled `keras.Model`.
    """
    check_model_options(model_cfg)
    with config_group("model", model_cfg.name):
        return instantiate(model_cfg, spec=spec)


def build_optimizer(trainer_cfg, **overrides):
    """Instantiates `trainer.optimizer` (any `keras.optimizers` class with its own arguments).

    Args:
        trainer_cfg: the `trainer` config.
        **overrides: arguments that replace the config's.

    Returns:
        A `keras.optimizers.Optimizer`.
    """
    optimizer_class(trainer_cfg.optimizer)
    # trainer.learning_rate=1 is the number 1.0; Keras accepts only a float there.
    learning_rate = trainer_cfg.optimizer.get("learning_rate")
    if isinstance(learning_rate, int) and not isinstance(learning_rate, bool):
        overrides = {"learning_rate": float(learning_rate), **overrides}
    try:
        return instantiate(trainer_cfg.optimizer, **overrides)
    except Exception as error:  # an argument the optimizer class does not take, or a bad value
        cause = error.__cause__ or error
        raise ZooError(
            f"Invalid trainer.optimizer ({trainer_cfg.optimizer._target_}): {cause}; "
            "set arguments that class takes, e.g. +trainer.optimizer.weight_decay=0.01."
        ) from error


def check_optimizer_values(trainer_cfg):
    """Raises a ZooError when `trainer.optimizer` fails one update of a throwaway variable.

    Keras optimizers take any value when built; `weight_decay=abc` fails only at the first training
    step, after the run's files are written. Explicit names leave Keras' name counters as they were.
    """
    optimizer = build_optimizer(trainer_cfg, name="optimizer_check")
    variable = keras.Variable([0.0], name="optimizer_check")
    try:
        optimizer.apply_gradients([(keras.ops.zeros(variable.shape), variable)])
    except Exception as error:  # TensorFlow, JAX and PyTorch each raise their own type for a bad value
        arguments = {key: value for key, value in trainer_cfg.optimizer.items() if key not in ("_target_", "name")}
        texts = [f"{key}={value!r}" for key, value in arguments.items() if isinstance(value, str)]
        cause = f"{', '.join(texts)} is not a number" if texts else str(error).strip().splitlines()[0]
        raise ZooError(
            f"Invalid trainer.optimizer ({trainer_cfg.optimizer._target_}): one update step failed ({cause}); "
            "give each argument a value of its type, e.g. +trainer.optimizer.weight_decay=0.01."
        ) from error


def build_callbacks(cfg):
    """Instantiates the Keras callbacks of `cfg.callbacks`, in order."""
    callbacks = []
    for name, callback in cfg.callbacks.items():
        defaults = callback_options(callback)
        accepted = set(defaults) if defaults is not None else accepted_options(callback.get("_target_", ""))
        check_options("callbacks", group_choice("callbacks", "default"), callback, accepted, path=f"callbacks.{name}")
        with config_group("callbacks", name):
            try:
                callbacks.append(instantiate(callback))
            except InstantiationException as error:
                if isinstance(error.__cause__, ZooError):
                    raise
                cause = error.__cause__ or error
                raise ZooError(
                    f"{callback.get('_target_')} refused its options ({type(cause).__name__}: "
                    f"{str(cause).strip().splitlines()[0]}): give each the value its class documents."
                ) from error
    return callbacks


def build_loggers(cfg, **logger_arguments):
    """Instantiates the loggers of `cfg.logger`.

    Args:
        cfg: the composed training config.
        **logger_arguments: passed to every logger (the run config and the model summary).
    """
    # Not recursive: the run config holds _target_ nodes the logger must log, not build.
    loggers = []
    for name, logger in cfg.logger.items():
        check_logger_options(name, logger)
        with config_group("logger", name):
            loggers.append(instantiate(logger, **logger_arguments, _recursive_=False))
    return loggers


def log_final_scores(cfg, scores):
    """Gives a finished run's final scores (`final/test_accuracy`, ...) to the loggers that keep them: TensorBoard, MLflow."""
    if "tensorboard" in cfg.logger:
        write_run_summaries(cfg.logger.tensorboard.log_dir, scalars=scores)
    if "mlflow" in cfg.logger:
        from zoo.mlflow_logger import finish_run  # imports MLflow, an optional extra

        finish_run(cfg.logger.mlflow, cfg, scores)
