"""Where the default model's training time goes: one layer of the zoo's cost at a time (`python -m zoo.bench --breakdown`).

Each stack trains `last_state` (LSTM 64, softmax head, Adam 3e-3, clipnorm 1, 64 steps x 3 features)
for the same timed steps after a warm-up, in alternating rounds, and adds one thing to the stack
before it:

- `keras`: the same layers as a bare `keras.Sequential` fed NumPy arrays, Keras' defaults;
- `zoo model`: the zoo's model and compile (its loss and metrics), fed the same NumPy arrays;
- `zoo pipeline`: the zoo's input pipeline instead of NumPy (what `train.py` feeds);
- `zoo callbacks`: the callbacks of every run (non-finite loss, checkpoints, backup, TensorBoard, epoch line);
- `steps_per_execution auto`: the same, `trainer.steps_per_execution` filled by its rule;
- `train.py, steps_per_execution 1` and `train.py`: the whole loop in its own process (validation
  and every epoch's checkpoints included), timed between its epoch lines (`train_py_throughput`).

The ratio of each stack to the one before it is that layer's cost. TensorFlow backend (the pipeline's
`take`/`skip`), as `python -m zoo.bench` runs.
"""

import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from zoo.data import make_training_dataset, synthetic_dataset
from zoo.models.inputs import input_names
from zoo.registry import create_model
from zoo.runs.directory import RunDirectory
from zoo.tasks import get_task
from zoo.tasks.markdown import markdown_table
from zoo.tensorboard_logger import TensorBoardLogger
from zoo.training.adaptive import steps_per_execution_for
from zoo.training.callbacks import BestAndLastCheckpoint, EpochLog, StopOnNonFiniteLoss
from zoo.training.compile import compile_model
from zoo.training.resume import TrainingBackup

STACKS = ("keras", "zoo model", "zoo pipeline", "zoo callbacks", "steps_per_execution auto", "train.py, steps_per_execution 1", "train.py")


def run_callbacks(folder, steps):
    """The callbacks `train.py` gives every run (no early stopping or schedule: they act at epoch ends only)."""
    run = RunDirectory(folder)
    (run.path / "checkpoints").mkdir()
    kept = [StopOnNonFiniteLoss(), BestAndLastCheckpoint(run, "loss")]
    backup = TrainingBackup(run.path / "backups" / "state.npz")
    loggers = [TensorBoardLogger(str(run.path / "tensorboard")), EpochLog(1)]
    backup.prepare(kept + loggers, steps_per_epoch=steps)
    return kept + [backup] + loggers


def stack_throughput(stack, batch_size, steps, warmup=5, length=64):
    """Training series/s of one stack over `steps` timed optimizer steps (one epoch) after `warmup` ones.

    Args:
        stack: one of `STACKS`.
        batch_size: int.
        steps: int. Timed optimizer steps.
        warmup: int. Untimed steps first (tracing, the pipeline's start).
        length: int. Steps per series.

    Returns:
        Series per second (float).
    """
    if stack.startswith("train.py"):
        from zoo.benchmarks.speed import train_py_throughput

        return train_py_throughput(batch_size, steps, overrides=["trainer.steps_per_execution=1"] if stack.endswith(" 1") else [])
    keras.utils.set_random_seed(0)
    dataset = synthetic_dataset(n_samples=int(batch_size * (steps + warmup) / 0.7) + 1, length=length, seed=0)
    optimizer = keras.optimizers.Adam(learning_rate=3e-3, clipnorm=1.0)
    x, y = dataset.train.series, dataset.train.labels
    if stack == "keras":
        model = keras.Sequential([
            keras.Input((length, dataset.spec.n_features)),
            keras.layers.LSTM(64),
            keras.layers.Dense(dataset.spec.n_classes, activation="softmax"),
        ])
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return _timed_numpy_fit(model, x, y, batch_size, steps, warmup)
    task = get_task("classify")
    model = create_model("last_state", dataset.spec)
    spe = steps_per_execution_for(steps, keras.backend.backend()) if stack == "steps_per_execution auto" else 1
    compile_model(model, jit_compile=False, optimizer=optimizer, steps_per_execution=spe, **task.compile_arguments())
    if stack == "zoo model":
        return _timed_numpy_fit(model, {"series": x}, y, batch_size, steps, warmup)
    # The zoo's pipeline, as train.py builds it: the warm-up steps, then the timed ones.
    train, _ = make_training_dataset(dataset.train, input_names=input_names(model), task=task, batch_size=batch_size, seed=0, epochs=1)
    model.fit(train.take(warmup), epochs=1, steps_per_epoch=warmup, verbose=0, shuffle=False)
    with tempfile.TemporaryDirectory() as folder:
        callbacks = run_callbacks(Path(folder), steps) if stack in ("zoo callbacks", "steps_per_execution auto") else []
        timed = train.skip(warmup).take(steps)
        started = time.perf_counter()
        model.fit(timed, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False, callbacks=callbacks)
        return steps * batch_size / (time.perf_counter() - started)


def _timed_numpy_fit(model, x, y, batch_size, steps, warmup):
    """Fits `warmup` batches of NumPy rows, then times `steps` more (Keras' own NumPy path); returns series/s."""
    first = warmup * batch_size
    model.fit(_rows(x, 0, first), y[:first], batch_size=batch_size, epochs=1, verbose=0)
    timed_x, timed_y = _rows(x, first, first + steps * batch_size), y[first : first + steps * batch_size]
    started = time.perf_counter()
    model.fit(timed_x, timed_y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
    return steps * batch_size / (time.perf_counter() - started)


def _rows(x, start, stop):
    """Rows `start:stop` of an array or of each array of a dict of inputs."""
    return {name: value[start:stop] for name, value in x.items()} if isinstance(x, dict) else x[start:stop]


def cost_breakdown(batch_sizes, steps, rounds):
    """Prints each stack's series/s per round and the ratio of each stack to the one before it."""
    rows = []
    for batch_size in batch_sizes:
        figures = {stack: [] for stack in STACKS}
        for _ in range(rounds):  # alternating, so a slow moment of the machine hits every stack
            for stack in STACKS:
                figures[stack].append(stack_throughput(stack, batch_size, steps))
        means = {stack: float(np.mean(values)) for stack, values in figures.items()}
        for before, stack in zip((None, *STACKS), STACKS):
            ratio = f"{means[stack] / means[before]:.2f}" if before else "-"
            versus_keras = f"{means[stack] / means['keras']:.2f}"
            rows.append([str(batch_size), stack, ", ".join(f"{value:,.0f}" for value in figures[stack]), ratio, versus_keras])
    print(markdown_table(["batch", "stack", "series/s (each round)", "/ the stack above", "/ bare Keras"], rows))
