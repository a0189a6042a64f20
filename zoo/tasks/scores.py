"""Score maths in NumPy: per-class classification scores, forecast scores against naive baselines, regression scores."""

import numpy as np

from zoo.data.pipeline import last_valid_values
from zoo.tasks.baselines import m4_scores


def _safe_divide(numerator, denominator):
    return np.divide(numerator, denominator, out=np.zeros_like(numerator, dtype=float), where=denominator != 0)


def classification_report(labels, predicted, class_names):
    """Scores class predictions.

    Args:
        labels: int array `(n,)` of true classes.
        predicted: int array `(n,)` of predicted classes.
        class_names: list of names, one per class index.

    Returns:
        Dict with `accuracy`, `macro_f1`, `per_class` (precision, recall, f1, support by name)
        and `confusion_matrix` (rows = true class, columns = predicted class).
    """
    n_classes = len(class_names)
    confusion = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(confusion, (labels, predicted), 1)
    true_positives = np.diag(confusion).astype(float)
    precision = _safe_divide(true_positives, confusion.sum(axis=0).astype(float))
    recall = _safe_divide(true_positives, confusion.sum(axis=1).astype(float))
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return {
        "accuracy": float(true_positives.sum() / max(len(labels), 1)),
        "macro_f1": float(f1.mean()),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(confusion[i].sum()),
            }
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": confusion.tolist(),
    }


def calibration_report(labels, probabilities, n_bins=15):
    """Expected calibration error of class probabilities (Guo et al. 2017): the confidence (the top
    probability) is binned into `n_bins` equal-width bins `(lower, upper]`, and ECE is the mean over
    series of |accuracy - confidence| within each series' bin.

    Args:
        labels: int array `(n,)` of true classes.
        probabilities: float array `(n, n_classes)`.
        n_bins: int. Confidence bins over [0, 1].

    Returns:
        Dict with `ece` and `bins`: per bin its `lower` and `upper` edges, `count`, mean
        `confidence` and `accuracy` (None where the bin is empty).
    """
    probabilities = np.asarray(probabilities, dtype="float64")
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == np.asarray(labels)).astype("float64")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_of = np.searchsorted(edges[1:-1], confidence, side="left")  # right-inclusive bins
    bins, ece = [], 0.0
    for index in range(n_bins):
        members = bin_of == index
        count = int(members.sum())
        accuracy = float(correct[members].mean()) if count else None
        mean_confidence = float(confidence[members].mean()) if count else None
        if count:
            ece += count / len(confidence) * abs(accuracy - mean_confidence)
        bins.append(
            {"lower": float(edges[index]), "upper": float(edges[index + 1]), "count": count, "confidence": mean_confidence, "accuracy": accuracy}
        )
    return {"ece": float(ece), "bins": bins}


def estimate_seasons(series, lengths, max_season=None):
    """Estimates each series' dominant period from its autocorrelation (averaged over channels).

    Args:
        series: `(n, timesteps, features)`, right-padded.
        lengths: `(n,)` valid steps.
        max_season: int or None. Largest period considered; defaults to half the shortest length.

    Returns:
        Int array `(n,)` of periods >= 2.
    """
    steps = series.shape[1]
    valid = (np.arange(steps)[None, :] < lengths[:, None])[..., None]
    means = (series * valid).sum(axis=1, keepdims=True) / lengths[:, None, None]
    centred = np.where(valid, series - means, 0.0)
    spectrum = np.fft.rfft(centred, n=2 * steps, axis=1)
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :steps].mean(axis=2)
    autocorrelation = autocorrelation / np.where(autocorrelation[:, :1] > 0, autocorrelation[:, :1], 1.0)
    upper = max_season or max(2, int(lengths.min()) // 2)
    candidates = autocorrelation[:, 2 : upper + 1]
    return 2 + candidates.argmax(axis=1) if candidates.shape[1] else np.full(len(series), 2)


def naive_forecast(series, lengths, horizon):
    """Repeats each series' last valid value `horizon` times: `(n, horizon, features)`."""
    return np.repeat(last_valid_values(series, lengths)[:, None, :], horizon, axis=1)


def seasonal_naive_forecast(series, lengths, horizon, seasons):
    """Repeats each series' last season: step h is the value one period earlier, `(n, horizon, features)`.

    Args:
        seasons: int array `(n,)` of periods, each at most the series' length.
    """
    seasons = np.minimum(seasons, lengths)
    offsets = np.arange(horizon)[None, :] % seasons[:, None]
    positions = (lengths - seasons)[:, None] + offsets
    return np.take_along_axis(series, positions[..., None], axis=1)


def _scores(truth, predicted, mase_scale):
    """MAE, RMSE, sMAPE (%) and MASE overall and per horizon step."""
    error = predicted - truth
    absolute = np.abs(error)
    smape_terms = _safe_divide(2 * absolute, np.abs(truth) + np.abs(predicted))
    per_step_mae = absolute.mean(axis=(0, 2))
    return {
        "mae": float(absolute.mean()),
        "rmse": float(np.sqrt((error**2).mean())),
        "smape": float(100 * smape_terms.mean()),
        "mase": float(absolute.mean() / mase_scale),
        "per_step": {
            "mae": per_step_mae.tolist(),
            "rmse": np.sqrt((error**2).mean(axis=(0, 2))).tolist(),
            "smape": (100 * smape_terms.mean(axis=(0, 2))).tolist(),
            "mase": (per_step_mae / mase_scale).tolist(),
        },
    }


def mase_scale(train_series, train_lengths):
    """In-sample MAE of the one-step naive forecast on the training series: MASE's denominator."""
    differences = np.abs(np.diff(train_series, axis=1))
    valid = (np.arange(1, train_series.shape[1])[None, :] < train_lengths[:, None])[..., None]
    valid = np.broadcast_to(valid, differences.shape)
    return float(differences[valid].mean())


def forecast_report(truth, predicted, history, lengths, *, scale, seasons, season_error=None, naive2=None):
    """Scores a forecast and the naive and seasonal-naive baselines on the same windows.

    Args:
        truth, predicted: `(n, horizon, features)` in original units.
        history: `(n, timesteps, features)` in original units, the input series.
        lengths: `(n,)` valid steps of `history`.
        scale: float. MASE denominator (`mase_scale` of the training split).
        seasons: int array `(n,)` of periods for the seasonal naive baseline.
        season_error: `(n,)` or None. Each row's whole-history seasonal naive MAE: with it, MASE is
            scored per series as the M4 competition does, and OWA against `naive2` is added.
        naive2: `(n, horizon, features)` or None. The M4 Naive2 forecast, scored as a fourth method.

    Returns:
        Dict with `model`, `naive` and `seasonal_naive` scores (and `naive2`, with `owa` in each,
        when given), `seasons` and `worse_than_naive`; `mase_scale` says "per series (M4)" with `season_error`.
    """
    horizon = truth.shape[1]
    forecasts = {
        "model": predicted,
        "naive": naive_forecast(history, lengths, horizon),
        "seasonal_naive": seasonal_naive_forecast(history, lengths, horizon, seasons),
    }
    if naive2 is not None:
        forecasts["naive2"] = naive2
    report = {method: _scores(truth, values, scale) for method, values in forecasts.items()}
    if season_error is not None:
        for method, values in forecasts.items():
            m4 = m4_scores(truth, values, season_error, naive2 if naive2 is not None else forecasts["naive"])
            report[method].update(smape=m4["smape"], mase=m4["mase"], owa=m4["owa"])
            report[method]["per_step"].update(m4["per_step"])
    if season_error is not None:
        report["mase_scale"] = "per series (M4)"
    report["seasons"] = {"median": float(np.median(seasons)), "min": int(seasons.min()), "max": int(seasons.max())}
    report["worse_than_naive"] = report["model"]["mae"] > report["naive"]["mae"]
    return report


def regression_report(truth, predicted, *, baseline):
    """Scores regression predictions against always predicting `baseline` (the training mean).

    Returns:
        Dict with `model` and `mean_baseline` scores (`mae`, `rmse`) and `worse_than_baseline`.
    """
    def scores(values):
        error = values - truth
        return {"mae": float(np.abs(error).mean()), "rmse": float(np.sqrt((error**2).mean()))}

    report = {"model": scores(predicted), "mean_baseline": scores(np.full_like(truth, baseline))}
    report["worse_than_baseline"] = report["model"]["mae"] > report["mean_baseline"]["mae"]
    return report
