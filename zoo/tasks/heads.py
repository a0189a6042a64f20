"""Heads: what a head predicts and how it trains and is monitored (what the model and `fit` need).

One object per head (`classify`, `forecast`, `regress`). Code outside asks the task, never which
task it is: `get_task(cfg.model.head).compile_arguments()`. How each head is scored and reported
lives beside it, in `zoo.tasks.reports`.
"""

import keras

from zoo.errors import ZooError
from zoo.registry import ALL_HEADS


class Task:
    """What every head shares. Subclasses set the class attributes and the methods that differ.

    Attributes:
        name: the head's name in configs (`model.head`).
        loss, metrics: what `model.compile` gets.
        monitor: the validation metric that picks the best checkpoint by default.
    """

    name = None
    loss = None
    metrics = ()
    monitor = "val_loss"

    def check_data(self, spec):
        """Raises a ZooError if data described by `spec` cannot train this head."""

    def output(self, features, spec, *, dropout=0.0):
        """Applies the head to a `(batch, dim)` feature vector; the last layer computes in float32.

        Args:
            features: tensor `(batch, dim)`.
            spec: DataSpec.
            dropout: float. Dropout applied to `features` first.

        Returns:
            The model's output tensor.
        """
        self.check_data(spec)
        if dropout:
            features = keras.layers.Dropout(dropout, name="head_dropout")(features)
        return self._output_layer(features, spec)

    def _output_layer(self, features, spec):
        raise NotImplementedError

    def compile_arguments(self, spec=None):
        """Returns the `loss` and `metrics` for `model.compile` on data described by `spec` (a DataSpec, or None)."""
        return {"loss": self.loss, "metrics": list(self.metrics)}

    def targets(self, split):
        """Returns what the model is trained to output for each series of `split`."""
        raise NotImplementedError


class ClassifyTask(Task):
    """Class probabilities from a softmax; trained with sparse cross-entropy, monitored by validation accuracy."""

    name = "classify"
    loss = "sparse_categorical_crossentropy"
    metrics = ("accuracy",)
    monitor = "val_accuracy"

    def check_data(self, spec):
        if spec.n_classes < 2:
            raise ZooError(
                f"head=classify needs at least 2 class labels but the data has {spec.n_classes}: "
                "use labelled data or set model.head=forecast (with data.horizon > 0) or model.head=regress."
            )

    def _output_layer(self, features, spec):
        return keras.layers.Dense(spec.n_classes, activation="softmax", dtype="float32", name="classifier")(features)

    def targets(self, split):
        return split.labels


class ForecastTask(Task):
    """The next `horizon x features` values; trained with MSE, scored in original units against naive baselines.

    On windows of histories (`data=forecast`) it trains with MAE instead: each window is scaled by its
    own context, so MAE there is a scale-free absolute error, the kind sMAPE and MASE score.
    """

    name = "forecast"
    loss = "mse"
    metrics = ("mae",)

    def compile_arguments(self, spec=None):
        arguments = super().compile_arguments(spec)
        if spec is not None and spec.from_histories:
            arguments["loss"] = "mae"
        return arguments

    def check_data(self, spec):
        if spec.horizon < 1:
            raise ZooError("head=forecast needs data.horizon >= 1 future steps per series; set data.horizon.")

    def _output_layer(self, features, spec):
        flat = keras.layers.Dense(spec.horizon * spec.n_features, dtype="float32", name="forecast_dense")(features)
        return keras.layers.Reshape((spec.horizon, spec.n_features), name="forecast")(flat)

    def targets(self, split):
        return split.future


class RegressTask(Task):
    """One value per series; trained with MSE, scored in original units against the training mean."""

    name = "regress"
    loss = "mse"
    metrics = ("mae",)

    def check_data(self, spec):
        if not spec.has_targets:
            raise ZooError("head=regress needs a regression target per series; this data has none.")

    def _output_layer(self, features, spec):
        return keras.layers.Dense(1, dtype="float32", name="regressor")(features)

    def targets(self, split):
        return split.targets[:, None]


TASKS = {task.name: task for task in (ClassifyTask(), ForecastTask(), RegressTask())}
assert tuple(TASKS) == ALL_HEADS  # the registry's list of heads and the tasks agree


def get_task(name):
    """Returns the task of head `name` ("classify", "forecast" or "regress")."""
    if name not in TASKS:
        raise ZooError(f"Received an invalid value for head, expected one of {list(TASKS)}, got {name!r}.")
    return TASKS[name]

