"""The callbacks every training run has: stop on a non-finite loss, best and last checkpoints, one log line per epoch."""

import logging
import math
import time

import keras

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
    """Saves `checkpoints/last.keras` every epoch and `checkpoints/best.keras` when `monitor` improves.

    Both are written atomically (a temporary file, then a rename), so a kill during a save keeps
    the previous checkpoint. Which way `monitor` improves is `zoo.tasks.improvement_mode`'s rule.

    Args:
        run: RunDirectory.
        monitor: str. The metric in the epoch logs, e.g. "val_accuracy".
    """

    resumed_attributes = ("best",)  # what a resumed run carries over (zoo.training.resume)

    def __init__(self, run, monitor):
        super().__init__()
        self.run = run
        self.monitor = monitor
        self.best = None

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
        save_model_atomically(self.model, self.run.last_checkpoint)


class EpochLog(keras.callbacks.Callback):
    """Logs one plain line per epoch (to the run's log file and the console)."""

    resumed_attributes = ()

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs
        self._started = None
        self._first_step_logged = False

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if not self._first_step_logged:  # the start-up time python -m zoo.bench reports ends here
            self._first_step_logged = True
            log.info("First training step done.")

    def on_epoch_end(self, epoch, logs=None):
        values = " - ".join(f"{name} {value:.4g}" for name, value in (logs or {}).items())
        seconds = time.perf_counter() - self._started
        log.info(f"epoch {epoch + 1}/{self.epochs} - {values} - {seconds:.1f}s")
