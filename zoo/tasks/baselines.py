"""The M4 competition's forecasting baselines and scores: Naive2, the seasonal naive MASE scale, sMAPE, MASE and OWA.

Each follows the competition's own benchmark code (Mcompetitions/M4-methods, `main.py`), quirks
included, so the published Naive2 and seasonal-naive figures reproduce.
"""

import numpy as np

# Seasonality is accepted when the autocorrelation at the period passes a 90% one-sided test.
SEASONALITY_CRITICAL_VALUE = 1.645


def _autocorrelation(values, lag):
    centred = values - values.mean()
    denominator = float((centred**2).sum())
    return float((centred[:-lag] * centred[lag:]).sum()) / denominator if denominator else 0.0


def is_seasonal(values, season_length):
    """The M4 seasonality test of one channel: |ACF at the period| beyond 1.645 sqrt((1 + 2 s) / n)."""
    if season_length < 2 or len(values) < 3 * season_length:
        return False
    # M4's code starts the sum at the lag-1 autocorrelation itself, not its square; kept to match its figures.
    total = _autocorrelation(values, 1) + sum(_autocorrelation(values, lag) ** 2 for lag in range(2, season_length))
    limit = SEASONALITY_CRITICAL_VALUE * np.sqrt(max(1 + 2 * total, 0.0) / len(values))
    return abs(_autocorrelation(values, season_length)) > limit


def _centred_moving_average(values, window):
    """Pandas' `rolling(window, center=True)`, then, for an even-length series, a centred 2-step mean (M4's rule)."""
    n = len(values)
    sums = np.concatenate([[0.0], np.cumsum(values)])
    half = (window - 1) // 2
    average = np.full(n, np.nan)
    starts = np.arange(n) - (window - 1 - half)  # pandas centres an even window one step late
    valid = (starts >= 0) & (starts + window <= n)
    average[valid] = (sums[starts[valid] + window] - sums[starts[valid]]) / window
    if n % 2 == 0:  # M4 tests the series' length, not the window's, here
        paired = np.full(n, np.nan)
        paired[:-1] = (average[:-1] + average[1:]) / 2
        average = paired
    return average


def seasonal_indices(values, season_length):
    """Multiplicative seasonal indices (mean 100) of one channel by classical decomposition; all 100 when not seasonal."""
    if not is_seasonal(values, season_length):
        return np.full(season_length, 100.0)
    ratios = values * 100 / _centred_moving_average(values, season_length)
    padded = np.concatenate([ratios, np.full(season_length - len(ratios) % season_length, np.nan)])
    indices = np.nanmean(padded.reshape(-1, season_length), axis=0)
    return indices / (indices.sum() / (season_length * 100))


def naive2_forecast(history, horizon, season_length):
    """M4's Naive2: the last value of the seasonally adjusted history, seasonality put back.

    Args:
        history: float array `(length, n_features)`, original units.
        horizon: int.
        season_length: int. 1 gives the plain naive forecast.

    Returns:
        Array `(horizon, n_features)`.
    """
    forecast = np.empty((horizon, history.shape[1]))
    for channel in range(history.shape[1]):
        values = history[:, channel].astype("float64")
        if season_length < 2:
            forecast[:, channel] = values[-1]
            continue
        indices = seasonal_indices(values, season_length)
        n = len(values)
        adjusted_last = values[-1] * 100 / indices[(n - 1) % season_length]
        forecast[:, channel] = adjusted_last * indices[(n + np.arange(horizon)) % season_length] / 100
    return forecast


def seasonal_naive_error(history, season_length):
    """In-sample MAE of the seasonal naive forecast, `mean |y_t - y_(t-m)|` over the whole history: M4's MASE scale.

    Args:
        history: float array `(length, n_features)`.
        season_length: int; 1 is the one-step naive forecast's error. Shorter histories use lag 1.
    """
    lag = season_length if len(history) > season_length else 1
    return float(np.abs(history[lag:] - history[:-lag]).mean())


def smape(truth, forecast):
    """Per row: mean over steps and channels of `200 |y - f| / (|y| + |f|)` (0 where both are 0)."""
    denominator = np.abs(truth) + np.abs(forecast)
    terms = np.divide(200 * np.abs(truth - forecast), denominator, out=np.zeros_like(denominator, dtype=float), where=denominator != 0)
    return terms.reshape(len(terms), -1).mean(axis=1)


def mase(truth, forecast, season_error):
    """Per row: mean `|y - f|` over steps and channels divided by the row's `season_error` (nan where that is 0)."""
    error = np.abs(truth - forecast).reshape(len(truth), -1).mean(axis=1)
    return np.divide(error, season_error, out=np.full(len(error), np.nan), where=np.asarray(season_error) > 0)


def m4_scores(truth, forecast, season_error, naive2):
    """sMAPE, MASE (mean over rows) and OWA against Naive2 on the same rows, as the M4 competition scores them.

    Args:
        truth, forecast, naive2: `(n, horizon, n_features)` in original units.
        season_error: `(n,)` MASE scales (`seasonal_naive_error` of each row's history).

    Returns:
        Dict with `smape`, `mase` and `owa`, and `per_step` sMAPE and MASE.
    """
    scores = {"smape": float(smape(truth, forecast).mean()), "mase": float(np.nanmean(mase(truth, forecast, season_error)))}
    reference = {"smape": float(smape(truth, naive2).mean()), "mase": float(np.nanmean(mase(truth, naive2, season_error)))}
    ratios = [scores[key] / reference[key] for key in ("smape", "mase") if reference[key] > 0]
    scores["owa"] = float(np.mean(ratios)) if len(ratios) == 2 else float("nan")
    steps = [(truth[:, [h]], forecast[:, [h]]) for h in range(truth.shape[1])]
    scores["per_step"] = {
        "smape": [float(smape(t, f).mean()) for t, f in steps],
        "mase": [float(np.nanmean(mase(t, f, season_error))) for t, f in steps],
    }
    return scores
