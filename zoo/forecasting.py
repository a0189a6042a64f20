"""Forecasts in original units: direct heads predict at once, seq2seq decodes autoregressively."""

import numpy as np

from zoo.data.pipeline import last_valid_step, model_inputs
from zoo.models.seq2seq import autoregressive_forecast


def predict_forecast(model, split, batch_size=256):
    """Predicts `(n, horizon, n_features)` scaled values for `split`.

    A model with a `decoder_inputs` input (seq2seq) never sees the truth: it decodes
    autoregressively from its own predictions.
    """
    names = [tensor.name for tensor in model.inputs]
    if "decoder_inputs" in names:
        inputs = model_inputs(split, [name for name in names if name != "decoder_inputs"])
        return autoregressive_forecast(model, inputs, split.future.shape[1], batch_size=batch_size)
    return model.predict(model_inputs(split, names), batch_size=batch_size, verbose=0)


def forecast_metrics(model, split, scaler, batch_size=256):
    """Scores a forecaster on `split` in original units, next to the last-value (naive) baseline.

    Returns:
        Dict with `mae`, `rmse`, `naive_mae`, `naive_rmse` and `decoding`.
    """
    truth = scaler.inverse_transform(split.future)
    predicted = scaler.inverse_transform(predict_forecast(model, split, batch_size))
    naive = np.repeat(scaler.inverse_transform(last_valid_step(split))[:, None, :], truth.shape[1], axis=1)
    names = [tensor.name for tensor in model.inputs]
    return {
        "decoding": "autoregressive" if "decoder_inputs" in names else "direct",
        "mae": float(np.mean(np.abs(predicted - truth))),
        "rmse": float(np.sqrt(np.mean((predicted - truth) ** 2))),
        "naive_mae": float(np.mean(np.abs(naive - truth))),
        "naive_rmse": float(np.sqrt(np.mean((naive - truth) ** 2))),
    }
