"""Which way a metric improves: the one rule checkpoints, early stopping, learning-rate schedules, compare and sweeps use."""

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
