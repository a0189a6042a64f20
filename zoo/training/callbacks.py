"""The callbacks every training run has: stop on a non-finite loss, best and last checkpoints, one log line per epoch."""

import logging
import math
import sys
import time

import keras
import numpy as np

from zoo.data.pipeline import model_inputs
from zoo.errors import ZooError
from zoo.runs.directory import save_model_atomically
from zoo.tasks import is_improvement

log = logging.getLogger(__name__)


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training at the first NaN or infinite loss, naming the epoch and step and what to try.

    The checkpoints keep the last finite epoch's model and no `metrics.json` is written, so a
    diverged run never looks finished (unlike `keras.callbacks.TerminateOnNaN`, which ends `fit`
    normally).
    """

    resumed_attributes = ()  # nothing carries over between epochs

    def __init__(self):
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise ZooError(
                f"The training loss became {float(loss)} at epoch {self._epoch + 1}, step {batch + 1}; the run stopped "
                "and keeps its last good checkpoint: lower trainer.learning_rate, set trainer.clipnorm, "
                "or keep trainer.precision=float32."
            )


class BestAndLastCheckpoint(keras.callbacks.Callback):
    """Saves `checkpoints/best.keras` when `monitor` improves and `checkpoints/last.keras` when training ends.

    `last.keras` is also saved at an epoch's end when the previous save is `last_every_s` seconds
    old (the first epoch's included), so a crashed run keeps a recent one while short epochs do not
    pay a file per epoch (the run's backup, not this file, is what resume reads). Both are written
    atomically (a temporary file, then a rename), so a kill during a save keeps the previous
    checkpoint. Which way `monitor` improves is `zoo.tasks.improvement_mode`'s rule.

    Args:
        run: RunDirectory.
        monitor: str. The metric in the epoch logs, e.g. "val_accuracy".
        last_every_s: float. The least time between two saves of `last.keras` during training.
    """

    resumed_attributes = ("best",)  # what a resumed run carries over (zoo.training.resume)

    def __init__(self, run, monitor, last_every_s=60.0):
        super().__init__()
        self.run = run
        self.monitor = monitor
        self.last_every_s = last_every_s
        self.best = None
        self._last_saved = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise ZooError(
                f"monitor={self.monitor} is not among the metrics Keras reports ({sorted(logs or {})}): "
                "set monitor to one of them."
            )
        value = float(value)
        if value == value and is_improvement(value, self.best, self.monitor):  # value == value: not NaN
            self.best = value
            save_model_atomically(self.model, self.run.best_checkpoint)
        if self._last_saved is None or time.monotonic() - self._last_saved >= self.last_every_s:
            self._save_last()

    def on_train_end(self, logs=None):
        self._save_last()

    def _save_last(self):
        save_model_atomically(self.model, self.run.last_checkpoint)
        self._last_saved = time.monotonic()


class EpochLog(keras.callbacks.Callback):
    """Logs one plain line per epoch (to the run's log file and the console).

    Args:
        epochs: int. The run's budget, shown as "epoch k/N".
        progress_bar: an `EpochProgressBar` to clear before each line, or None.
    """

    resumed_attributes = ()

    def __init__(self, epochs, progress_bar=None):
        super().__init__()
        self.epochs = epochs
        self.progress_bar = progress_bar
        self._started = None
        self._first_step_logged = False

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if not self._first_step_logged:  # the start-up time python -m zoo.bench reports ends here
            self._first_step_logged = True
            self._clear_progress_bar()
            log.info("First training step done.")

    def on_epoch_end(self, epoch, logs=None):
        values = " - ".join(f"{name} {value:.4g}" for name, value in (logs or {}).items())
        seconds = time.perf_counter() - self._started
        self._clear_progress_bar()
        log.info(f"epoch {epoch + 1}/{self.epochs} - {values} - {seconds:.1f}s")

    def _clear_progress_bar(self):
        if self.progress_bar is not None:
            self.progress_bar.clear()


class EpochProgressBar(keras.callbacks.ProgbarLogger):
    """Keras' progress bar while an epoch trains (`fit(verbose=1)`, at a terminal), without Keras' own
    "Epoch k/N" and end-of-epoch lines: `EpochLog` clears the bar and writes the epoch's one line."""

    resumed_attributes = ()

    def on_epoch_begin(self, epoch, logs=None):
        epochs, self.epochs = self.epochs, 1  # Keras heads each epoch with "Epoch k/N" only when N > 1
        super().on_epoch_begin(epoch, logs)
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        pass  # no final bar: EpochLog's line replaces it

    def clear(self):
        """Erases the bar, so a log line starts on a clean line (the bar redraws at the next step)."""
        if self.verbose:
            sys.stdout.write("\r\x1b[K")  # back to the line's start and clear it
            sys.stdout.flush()


class RecalibrateBatchNorm(keras.callbacks.Callback):
    """Sets every BatchNormalization layer's moving mean and variance to the training series' own.

    Keras' moving statistics start at mean 0 and variance 1 and forget them at momentum 0.99 per
    step: after a few hundred steps they still hold a share of the start values, so a network that
    is right in training mode can be at chance in inference mode. Before each validation and at
    each epoch end (before checkpoints and backups see the model), each layer in turn gets the
    mean and variance of its inputs over every valid step of the training split, computed in
    inference mode with the layers before it already set: what the moving averages estimate.

    Args:
        split: the training SeriesSplit (scaled, as the model sees it).
        batch_size: int. Series per forward pass.
    """

    resumed_attributes = ()  # recomputed from the weights and the data, so nothing to carry over

    def __init__(self, split, batch_size):
        super().__init__()
        self.split = split
        self.batch_size = batch_size
        self._probes = None
        self._current = False  # the statistics fit the weights: nothing trained since the last recalibration

    def on_train_begin(self, logs=None):
        self._probes = [(layer, keras.Model(self.model.inputs, _normalized_input(layer))) for layer in batch_norms(self.model)]
        self._inputs = model_inputs(self.split, [tensor.name for tensor in self.model.inputs])

    def on_epoch_begin(self, epoch, logs=None):
        self._current = False

    def on_test_begin(self, logs=None):
        self._recalibrate_once()

    def on_epoch_end(self, epoch, logs=None):
        self._recalibrate_once()  # validation does not train, so after it the statistics still fit

    def _recalibrate_once(self):
        if not self._current:
            self.recalibrate()
            self._current = True

    def recalibrate(self):
        mask = self._inputs.get("mask")
        for layer, probe in self._probes or ():
            values = np.asarray(probe.predict(self._inputs, batch_size=self.batch_size, verbose=0), dtype="float64")
            if values.ndim == 3 and mask is not None and values.shape[1] == mask.shape[1]:
                rows = values[mask]  # valid steps only, as the layer's own masked statistics
            else:
                rows = values.reshape(-1, values.shape[-1])
            layer.moving_mean.assign(rows.mean(axis=0).astype(layer.moving_mean.dtype))
            layer.moving_variance.assign(rows.var(axis=0).astype(layer.moving_variance.dtype))


def batch_norms(model):
    """Returns the model's BatchNormalization layers in the order its graph runs them (functional models list them so)."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def _normalized_input(layer):
    """The tensor a BatchNormalization layer normalizes (Keras lists a mask passed to it among its inputs)."""
    inputs = layer.input if isinstance(layer.input, (list, tuple)) else [layer.input]
    return next(tensor for tensor in inputs if tensor.shape[-1] == layer.moving_mean.shape[0] and tensor.dtype != "bool")
