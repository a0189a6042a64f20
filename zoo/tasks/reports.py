"""Reports: how each head is scored in original units, reported, logged, compared and written for users.

One object per head, beside its task in `zoo.tasks.heads`: `get_report(cfg.model.head).evaluate(...)`.
"""

import numpy as np

from zoo.errors import ZooError
from zoo.inference import predict
from zoo.registry import model_info
from zoo.tasks.figures import confusion_matrix_figure, forecast_figure, reliability_figure
from zoo.tasks.heads import TASKS
from zoo.tasks.markdown import (
    classification_markdown,
    forecast_markdown,
    regression_markdown,
)
from zoo.tasks.scores import (
    calibration_report,
    classification_report,
    estimate_seasons,
    forecast_report,
    mase_scale,
    regression_report,
    seasonal_naive_forecast,
)


class Report:
    """What every head's report shares. Subclasses set `head`, `report_key` and the methods that differ.

    Attributes:
        head: the head's name (`model.head`).
        report_key: the key of its scores in `metrics.json` and `eval/metrics.json`.
        headline_metric: the `headline` score that ranks runs in `zoo.compare`.
    """

    head = None
    report_key = None
    headline_metric = "test_loss"

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

    def summary_scalars(self, scores, prefix="eval"):
        """The headline numbers of `scores` as TensorBoard tags `<prefix>/...` (the evaluation folder's name)."""
        return {}

    def headline(self, metrics, evaluation):
        """Test numbers the comparison table shows, from `metrics.json` and `eval/metrics.json` (or None)."""
        return {f"test_{name}": value for name, value in metrics["test"].items()}

    def log_line(self, metrics):
        """One line for the training log about the scores in original units, or None."""
        return None

    def outputs(self, predictions, scaler, classes, split=None):
        """Turns the model's outputs for new series into what a user reads, in original units.

        Args:
            predictions: the model's output array.
            scaler: the run's Standardizer.
            classes: the run's class names by index.
            split: the scaled SeriesSplit predicted (its rows' own scaling under `normalize="window"`).

        Returns:
            Dict from name to array, one row per series.
        """
        raise NotImplementedError

    def columns(self, outputs, classes, feature_names):
        """Returns `(header, values)`: the CSV columns of `outputs`, values `(n, len(header))`."""
        raise NotImplementedError


class ClassifyReport(Report):
    """Accuracy, macro-F1, per-class precision and recall, the confusion matrix and calibration."""

    head = "classify"
    report_key = "classification"
    headline_metric = "test_accuracy"

    def evaluate(self, model, dataset, class_names, batch_size, eval_dir):
        split = dataset.test
        probabilities = predict(model, split, batch_size)
        scores = classification_report(split.labels, probabilities.argmax(axis=1), class_names)
        scores["calibration"] = calibration_report(split.labels, probabilities)
        figures = {
            "confusion_matrix": confusion_matrix_figure(scores["confusion_matrix"], class_names, eval_dir / "confusion_matrix.png"),
            "reliability": reliability_figure(scores["calibration"], eval_dir / "reliability.png"),
        }
        return scores, [classification_markdown(scores)], figures

    def summary_scalars(self, scores, prefix="eval"):
        return {f"{prefix}/test_macro_f1": scores["macro_f1"], f"{prefix}/test_ece": scores["calibration"]["ece"]}

    def outputs(self, predictions, scaler, classes, split=None):
        return {"class": np.asarray(classes, dtype=object)[predictions.argmax(axis=1)], "probabilities": predictions}

    def columns(self, outputs, classes, feature_names):
        header = ["class", *(f"probability_{name}" for name in classes)]
        return header, np.column_stack([outputs["class"], outputs["probabilities"]])

    def headline(self, metrics, evaluation):
        values = super().headline(metrics, evaluation)
        if evaluation and self.report_key in evaluation:
            values["test_macro_f1"] = evaluation[self.report_key]["macro_f1"]
        return values


class ForecastReport(Report):
    """MAE, RMSE, sMAPE and MASE in original units, next to the naive and seasonal-naive baselines."""

    head = "forecast"
    report_key = "forecast"
    headline_metric = "forecast_mae"

    def score(self, model, dataset, batch_size, split_name="test"):
        """Scores forecasts of a split in original units, next to the naive and seasonal-naive baselines.

        Returns:
            `(scores, predictions)`: `scores.forecast_report` plus `decoding` ("autoregressive" or
            "direct"), and the `(n, horizon, n_features)` forecasts in original units.
        """
        split = dataset.split(split_name)
        scaler = dataset.scaler
        history = scaler.inverse_transform(split.series, split)
        predictions = scaler.inverse_transform(predict(model, split, batch_size), split)
        seasons = self.seasons(dataset.spec, history, split.lengths)
        scores = forecast_report(
            scaler.inverse_transform(split.future, split),
            predictions,
            history,
            split.lengths,
            scale=mase_scale(scaler.inverse_transform(dataset.train.series, dataset.train), dataset.train.lengths),
            seasons=seasons,
            season_error=split.season_error,
            naive2=split.naive2,
        )
        scores["decoding"] = model_info(model.name).decoding
        return scores, predictions

    @staticmethod
    def seasons(spec, history, lengths):
        """Each row's seasonal period: the data's stated season, else estimated per series."""
        return np.full(len(history), spec.season_length) if spec.season_length else estimate_seasons(history, lengths)

    def final_scores(self, model, dataset, batch_size):
        return {self.report_key: self.score(model, dataset, batch_size)[0]}

    def evaluate(self, model, dataset, class_names, batch_size, eval_dir):
        scores, predictions = self.score(model, dataset, batch_size)
        split, scaler = dataset.test, dataset.scaler
        history = scaler.inverse_transform(split.series, split)
        seasons = self.seasons(dataset.spec, history, split.lengths)
        figure = forecast_figure(
            history,
            split.lengths,
            scaler.inverse_transform(split.future, split),
            predictions,
            seasonal_naive_forecast(history, split.lengths, split.future.shape[1], seasons),
            eval_dir / "forecasts.png",
        )
        sections = [f"Decoding: {scores['decoding']}. Units: original.", forecast_markdown(scores)]
        return scores, sections, {"forecasts": figure}

    def summary_scalars(self, scores, prefix="eval"):
        return {
            f"{prefix}/{method}_{key}": scores[method][key]
            for method in ("model", "naive", "seasonal_naive", "naive2")
            for key in ("mae", "rmse", "smape", "mase", "owa")
            if key in scores.get(method, {})
        }

    def headline(self, metrics, evaluation):
        values = super().headline(metrics, evaluation)
        if self.report_key in metrics:
            values["forecast_mae"] = metrics[self.report_key]["model"]["mae"]
            values["naive_mae"] = metrics[self.report_key]["naive"]["mae"]
            if "owa" in metrics[self.report_key]["model"]:
                values["forecast_owa"] = metrics[self.report_key]["model"]["owa"]
        return values

    def outputs(self, predictions, scaler, classes, split=None):
        return {"forecast": scaler.inverse_transform(predictions, split)}

    def columns(self, outputs, classes, feature_names):
        forecast = outputs["forecast"]
        header = [f"step_{step + 1}_{name}" for step in range(forecast.shape[1]) for name in feature_names]
        return header, forecast.reshape(len(forecast), -1)

    def log_line(self, metrics):
        scores = metrics[self.report_key]
        line = (
            f"Test forecast in original units ({scores['decoding']}): MAE {scores['model']['mae']:.4f}, "
            f"naive MAE {scores['naive']['mae']:.4f}"
        )
        if "owa" in scores["model"]:
            model, seasonal = scores["model"], scores["seasonal_naive"]
            line += (
                f"; sMAPE {model['smape']:.3f}, MASE {model['mase']:.3f}, OWA {model['owa']:.3f} "
                f"(seasonal naive {seasonal['smape']:.3f} / {seasonal['mase']:.3f} / {seasonal['owa']:.3f})"
            )
        return line


class RegressReport(Report):
    """MAE and RMSE in original units, next to always predicting the training mean."""

    head = "regress"
    report_key = "regression"

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

    def summary_scalars(self, scores, prefix="eval"):
        return {f"{prefix}/model_mae": scores["model"]["mae"], f"{prefix}/model_rmse": scores["model"]["rmse"]}

    def outputs(self, predictions, scaler, classes, split=None):
        return {"value": scaler.inverse_transform_targets(predictions[:, 0])}

    def columns(self, outputs, classes, feature_names):
        return ["value"], outputs["value"][:, None]


REPORTS = {report.head: report for report in (ClassifyReport(), ForecastReport(), RegressReport())}
assert tuple(REPORTS) == tuple(TASKS)  # one report per head


def get_report(name):
    """Returns the report of head `name` ("classify", "forecast" or "regress")."""
    if name not in REPORTS:
        raise ZooError(f"Received an invalid value for head, expected one of {list(REPORTS)}, got {name!r}.")
    return REPORTS[name]
