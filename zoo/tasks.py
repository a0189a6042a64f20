"""Tasks: what a head predicts, how it trains and is monitored, and how it is scored, reported and logged.

One object per head (`classify`, `forecast`, `regress`). Code outside this module asks the task,
never which task it is: `get_task(cfg.model.head).compile_arguments()`.
"""

import keras
import numpy as np

from zoo.errors import ZooError
from zoo.figures import confusion_matrix_figure, forecast_figure
from zoo.markdown import classification_markdown, forecast_markdown, regression_markdown
from zoo.prediction import predict
from zoo.registry import ALL_HEADS, model_info
from zoo.scores import (
    classification_report,
    estimate_seasons,
    forecast_report,
    mase_scale,
    naive_forecast,
    regression_report,
)

# Metric names that grow as a model improves; every other metric (losses, errors) shrinks.
_GROWING_METRICS = ("accuracy", "auc", "f1", "precision", "recall")


def improvement_mode(monitor):
    """Returns "max" for metrics that grow as a model improves (accuracy), else "min" (losses, errors).

    The one rule used by checkpoints, early stopping, learning-rate schedules, compare and sweeps.
    """
    return "max" if monitor.removeprefix("val_").endswith(_GROWING_METRICS) else "min"


def is_improvement(value, best, monitor):
    """Whether `value` is strictly better than `best` (None: nothing yet) for `monitor`."""
    if best is None:
        return True
    return value > best if improvement_mode(monitor) == "max" else value < best


def best_index(values, monitor):
    """Index of the best of `values` for `monitor`; the first one on ties."""
    pick = max if improvement_mode(monitor) == "max" else min
    return pick(range(len(values)), key=values.__getitem__)


def monitored_value(metrics):
    """Returns the monitored metric of a run's `metrics.json`: from the validation split for a
    `val_` metric, from the training split otherwise (runs without a validation split)."""
    monitor = metrics["monitor"]
    split = "validation" if monitor.startswith("val_") else "train"
    return metrics[split][monitor.removeprefix("val_")]


class Task:
    """What every head shares. Subclasses set the class attributes and the methods that differ.

    Attributes:
        name: the head's name in configs (`model.head`).
        report_key: the key of its scores in `metrics.json` and `eval/metrics.json`.
        loss, metrics: what `model.compile` gets.
        monitor: the validation metric that picks the best checkpoint by default.
    """

    name = None
    report_key = None
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

    def compile_arguments(self):
        """Returns the `loss` and `metrics` for `model.compile`."""
        return {"loss": self.loss, "metrics": list(self.metrics)}

    def targets(self, split):
        """Returns what the model is trained to output for each series of `split`."""
        raise NotImplementedError

    def final_scores(self, model, dataset, batch_size):
        """Scores in original units that `metrics.json` keeps next to Keras' metrics (may be empty)."""
        return {}

    def evaluate(self, model, dataset, class_names, batch_size, eval_dir):
        """Scores the test split for `evaluate.py`.

        Returns:
            `(scores, sections, figures)`: a dict stored under `report_key`, Markdown sections for
            the report, and a dict from figure name to the PNG path written in `eval_dir`.
        """
        raise NotImplementedError

    def summary_scalars(self, scores):
        """The headline numbers of `scores` as TensorBoard tags `eval/...`."""
        return {}

    def headline(self, metrics, evaluation):
        """Test numbers the comparison table shows, from `metrics.json` and `eval/metrics.json` (or None)."""
        return {f"test_{name}": value for name, value in metrics["test"].items()}

    def log_line(self, metrics):
        """One line for the training log about the scores in original units, or None."""
        return None

    def outputs(self, predictions, scaler, classes):
        """Turns the model's outputs for new series into what a user reads, in original units.

        Args:
            predictions: the model's output array.
            scaler: the run's Standardizer.
            classes: the run's class names by index.

        Returns:
            Dict from name to array, one row per series.
        """
        raise NotImplementedError

    def columns(self, outputs, classes, feature_names):
        """Returns `(header, values)`: the CSV columns of `outputs`, values `(n, len(header))`."""
        raise NotImplementedError


class ClassifyTask(Task):
    """Class probabilities from a softmax; trained with sparse cross-entropy, monitored by validation accuracy."""

    name = "classify"
    report_key = "classification"
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

    def evaluate(self, model, dataset, class_names, batch_size, eval_dir):
        split = dataset.test
        probabilities = predict(model, split, batch_size)
        scores = classification_report(split.labels, probabilities.argmax(axis=1), class_names)
        figure = confusion_matrix_figure(scores["confusion_matrix"], class_names, eval_dir / "confusion_matrix.png")
        return scores, [classification_markdown(scores)], {"confusion_matrix": figure}

    def summary_scalars(self, scores):
        return {"eval/test_macro_f1": scores["macro_f1"]}

    def outputs(self, predictions, scaler, classes):
        return {"class": np.asarray(classes, dtype=object)[predictions.argmax(axis=1)], "probabilities": predictions}

    def columns(self, outputs, classes, feature_names):
        header = ["class", *(f"probability_{name}" for name in classes)]
        return header, np.column_stack([outputs["class"], outputs["probabilities"]])

    def headline(self, metrics, evaluation):
        values = super().headline(metrics, evaluation)
        if evaluation and self.report_key in evaluation:
            values["test_macro_f1"] = evaluation[self.report_key]["macro_f1"]
        return values


class ForecastTask(Task):
    """The next `horizon x features` values; trained with MSE, scored in original units against naive baselines."""

    name = "forecast"
    report_key = "forecast"
    loss = "mse"
    metrics = ("mae",)

    def check_data(self, spec):
        if spec.horizon < 1:
            raise ZooError("head=forecast needs data.horizon >= 1 future steps per series; set data.horizon.")

    def _output_layer(self, features, spec):
        flat = keras.layers.Dense(spec.horizon * spec.n_features, dtype="float32", name="forecast_dense")(features)
        return keras.layers.Reshape((spec.horizon, spec.n_features), name="forecast")(flat)

    def targets(self, split):
        return split.future

    def score(self, model, dataset, batch_size, split_name="test"):
        """Scores forecasts of a split in original units, next to the naive and seasonal-naive baselines.

        Returns:
            `(scores, predictions)`: `scores.forecast_report` plus `decoding` ("autoregressive" or
            "direct"), and the `(n, horizon, n_features)` forecasts in original units.
        """
        split = dataset.split(split_name)
        scaler = dataset.scaler
        history = scaler.inverse_transform(split.series)
        predictions = scaler.inverse_transform(predict(model, split, batch_size))
        scores = forecast_report(
            scaler.inverse_transform(split.future),
            predictions,
            history,
            split.lengths,
            scale=mase_scale(scaler.inverse_transform(dataset.train.series), dataset.train.lengths),
            seasons=estimate_seasons(history, split.lengths),
        )
        scores["decoding"] = model_info(model.name).decoding
        return scores, predictions

    def final_scores(self, model, dataset, batch_size):
        return {self.report_key: self.score(model, dataset, batch_size)[0]}

    def evaluate(self, model, dataset, class_names, batch_size, eval_dir):
        scores, predictions = self.score(model, dataset, batch_size)
        split, scaler = dataset.test, dataset.scaler
        history = scaler.inverse_transform(split.series)
        figure = forecast_figure(
            history,
            split.lengths,
            scaler.inverse_transform(split.future),
            predictions,
            naive_forecast(history, split.lengths, split.future.shape[1]),
            eval_dir / "forecasts.png",
        )
        sections = [f"Decoding: {scores['decoding']}. Units: original.", forecast_markdown(scores)]
        return scores, sections, {"forecasts": figure}

    def summary_scalars(self, scores):
        return {
            f"eval/{method}_{key}": scores[method][key]
            for method in ("model", "naive", "seasonal_naive")
            for key in ("mae", "rmse", "smape", "mase")
        }

    def headline(self, metrics, evaluation):
        values = super().headline(metrics, evaluation)
        if self.report_key in metrics:
            values["forecast_mae"] = metrics[self.report_key]["model"]["mae"]
            values["naive_mae"] = metrics[self.report_key]["naive"]["mae"]
        return values

    def outputs(self, predictions, scaler, classes):
        return {"forecast": scaler.inverse_transform(predictions)}

    def columns(self, outputs, classes, feature_names):
        forecast = outputs["forecast"]
        header = [f"step_{step + 1}_{name}" for step in range(forecast.shape[1]) for name in feature_names]
        return header, forecast.reshape(len(forecast), -1)

    def log_line(self, metrics):
        scores = metrics[self.report_key]
        return (
            f"Test forecast in original units ({scores['decoding']}): MAE {scores['model']['mae']:.4f}, "
            f"naive MAE {scores['naive']['mae']:.4f}"
        )


class RegressTask(Task):
    """One value per series; trained with MSE, scored in original units against the training mean."""

    name = "regress"
    report_key = "regression"
    loss = "mse"
    metrics = ("mae",)

    def check_data(self, spec):
        if not spec.has_targets:
            raise ZooError("head=regress needs a regression target per series; this data has none.")

    def _output_layer(self, features, spec):
        return keras.layers.Dense(1, dtype="float32", name="regressor")(features)

    def targets(self, split):
        return split.targets[:, None]

    def score(self, model, dataset, batch_size, split_name="test"):
        """Scores a split in original units next to always predicting the training mean.

        Returns:
            `(scores, predictions)`: dict from `scores.regression_report`, and `(n,)` predictions.
        """
        split = dataset.split(split_name)
        scaler = dataset.scaler
        predictions = scaler.inverse_transform_targets(predict(model, split, batch_size)[:, 0])
        truth = scaler.inverse_transform_targets(split.targets)
        return regression_report(truth, predictions, baseline=scaler.target_mean), predictions

    def final_scores(self, model, dataset, batch_size):
        return {self.report_key: self.score(model, dataset, batch_size)[0]}

    def evaluate(self, model, dataset, class_names, batch_size, eval_dir):
        scores, _ = self.score(model, dataset, batch_size)
        return scores, ["Units: original.", regression_markdown(scores)], {}

    def summary_scalars(self, scores):
        return {"eval/model_mae": scores["model"]["mae"], "eval/model_rmse": scores["model"]["rmse"]}

    def outputs(self, predictions, scaler, classes):
        return {"value": scaler.inverse_transform_targets(predictions[:, 0])}

    def columns(self, outputs, classes, feature_names):
        return ["value"], outputs["value"][:, None]


TASKS = {task.name: task for task in (ClassifyTask(), ForecastTask(), RegressTask())}
assert tuple(TASKS) == ALL_HEADS  # the registry's list of heads and the tasks agree


def get_task(name):
    """Returns the task of head `name` ("classify", "forecast" or "regress")."""
    if name not in TASKS:
        raise ZooError(f"Received an invalid value for head, expected one of {list(TASKS)}, got {name!r}.")
    return TASKS[name]

