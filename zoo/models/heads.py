"""Heads that turn a feature vector into class probabilities or a multi-step forecast, and their losses."""

import keras

from zoo.models.backbone import HEADS
from zoo.validation import one_of


def head_output(features, spec, head, *, dropout=0.0):
    """Applies the chosen head to a `(batch, dim)` feature vector.

    The last layer computes in float32 so mixed precision keeps a stable softmax and loss.

    Args:
        features: tensor `(batch, dim)`.
        spec: DataSpec. Gives `n_classes`, `horizon` and `n_features`.
        head: "classify" or "forecast".
        dropout: float. Dropout applied to `features` first.

    Returns:
        `(batch, n_classes)` probabilities, or `(batch, horizon, n_features)` forecasts.
    """
    one_of("head", head, HEADS)
    if dropout:
        features = keras.layers.Dropout(dropout, name="head_dropout")(features)
    if head == "classify":
        return keras.layers.Dense(spec.n_classes, activation="softmax", dtype="float32", name="classifier")(
            features
        )
    flat = keras.layers.Dense(spec.horizon * spec.n_features, dtype="float32", name="forecast_dense")(features)
    return keras.layers.Reshape((spec.horizon, spec.n_features), name="forecast")(flat)


def compile_arguments(task):
    """Returns the loss and metrics for `task` ("classify" or "forecast")."""
    one_of("head", task, HEADS)
    if task == "classify":
        return {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    return {"loss": "mse", "metrics": ["mae"]}


def monitored_metric(task):
    """Returns the validation metric that picks the best checkpoint for `task`."""
    return "val_accuracy" if task == "classify" else "val_loss"
