"""Resumable training: one backup file holds everything `fit` needs to continue as if never stopped.

Keras' `BackupAndRestore` restores the weights, the optimizer and the epoch. A run resumed that way
still differs from an uninterrupted one: dropout seed states are not in `save_weights`, the other
callbacks (early stopping's patience count, the learning-rate schedule's plateau count, the best
checkpoint's best value, the TensorBoard step) start afresh in `on_train_begin`, a `tf.data`
shuffle restarts its sequence of orders, an epoch cut short restarts from its first batch, and the
backup is rewritten in place, so a kill during the save destroys it. `TrainingBackup` covers each:

- every variable (model, dropout seed states, optimizer) by position, and the metrics' running sums
  within an epoch by name (Keras builds the metrics only at the first step, so they are added
  back after it: the sums are additive, so the result is the same bits);
- each callback's progress attributes (`RESUMED_ATTRIBUTES`, or a zoo callback's own
  `resumed_attributes`);
- the epoch, the step within it and the history so far;
- one `.npz` written to a temporary name and renamed, so a kill leaves the old backup or the new one.

The data order is a function of (seed, epoch) (`zoo.data.pipeline.epoch_order`), so the batches
after a resume are the batches an uninterrupted run sees.
"""

import json
import logging
import math
import os
import signal
from pathlib import Path

import keras
import numpy as np

from zoo.errors import ZooError
from zoo.runs.directory import writing

log = logging.getLogger(__name__)

FORMAT_VERSION = 1

# What a Keras callback carries from one epoch to the next; its on_train_begin resets these.
RESUMED_ATTRIBUTES = {
    keras.callbacks.EarlyStopping: ("wait", "stopped_epoch", "best", "best_epoch", "best_weights"),
    keras.callbacks.ReduceLROnPlateau: ("wait", "cooldown_counter", "best"),
}


class TrainingInterrupted(ZooError):
    """A signal stopped training after its state was backed up; the message gives the resume command."""

    def __init__(self, message, exit_code):
        super().__init__(message)
        self.exit_code = exit_code


def resumed_attributes(callback):
    """Returns the names of `callback`'s attributes a backup keeps, or None if the zoo does not know them."""
    own = getattr(callback, "resumed_attributes", None)
    if own is not None:
        return tuple(own)
    for kind, names in RESUMED_ATTRIBUTES.items():
        if type(callback) is kind:
            return names
    return None


def _encode(value):
    """Makes a callback attribute strict JSON (infinities and NaN as strings)."""
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}
    return value


def _decode(value):
    if isinstance(value, dict) and set(value) == {"float"}:
        return float(value["float"])
    return value


def _training_variables(model):
    """The variables `fit` changes besides the metrics, in a fixed order: the model's (seed states too), the optimizer's."""
    return list(model.variables) + list(model.optimizer.variables)


class TrainingBackup(keras.callbacks.Callback):
    """Backs up the whole training state at each epoch end (and every N steps) and restores it on resume.

    Place it after the callbacks whose state it keeps (their `on_epoch_end` updates that state
    first) and before the loggers, so a logged epoch is always a backed-up one.

    Args:
        path: Path of the backup file (`<run>/backups/state.npz`).
        every_steps: int. Also back up every N optimizer steps within an epoch; 0 backs up at epoch ends only.
        resume_command: str. Shown when a signal stops the run.
    """

    def __init__(self, path, every_steps=0, resume_command=""):
        super().__init__()
        self.path = Path(path)
        self.callbacks = []
        self.steps_per_epoch = None
        self.every_steps = int(every_steps)
        self.resume_command = resume_command
        self.epoch = 0
        self.step = 0
        self.history = []
        self.stopped = False
        self._callback_states = None
        self._variables = None
        self._metric_sums = None
        self._step_offset = 0
        self._steps_since_save = 0
        self._stop_signal = None
        self._stop_after_epoch = False
        self._previous_handlers = {}
        self.resuming = False

    def prepare(self, callbacks, steps_per_epoch):
        """Names the run's other callbacks, in order (the backup keeps their progress), and the steps in an epoch."""
        self.steps_per_epoch = steps_per_epoch
        self.callbacks = [callback for callback in callbacks if callback is not self]
        for callback in self.callbacks:
            if resumed_attributes(callback) is None:
                log.warning(
                    f"{type(callback).__name__} keeps no state in the run's backup: a resumed run restarts it afresh."
                )

    # === Reading a backup ===
    def load(self):
        """Reads the backup file if there is one (and sets `resuming`).

        Returns:
            True if the run has a backup to resume from.
        """
        if not self.path.is_file():
            return False
        try:
            with np.load(self.path, allow_pickle=False) as stored:
                state = json.loads(str(stored["state"]))
                variables = [stored[f"variable_{index}"] for index in range(state["variables"])]
                metric_sums = {path: stored[f"metric_{index}"] for index, path in enumerate(state["metrics"])}
                extra = {name: stored[name] for name in stored.files if name.startswith("callback_")}
        except Exception as error:  # a truncated or foreign file raises many types
            raise ZooError(
                f"The backup {self.path} cannot be read ({type(error).__name__}): delete it to start the run "
                "over, or resume from another copy."
            ) from error
        if state.get("version") != FORMAT_VERSION:
            raise ZooError(
                f"The backup {self.path} has format {state.get('version')}, not {FORMAT_VERSION}: "
                "resume it with the zoo version that wrote it, or delete it to start the run over."
            )
        self.epoch, self.step, self.stopped = state["epoch"], state["step"], state["stopped"]
        self.history = [{name: _decode(value) for name, value in logs.items()} for logs in state["history"]]
        self._variables = variables
        self._metric_sums = metric_sums if self.step else None
        self._callback_states = [
            {name: _decode(value) for name, value in saved.items()} for saved in state["callbacks"]
        ]
        for index, saved in enumerate(self._callback_states):
            for name in list(saved):
                if saved[name] == {"arrays": True}:
                    count = len([key for key in extra if key.startswith(f"callback_{index}_{name}_")])
                    saved[name] = [extra[f"callback_{index}_{name}_{item}"] for item in range(count)]
        self.resuming = True
        return True

    # === Keras hooks ===
    def on_train_begin(self, logs=None):
        if self._variables is not None:
            self._restore_variables(self._variables)
            self._variables = None
        if self._callback_states is not None:
            self._restore_callbacks(self._callback_states)
        self._install_signal_handlers()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self._step_offset = self.step  # 0, or the steps a run resumed within this epoch has already taken

    def on_train_batch_end(self, batch, logs=None):
        # Keras numbers batches from 0 in each fit, and reports the last of `steps_per_execution` batches.
        if self._metric_sums is not None:
            self._add_metric_sums(self._metric_sums)
            self._metric_sums = None
        taken = self._step_offset + batch + 1
        self._steps_since_save += taken - self.step
        self.step = taken
        # At an epoch's last step the epoch-end backup follows at once; a backup within the epoch
        # is one that has steps left.
        within_epoch = self.steps_per_epoch is None or taken < self.steps_per_epoch
        if self._stop_signal is not None and within_epoch:
            self.save()
            raise self._interruption()
        if self.every_steps and self._steps_since_save >= self.every_steps and within_epoch:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self.history.append({name: float(value) for name, value in (logs or {}).items()})
        self.epoch, self.step = epoch + 1, 0
        self.stopped = bool(self.model.stop_training)  # early stopping decided at this epoch's end
        self.save()
        if self._stop_signal is not None:
            # A signal during the epoch's last step: let the loggers record this epoch, then stop.
            self._stop_after_epoch = True
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        # A second fit (after a run resumed within an epoch) resets the callbacks again; carry their state over.
        self._callback_states = self._capture_callbacks()
        self._restore_signal_handlers()
        if self._stop_after_epoch:
            raise self._interruption()

    def _interruption(self):
        name = signal.Signals(self._stop_signal).name
        where = f"step {self.step}" if self.step else "its end"
        return TrainingInterrupted(
            f"Stopped by {name} at epoch {self.epoch + (1 if self.step else 0)}, {where}; the state is saved in "
            f"{self.path}: resume with {self.resume_command}",
            exit_code=128 + self._stop_signal,
        )

    # === Writing a backup ===
    def save(self):
        """Writes the backup atomically: a temporary file, then a rename."""
        variables = _training_variables(self.model)
        arrays = {f"variable_{index}": keras.ops.convert_to_numpy(variable) for index, variable in enumerate(variables)}
        metrics = list(self.model.metrics_variables)
        arrays.update({f"metric_{index}": keras.ops.convert_to_numpy(variable) for index, variable in enumerate(metrics)})
        callback_states = self._capture_callbacks()
        for index, saved in enumerate(callback_states):
            for name, value in list(saved.items()):
                if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
                    for item, array in enumerate(value):
                        arrays[f"callback_{index}_{name}_{item}"] = array
                    saved[name] = {"arrays": True}
        state = {
            "version": FORMAT_VERSION,
            "epoch": self.epoch,
            "step": self.step,
            "stopped": self.stopped,
            "history": [{name: _encode(value) for name, value in logs.items()} for logs in self.history],
            "callbacks": callback_states,
            "variables": len(variables),
            "metrics": [variable.path for variable in metrics],
        }
        arrays["state"] = np.asarray(json.dumps(state, allow_nan=False))
        self._steps_since_save = 0
        temporary = self.path.with_name(f".{self.path.stem}.{os.getpid()}.partial.npz")
        with writing(self.path, temporary):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "wb") as handle:
                np.savez(handle, **arrays)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)

    def discard(self):
        """Removes the backup once the run has finished."""
        self.path.unlink(missing_ok=True)
        if self.path.parent.is_dir() and not any(self.path.parent.iterdir()):
            self.path.parent.rmdir()

    # === Helpers ===
    def _capture_callbacks(self):
        states = []
        for callback in self.callbacks:
            names = resumed_attributes(callback) or ()
            states.append({name: _encode(getattr(callback, name, None)) for name in names})
        return states

    def _restore_callbacks(self, states):
        if len(states) != len(self.callbacks):
            raise ZooError(
                f"The backup {self.path} holds {len(states)} callbacks' state, this run has {len(self.callbacks)}: "
                "resume with the run's own config (python train.py resume=<run_dir>)."
            )
        for callback, saved in zip(self.callbacks, states):
            for name, value in saved.items():
                setattr(callback, name, value)

    def _restore_variables(self, values):
        if not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        variables = _training_variables(self.model)
        shapes_differ = len(values) != len(variables) or any(
            tuple(value.shape) != tuple(variable.shape) for value, variable in zip(values, variables)
        )
        if shapes_differ:
            raise ZooError(
                f"The backup {self.path} was written by a different model or optimizer: resume with the run's "
                "own config (python train.py resume=<run_dir>) or delete the backup to start over."
            )
        for variable, value in zip(variables, values):
            variable.assign(value)

    def _add_metric_sums(self, sums):
        """Adds the running sums the interrupted epoch had reached to the metrics after the resumed epoch's first step."""
        for variable in self.model.metrics_variables:
            if variable.path in sums:
                variable.assign_add(sums[variable.path])
            else:
                log.warning(f"The backup holds no running sum for metric variable {variable.path}; it restarts.")

    def _install_signal_handlers(self):
        def request_stop(signum, frame):
            if self._stop_signal is not None:  # the second signal: stop at once
                raise KeyboardInterrupt
            self._stop_signal = signum
            log.warning(f"{signal.Signals(signum).name} received: saving the state after this step (again to stop at once).")

        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous_handlers[signum] = signal.signal(signum, request_stop)
            except ValueError:  # not the main thread: signals stay as they were
                pass

    def _restore_signal_handlers(self):
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers = {}
