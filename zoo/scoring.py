"""Scoring predictions in original units: forecasts (seq2seq decodes autoregressively) and regression targets."""

from zoo.data.pipeline import input_names, model_inputs
from zoo.models.seq2seq import autoregressive_forecast
from zoo.reports import estimate_seasons, forecast_report, mase_scale, regression_report


def predict_forecast(model, split, batch_size=256):
    """Predicts `(n, horizon, n_features)` scaled values for `split`.

    A model with a `decoder_inputs` input (seq2seq) never sees the truth: it decodes
    autoregressively from its own predictions.
    """
    names = input_names(model)
    if "decoder_inputs" in names:
        inputs = model_inputs(split, [name for name in names if name != "decoder_inputs"])
        return autoregressive_forecast(model, inputs, split.future.shape[1], batch_size=batch_size)
    return model.predict(model_inputs(split, names), batch_size=batch_size, verbose=0)


def evaluate_forecast(model, dataset, split_name="test", batch_size=256):
    """Scores a forecaster on a split in original units, next to naive and seasonal-naive baselines.

    Returns:
        `(report, predictions)`: the dict of `reports.forecast_report` plus `decoding`
        ("autoregressive" or "direct"), and the `(n, horizon, n_features)` forecasts in original units.
    """
    split = dataset.split(split_name)
    scaler = dataset.scaler
    history = scaler.inverse_transform(split.series)
    predictions = scaler.inverse_transform(predict_forecast(model, split, batch_size))
    report = forecast_report(
        scaler.inverse_transform(split.future),
        predictions,
        history,
        split.lengths,
        scale=mase_scale(scaler.inverse_transform(dataset.train.series), dataset.train.lengths),
        seasons=estimate_seasons(history, split.lengths),
    )
    names = input_names(model)
    report["decoding"] = "autoregressive" if "decoder_inputs" in names else "direct"
    return report, predictions


def evaluate_regression(model, dataset, split_name="test", batch_size=256):
    """Scores a regressor in original units next to the baseline that always predicts the training mean.

    Returns:
        `(report, predictions)`: dict from `reports.regression_report`, and `(n,)` predictions.
    """
    split = dataset.split(split_name)
    names = input_names(model)
    scaled = model.predict(model_inputs(split, names), batch_size=batch_size, verbose=0)[:, 0]
    scaler = dataset.scaler
    predictions = scaler.inverse_transform_targets(scaled)
    truth = scaler.inverse_transform_targets(split.targets)
    return regression_report(truth, predictions, baseline=scaler.target_mean), predictions
