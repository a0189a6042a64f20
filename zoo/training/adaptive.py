"""The documented rules that adapt training to the data, so a small UCR set and 3,000 synthetic series
both train well without per-dataset settings.

Every rule fills a config value left at `auto`; a number set on the command line always wins.
The filled-in values are what `config.yaml`, the HParams dashboard and the log show.

- Batch size: a tenth of the training series, at least 8 and at most 64 (`batch_size_for`). Small
  sets get more, noisier optimizer steps per epoch; large ones keep full batches.
- Learning rate: 3e-3 at batch 64, scaled by the square root of the batch's share of 64
  (`learning_rate_for`), the square-root rule for Adam (Malladi et al. 2022, "On the SDEs and
  Scaling Rules for Adaptive Gradient Algorithms"): about 1e-3 at batch 8 to 20. Small batches
  give noisy gradients, and a smaller step keeps them from undoing each other (docs/adaptive-rules.md).
- Epochs: from a budget of optimizer steps, `trainer.steps` (`epochs_for`): the number of weight
  updates, not passes over the data, is what a model needs, whatever the set's size.
- Steps per execution: the largest divisor of an epoch's steps up to 16 (`steps_per_execution_for`; 1
  on PyTorch, which Keras runs a step at a time, and under `trainer.strategy=mirrored`, where Keras'
  multi-step loop fails). One call of the compiled training function runs
  that many steps, so Keras hands results to Python, and the per-step callbacks run, once per call.
  It divides the epoch so that no call runs into the next epoch's batches (Keras would); a signal
  and a backup within an epoch therefore act at the end of a call, at most that many steps late.
- Patience: early stopping waits a tenth of the epochs (at least 8), the learning-rate schedule a
  twentieth (at least 2) (`patience_for`). Without a validation split early stopping waits the
  whole budget: on the training loss it cannot guard against overfitting, only cut a run short
  when the loss spikes before the schedule lowers the rate.
- Validation: a validation split is carved only when it holds at least 10 series per class
  (`validation_fraction_for`). Otherwise every training series trains the model, and the best
  checkpoint is the one with the lowest training loss, as FCN and InceptionTime choose theirs: on
  two validation series per class the accuracy jumps by whole series and picks epochs by chance.
- Monitor: the head's validation metric (`val_accuracy` to classify, `val_loss` otherwise); without
  a validation split, the training loss. Every callback's `mode: auto` and a sweeper's direction
  follow the one rule of `zoo.tasks.direction` for the metric it watches.
- Normalization (`normalization_for`): `global` (one scaler per channel fitted on the training
  split) to forecast, since forecasts are scored in the original units; `series` (each series
  z-normalised per channel, the UCR convention) for one channel. For several channels it depends on
  whether each series' level or spread tells the classes apart (`level_separation`: the largest
  one-way ANOVA F statistic over classes of every channel's per-series mean and standard
  deviation): from F >= 10 the levels carry the class and `global` keeps them (channels that differ
  in meaning and units, as sensors or spectral coefficients); below, they are nuisance and `series`
  removes them. Multivariate data without classes (regression) keeps its levels (`global`).
"""

import logging
import math

import numpy as np
from omegaconf import DictConfig, open_dict

from zoo.errors import ZooError
from zoo.tasks import improvement_mode
from zoo.validation import non_negative_int

log = logging.getLogger(__name__)

AUTO = "auto"
SMALLEST_BATCH = 8
LARGEST_BATCH = 64
# Adam's learning rate at the largest batch; smaller batches take it times sqrt(batch / LARGEST_BATCH).
LEARNING_RATE_AT_LARGEST_BATCH = 3e-3
# The most optimizer steps one call of the compiled training function runs (`steps_per_execution_for`).
LARGEST_STEPS_PER_EXECUTION = 16
VALIDATION_SHARE = 0.15
VALIDATION_SERIES_PER_CLASS = 10
# Share of the epochs a callback's `patience: auto` waits, and the least it waits, by callback class.
PATIENCE_RULES = {"keras.callbacks.ReduceLROnPlateau": (0.05, 2)}
DEFAULT_PATIENCE_RULE = (0.1, 8)
# Callbacks whose `patience: auto` waits every epoch when there is no validation split.
WHOLE_BUDGET_WITHOUT_VALIDATION = ("keras.callbacks.EarlyStopping",)


def is_auto(value):
    """Whether a config value asks for the rule (`auto`)."""
    return isinstance(value, str) and value == AUTO


def batch_size_for(n_train, largest=LARGEST_BATCH):
    """Returns a tenth of the training series, clipped to `[8, largest]` (and to the series there are).

    Args:
        n_train: int. Training series.
        largest: int. The cap.
    """
    return max(1, min(n_train, max(SMALLEST_BATCH, min(largest, n_train // 10))))


def learning_rate_for(batch_size):
    """Returns 3e-3 times the square root of `batch_size / 64` (Adam's square-root scaling rule), to 3 significant digits.

    Args:
        batch_size: int. The batch size the run trains with.
    """
    return float(f"{LEARNING_RATE_AT_LARGEST_BATCH * math.sqrt(batch_size / LARGEST_BATCH):.3g}")


def steps_per_epoch_for(n_train, batch_size):
    """Returns the optimizer steps of one epoch: a last, smaller batch is a step too."""
    return math.ceil(n_train / batch_size)


def epochs_for(steps, n_train, batch_size):
    """Returns the epochs that spend a budget of `steps` optimizer steps (at least one epoch)."""
    return max(1, math.ceil(steps / steps_per_epoch_for(n_train, batch_size)))


def steps_per_execution_for(steps_per_epoch, backend, strategy="auto", largest=LARGEST_STEPS_PER_EXECUTION):
    """Returns the largest divisor of `steps_per_epoch` up to `largest`, or 1 on PyTorch and under `mirrored`.

    Args:
        steps_per_epoch: int. Optimizer steps in one epoch.
        backend: str. Keras' backend ("tensorflow", "jax" or "torch").
        strategy: str. `trainer.strategy`.
        largest: int. The cap.
    """
    if backend == "torch" or strategy == "mirrored":
        return 1
    return max(d for d in range(1, min(largest, steps_per_epoch) + 1) if steps_per_epoch % d == 0)


def check_steps_per_execution(value, steps_per_epoch, backend, strategy="auto"):
    """Raises a ZooError unless `value` steps per execution divide an epoch (and are 1 on PyTorch and under `mirrored`)."""
    if backend == "torch" and value != 1:
        raise ZooError(
            f"trainer.steps_per_execution={value}, but Keras runs one step per call on the torch backend: "
            "set trainer.steps_per_execution=1 or auto."
        )
    if strategy == "mirrored" and value != 1:
        # Keras 3.15 on TensorFlow 2.21: its multi-step loop feeds no value to a placeholder under MirroredStrategy.
        raise ZooError(
            f"trainer.steps_per_execution={value} fails under trainer.strategy=mirrored (Keras' multi-step loop does not "
            "run under MirroredStrategy): set trainer.steps_per_execution=1 or auto."
        )
    if steps_per_epoch % value:
        divisors = [d for d in range(1, steps_per_epoch + 1) if steps_per_epoch % d == 0]
        raise ZooError(
            f"trainer.steps_per_execution={value} does not divide the {steps_per_epoch} steps of an epoch, so Keras would "
            f"run an epoch's last call into the next epoch's batches: set it to one of {divisors} or auto."
        )


def patience_for(epochs, share, minimum):
    """Returns `share` of `epochs`, rounded, and at least `minimum`."""
    return max(minimum, round(epochs * share))


def validation_fraction_for(n_series, n_classes, requested=AUTO):
    """Returns 0.15 when that share holds at least 10 series per class (10 series without classes), else 0.

    Args:
        n_series: int. Series available for training and validation.
        n_classes: int. Class labels (0 for forecasting or regression).
        requested: `data.val_fraction`: "auto" applies the rule, a number is returned unchanged.
    """
    if not is_auto(requested):
        return requested
    enough = VALIDATION_SERIES_PER_CLASS * max(n_classes, 1)
    return VALIDATION_SHARE if round(n_series * VALIDATION_SHARE) >= enough else 0.0


# Per-series levels separate the classes from this one-way ANOVA F statistic on (docs/adaptive-rules.md).
LEVEL_SEPARATION_F = 10.0


def normalization_for(head, n_features=None, separation=None):
    """Returns the `data.normalize` that `auto` stands for.

    Args:
        head: the model's head, or None where the data is read before the head is known.
        n_features: int, or None before the data is read.
        separation: the training split's `level_separation` (None without classes).

    Returns:
        "global" to forecast, for several channels whose levels separate the classes, or for
        several channels without classes; "series" for one channel or several whose levels do not
        separate the classes; "auto" while `n_features` is unknown (the data reader decides).
    """
    if head == "forecast":
        return "global"
    if n_features is None:
        return AUTO
    if n_features == 1:
        return "series"
    return "global" if separation is None or separation >= LEVEL_SEPARATION_F else "series"


def level_separation(series, mask, labels):
    """Returns the largest one-way ANOVA F statistic, over channels, of the per-series mean and of the
    per-series standard deviation across classes (how well each series' level or spread alone tells
    the classes apart), or None with fewer than two classes.

    Args:
        series: float array `(n, timesteps, n_features)`, right-padded.
        mask: bool array `(n, timesteps)`, True on valid steps.
        labels: int array `(n,)`, or None.
    """
    if labels is None or len(np.unique(labels)) < 2:
        return None
    from zoo.data.scaling import series_moments  # imported here: zoo.data imports this module

    mean, std = series_moments(series, mask)
    largest = 0.0
    for statistic in (mean[:, 0, :], std[:, 0, :]):  # (n, n_features)
        classes = [statistic[labels == label] for label in np.unique(labels)]
        grand = statistic.mean(axis=0)
        between = sum(len(group) * (group.mean(axis=0) - grand) ** 2 for group in classes) / (len(classes) - 1)
        within = sum(((group - group.mean(axis=0)) ** 2).sum(axis=0) for group in classes) / max(len(statistic) - len(classes), 1)
        largest = max(largest, float(np.max(between / np.maximum(within, 1e-12))))
    return largest


def adapt_to_config(cfg, task):
    """Fills the `auto` values the config alone decides, before the data is read, in place.

    Args:
        cfg: the composed training config (DictConfig), modified in place.
        task: the Task of `cfg.model.head`: `monitor` becomes its validation metric, and
            `data.normalize` becomes "global" to forecast (otherwise the data's channels decide it
            once it is read).
    """
    if is_auto(cfg.get("monitor")):
        cfg.monitor = task.monitor
    if "data" in cfg and is_auto(cfg.data.get("normalize")):
        cfg.data.normalize = normalization_for(cfg.model.head)


def fill_modes(cfg):
    """Sets every callback's `mode: auto` to the direction its monitored metric improves in, in place."""
    for callback in (cfg.get("callbacks") or {}).values():
        if isinstance(callback, DictConfig) and is_auto(callback.get("mode")):
            with open_dict(callback):
                callback.mode = improvement_mode(callback.monitor)


def check_sweeper_direction(direction, monitor):
    """Refuses a sweeper `direction` ("maximize" or "minimize") that disagrees with how `monitor` improves."""
    expected = {"max": "maximize", "min": "minimize"}[improvement_mode(monitor)]
    if direction is not None and str(direction) != expected:
        raise ZooError(
            f"hydra.sweeper.direction={direction}, but this run monitors {monitor}, which a better model "
            f"{'raises' if expected == 'maximize' else 'lowers'}: set hydra.sweeper.direction={expected} or another monitor."
        )


def keras_backend():
    """Keras' backend name, read where Keras is already loaded (a training run), so the rules stay importable without it."""
    import keras

    return keras.backend.backend()


def adapt_to_data(cfg, dataset):
    """Fills the `auto` values of a training config from the dataset, in place, and logs them.

    Sets `trainer.batch_size`, `trainer.learning_rate`, `trainer.epochs`, `trainer.steps_per_execution` and every
    callback's `patience` (and checks a set `steps_per_execution` against the epoch); without a
    validation split, it moves `monitor` and every callback monitoring a `val_` metric to the
    training counterpart (`val_accuracy` -> `loss`, `val_loss` -> `loss`).

    Args:
        cfg: the composed training config (DictConfig), modified in place.
        dataset: the SeriesDataset it trains on.

    Returns:
        A list of the lines logged, one per rule applied.
    """
    trainer, n_train = cfg.trainer, len(dataset.train)
    lines = []
    for key, value in (dataset.resolved or {}).items():
        if is_auto(cfg.data.get(key)):
            cfg.data[key] = value
            lines.append(f"data.{key}={value} (the data's rule)")
    if is_auto(trainer.batch_size):
        trainer.batch_size = batch_size_for(n_train)
        lines.append(f"trainer.batch_size={trainer.batch_size} (a tenth of {n_train} training series, within [8, 64])")
    if is_auto(trainer.learning_rate):
        trainer.learning_rate = learning_rate_for(trainer.batch_size)
        lines.append(
            f"trainer.learning_rate={trainer.learning_rate} ({LEARNING_RATE_AT_LARGEST_BATCH:g} at batch {LARGEST_BATCH}, "
            f"times the square root of {trainer.batch_size}/{LARGEST_BATCH})"
        )
    if is_auto(trainer.epochs):
        trainer.epochs = epochs_for(trainer.steps, n_train, trainer.batch_size)
        lines.append(f"trainer.epochs={trainer.epochs} (trainer.steps={trainer.steps} optimizer steps)")
    steps_per_epoch = steps_per_epoch_for(n_train, trainer.batch_size)
    backend = keras_backend()
    if is_auto(trainer.steps_per_execution):
        trainer.steps_per_execution = steps_per_execution_for(steps_per_epoch, backend, trainer.strategy)
        lines.append(
            f"trainer.steps_per_execution={trainer.steps_per_execution} (the largest divisor of {steps_per_epoch} steps per "
            f"epoch up to {LARGEST_STEPS_PER_EXECUTION}; 1 on torch and under trainer.strategy=mirrored)"
        )
    else:
        check_steps_per_execution(trainer.steps_per_execution, steps_per_epoch, backend, trainer.strategy)
    if len(dataset.validation) == 0 and str(cfg.monitor).startswith("val_"):
        cfg.monitor = "loss"
        lines.append("monitor=loss (no validation split: the lowest training loss picks the best checkpoint)")
    for name, callback in (cfg.get("callbacks") or {}).items():
        if not isinstance(callback, DictConfig):
            continue
        if len(dataset.validation) == 0 and str(callback.get("monitor", "")).startswith("val_"):
            callback.monitor = callback.monitor.removeprefix("val_")
            lines.append(f"callbacks.{name}.monitor={callback.monitor} (no validation split)")
        if not is_auto(callback.get("patience")):
            if "patience" in callback:
                non_negative_int(f"callbacks.{name}.patience", callback.patience)
            continue
        if len(dataset.validation) == 0 and callback.get("_target_") in WHOLE_BUDGET_WITHOUT_VALIDATION:
            callback.patience = trainer.epochs
            lines.append(f"callbacks.{name}.patience={callback.patience} (no validation split: the whole budget)")
        else:
            share, minimum = PATIENCE_RULES.get(callback.get("_target_"), DEFAULT_PATIENCE_RULE)
            callback.patience = patience_for(trainer.epochs, share, minimum)
            lines.append(f"callbacks.{name}.patience={callback.patience} ({share:.0%} of {trainer.epochs} epochs)")
    fill_modes(cfg)
    for line in lines:
        log.info(f"Adapted to the data: {line}.")
    return lines
