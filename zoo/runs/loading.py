"""A finished run as a Python object: `zoo.load_run(run_dir).predict(series)` in original units.

Example:

    run = zoo.load_run("outputs/runs/<date>/<time>_last_state")
    outputs = run.predict(series)              # (n, timesteps, features), or a list of (length, features)
    outputs["class"], outputs["probabilities"] # classify; "forecast" or "value" for the other heads
    run.classes, run.config.model.units
"""

import keras
import numpy as np

from zoo.data.dataset import SeriesSplit
from zoo.data.scaling import Standardizer
from zoo.errors import ZooError
from zoo.inference import predict
from zoo.registry import model_info
from zoo.runs.directory import RunDirectory, load_checkpoint
from zoo.runs.saved_config import read_run_config
from zoo.tasks import get_task
from zoo.tasks.reports import get_report
from zoo.training.builders import build_dataset
from zoo.training.device import configure_device


def load_run(run_dir, ckpt="best", device=None):
    """Loads a finished training run: what `evaluate.py`, `zoo.predict`, `zoo.export` and Python users share.

    Args:
        run_dir: path of a directory `python train.py` wrote.
        ckpt: "best", "last" or the path of a `.keras` file trained with the run's config.
        device: None leaves the device set-up alone; "auto", "cpu" or "gpu" sets it up before the
            model loads; "run" uses the run's own device and precision (evaluation).

    Returns:
        A `TrainedRun`.
    """
    return TrainedRun(run_dir, ckpt=ckpt, device=device)


class TrainedRun:
    """A run's model with its scaling, class names and input contract.

    Args:
        run_dir: path of the run directory.
        ckpt: "best", "last" or a `.keras` path.

    Attributes:
        config: the resolved config the run trained with.
        classes: class names by index (empty without labels).
        model: the reloaded Keras model.
        task: the Task of the run's head.
        report: its Report (scores, outputs and CSV columns).
    """

    def __init__(self, run_dir, ckpt="best", device=None):
        self.run = RunDirectory(run_dir)
        self.config = read_run_config(self.run)
        self.checkpoint = self.run.checkpoint(ckpt)
        if device == "run":  # the run's precision, so scores match training's; a GPU run scores on a CPU too
            configure_device("auto" if self.config.trainer.device == "gpu" else self.config.trainer.device, self.config.trainer.precision)
        elif device is not None:
            configure_device(device)
        self.classes = self.run.read_classes()
        self.scaler = Standardizer.load(self.run.scaler)
        self.task = get_task(self.config.model.head)
        self.report = get_report(self.config.model.head)
        self.model = load_checkpoint(self.checkpoint)
        if self.model.name != self.config.model.name:
            raise ZooError(
                f"Checkpoint {self.checkpoint} holds a {self.model.name!r} model but the run was trained with "
                f"model={self.config.model.name}: pass a checkpoint from this run."
            )
        self.info = model_info(self.model.name)
        shapes = {tensor.name: tuple(tensor.shape[1:]) for tensor in self.model.inputs}
        self.timesteps, self.n_features = shapes["series"]  # timesteps is None unless the length is fixed
        self.takes_mask = "mask" in shapes
        self.n_static = shapes["static"][0] if "static" in shapes else 0

    def rebuild_dataset(self):
        """Rebuilds the run's data, checking it is the data the run trained on and that the checkpoint fits it.

        Returns:
            The SeriesDataset, its test split as the run's.
        """
        dataset = build_dataset(self.config.data)
        if not self.model.compiled:  # loaded without its compile config (trained on another backend): evaluate needs the task's
            self.model.compile(**self.task.compile_arguments(dataset.spec))
        if not self.scaler.allclose(dataset.scaler):
            raise ZooError(
                f"The data rebuilt from {self.run.config} differs from the data the run trained on "
                "(scaling statistics changed): restore the original data files to evaluate this run."
            )
        self.check_fits(dataset.spec)
        return dataset

    def check_fits(self, spec):
        """Raises a ZooError if the checkpoint's model was not built for this run's config and data `spec`."""
        model, run_cfg, path = self.model, self.config, self.checkpoint
        inputs = {tensor.name: tuple(tensor.shape[1:]) for tensor in model.inputs}
        if inputs["series"][-1] != spec.n_features:
            raise ZooError(
                f"Checkpoint {path} expects {inputs['series'][-1]} features per step but the run's data has "
                f"{spec.n_features}: pass a checkpoint trained with this run's data config."
            )
        if inputs["series"][0] not in (None, spec.timesteps) or ("mask" in inputs) != spec.variable_length:
            raise ZooError(
                f"Checkpoint {path} was built for series of another length or padding than the run's data: "
                "pass a checkpoint trained with this run's data config."
            )
        static = inputs.get("static", (0,))[0]
        if static != spec.n_static:
            raise ZooError(
                f"Checkpoint {path} expects {static} static covariates but the run's data has {spec.n_static}: "
                "pass a checkpoint trained with this run's data config."
            )
        head = get_task(run_cfg.model.head)
        expected = tuple(head.output(keras.Input((1,)), spec).shape[1:])  # the head alone, on a symbolic input
        produced = tuple(model.outputs[0].shape[1:])
        if produced != expected:
            raise ZooError(
                f"Checkpoint {path} outputs shape {produced} but model.head={head.name} on the run's data needs "
                f"{expected}: the run's config.yaml and checkpoint disagree; restore the config train.py wrote."
            )

    @property
    def context_length(self):
        """Steps a run trained on histories (`data=forecast`) reads before each forecast; None for other data."""
        value = self.config.data.get("context_length")
        return value if isinstance(value, int) else None

    @property
    def feature_names(self):
        """Channel names: the run's CSV feature columns, else `feature_0`, `feature_1`, ..."""
        names = self.config.data.get("feature_columns") or self.config.data.get("value_columns")
        return list(names) if names and not isinstance(names, str) and len(names) == self.n_features else [f"feature_{i}" for i in range(self.n_features)]

    def predict(self, series, lengths=None, static=None, batch_size=256, verbose=0):
        """Predicts new series in original units, with the run's scaling, padding, mask and static covariates.

        Args:
            series: array `(n, timesteps, n_features)` (right-padded when `lengths` is given), or a
                list of `(length, n_features)` arrays of any lengths.
            lengths: optional int array `(n,)` of valid steps per series of a padded array.
            static: array `(n, n_static)` when the run trained with static covariates.
            batch_size: int.
            verbose: int. 1 shows Keras' progress bar over the batches.

        Returns:
            Dict of arrays with one row per series: `class` and `probabilities` (classify),
            `forecast` `(n, horizon, n_features)` (forecast) or `value` `(n,)` (regress). A run
            trained on histories (`data=forecast`) forecasts the `horizon` steps after each series'
            end from its last `data.context_length` steps, so whole histories may be passed.
        """
        split = self.scaler.transform(self.prepare(series, lengths, static))
        return self.report.outputs(predict(self.model, split, batch_size, verbose), self.scaler, self.classes, split)

    def prepare(self, series, lengths=None, static=None):
        """Checks new series against the run's input contract and pads them; returns an unscaled SeriesSplit."""
        rows = _as_rows(series, lengths, self.n_features)
        if self.context_length:
            rows = [row[-self.context_length :] for row in rows]
        count = len(rows)
        longest = max(len(row) for row in rows)
        steps = self.timesteps or longest
        if longest > steps:
            raise ZooError(
                f"A series has {longest} steps but {self.model.name} reads at most {steps} (its input length is "
                f"fixed to the training length): cut the series to {steps} steps."
            )
        lengths = np.asarray([len(row) for row in rows], dtype="int32")
        if not self.takes_mask and (lengths != steps).any():
            raise ZooError(
                f"The run trained on equal-length series, so its model has no mask: pass series of "
                f"{steps} steps each, or retrain on data of varying lengths."
            )
        padded = np.zeros((count, steps, self.n_features), dtype="float32")
        for index, row in enumerate(rows):
            padded[index, : len(row)] = row
        return SeriesSplit(
            series=padded,
            labels=np.zeros(count, dtype="int32"),
            future=np.zeros((count, 0, self.n_features), dtype="float32"),
            lengths=lengths,
            static=_checked_static(static, count, self.n_static),
        )


def _as_rows(series, lengths, n_features):
    """Returns a list of `(length, n_features)` float arrays, refusing wrong shapes and non-finite values."""
    if isinstance(series, np.ndarray) and series.ndim == 3:
        lengths = np.full(len(series), series.shape[1]) if lengths is None else np.asarray(lengths)
        if len(lengths) != len(series) or (lengths < 1).any() or (lengths > series.shape[1]).any():
            raise ZooError(f"lengths must give 1 to {series.shape[1]} valid steps for each of the {len(series)} series.")
        rows = [series[i, : lengths[i]] for i in range(len(series))]
    else:
        if lengths is not None:
            raise ZooError("lengths is only for a padded (n, timesteps, n_features) array; a list gives each series whole.")
        rows = [np.asarray(row, dtype="float32") for row in series]
    if not rows:
        raise ZooError("No series to predict: pass at least one.")
    for index, row in enumerate(rows):
        if row.ndim != 2 or row.shape[1] != n_features or len(row) < 1:
            raise ZooError(
                f"Series {index} has shape {row.shape} but the run was trained on {n_features} features per step: "
                f"pass arrays of shape (length, {n_features})."
            )
        if not np.isfinite(row).all():
            raise ZooError(f"Series {index} holds NaN or infinite values: fill or drop them before predicting.")
    return [row.astype("float32") for row in rows]


def _checked_static(static, count, n_static):
    if n_static == 0:
        if static is not None:
            raise ZooError("The run trained without static covariates: pass static=None.")
        return None
    static = None if static is None else np.asarray(static, dtype="float32")
    if static is None or static.shape != (count, n_static):
        shape = None if static is None else static.shape
        raise ZooError(f"The run trained with {n_static} static covariates: pass static of shape ({count}, {n_static}), got {shape}.")
    if not np.isfinite(static).all():
        raise ZooError("static holds NaN or infinite values: fill them before predicting.")
    return static
