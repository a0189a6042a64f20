"""Heads that turn a feature vector into class probabilities, a multi-step forecast or a regression value."""

import keras

from zoo.errors import ZooError
from zoo.models.backbone import HEADS
from zoo.validation import one_of


def check_head(head, spec):
    """Raises a ZooError if the data cannot train `head` (no labels, no horizon, no targets)."""
    one_of("head", head, HEADS)
    if head == "classify" and spec.n_classes < 2:
        raise ZooError(
            f"head=classify needs at least 2 class labels but the data has {spec.n_classes}: "
            "use labelled data or set model.head=forecast (with data.horizon > 0) or model.head=regress."
        )
    if head == "forecast" and spec.horizon < 1:
        raise ZooError("head=forecast needs data.horizon >= 1 future steps per series; set data.horizon.")
    if head == "regress" and not spec.has_targets:
        raise ZooError("head=regress needs a regression target per series; this data has none.")


def head_output(features, spec, head, *, dropout=0.0):
    """Applies the chosen head to a `(batch, dim)` feature vector.

    The last layer computes in float32 so mixed precision keeps a stable softmax and loss.

    Args:
        features: tensor `(batch, dim)`.
        spec: DataSpec. Gives `n_classes`, `horizon` and `n_features`.
        head: "classify", "forecast" or "regress".
        dropout: float. Dropout applied to `features` first.

    Returns:
        `(batch, n_classes)` probabilities, `(batch, horizon, n_features)` forecasts or `(batch, 1)` values.
    """
    check_head(head, spec)
    if dropout:
        features = keras.layers.Dropout(dropout, name="head_dropout")(features)
    if head == "classify":
        return keras.layers.Dense(spec.n_classes, activation="softmax", dtype="float32", name="classifier")(
            features
        )
    if head == "regress":
        return keras.layers.Dense(1, dtype="float32", name="regressor")(features)
    flat = keras.layers.Dense(spec.horizon * spec.n_features, dtype="float32", name="forecast_dense")(features)
    return keras.layers.Reshape((spec.horizon, spec.n_features), name="forecast")(flat)


def compile_arguments(task):
    """Returns the loss and metrics for `task` ("classify", "forecast" or "regress")."""
    one_of("head", task, HEADS)
    if task == "classify":
        return {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    return {"loss": "mse", "metrics": ["mae"]}


def monitored_metric(task):
    """Returns the validation metric that picks the best checkpoint for `task`."""
    return "val_accuracy" if task == "classify" else "val_loss"


def monitor_mode(monitor):
    """Returns "max" for accuracies and "min" for losses and errors: how `monitor` improves."""
    return "max" if monitor.endswith("accuracy") else "min"
