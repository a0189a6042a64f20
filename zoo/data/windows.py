"""Forecasting data from histories (`data=forecast`): training windows, a temporal validation split, the test.

A history is one series of any length. Training samples are windows, a context of
`context_length` steps and the `horizon` steps after it, drawn from anywhere in each history
with the same number per series, so long histories do not dominate. Validation is temporal:
the last `horizon` steps of each training history, never a random window. The test is the
horizon after each history (a test file's values, matched by id), or its last `horizon` steps.
"""

import logging
import math

import numpy as np

from zoo.data.dataset import SeriesSplit, prepare_dataset
from zoo.data.forecast_format import read_histories
from zoo.data.raw import apply_missing_policy, keep_at_most
from zoo.errors import ZooError
from zoo.tasks.baselines import naive2_forecast, seasonal_naive_error
from zoo.validation import positive_int

log = logging.getLogger(__name__)

AUTO = "auto"
# The context covers this many seasons, or this many horizons, whichever is longer ...
CONTEXT_SEASONS, CONTEXT_HORIZONS = 4, 3
# ... and at most this many steps: an LSTM's cost grows with it, and a few seasons carry the pattern.
LONGEST_AUTO_CONTEXT = 512
# Windows drawn per epoch's pool in all, spread evenly over the series (at least one per series).
WINDOW_POOL = 32_000


def context_length_for(horizon, season_length):
    """Returns `max(4 * season_length, 3 * horizon)`, at most 512: the `context_length` of `auto`."""
    return min(LONGEST_AUTO_CONTEXT, max(CONTEXT_SEASONS * season_length, CONTEXT_HORIZONS * horizon))


def windows_per_series_for(n_series):
    """Returns `ceil(32000 / n_series)`: the `windows_per_series` of `auto` (the pool is about 32,000 windows)."""
    return max(1, math.ceil(WINDOW_POOL / n_series))


def _resolve(name, value, rule):
    return rule() if value == AUTO else positive_int(f"data.{name}", value)


def _context_rows(histories, ends, context_length):
    """Cuts the `context_length` steps before each `end` (fewer at a history's start), right-padded, with lengths."""
    n_features = histories[0].shape[1]
    series = np.zeros((len(ends), context_length, n_features), dtype="float64")
    lengths = np.zeros(len(ends), dtype="int32")
    for row, (values, end) in enumerate(zip(histories, ends)):
        start = max(0, end - context_length)
        series[row, : end - start] = values[start:end]
        lengths[row] = end - start
    return series, lengths


def _split(histories, ends, futures, context_length, season_length, *, baselines):
    """Rows whose contexts end at `ends`, with `futures` as targets; `baselines` adds Naive2 and MASE scales from each whole history."""
    series, lengths = _context_rows(histories, ends, context_length)
    future = np.stack(futures).astype("float64")
    count = len(ends)
    split = SeriesSplit(series, np.zeros(count, dtype="int32"), future, lengths)
    if baselines:
        horizon = future.shape[1]
        split.naive2 = np.stack([naive2_forecast(values[:end], horizon, season_length) for values, end in zip(histories, ends)])
        split.season_error = np.asarray([seasonal_naive_error(values[:end], season_length) for values, end in zip(histories, ends)])
    return split


def _test_futures(train, test, horizon):
    """The first `horizon` values of each training history's series in the test file, matched by id."""
    by_id = dict(zip(test.ids, test.series))
    futures = []
    for series_id, origin, values in zip(train.ids, train.origins, train.series):
        if series_id not in by_id:
            raise ZooError(f"{test.source}: no series {series_id!r}, which {origin} holds: give every history its test values.")
        following = by_id[series_id]
        if len(following) < horizon or following.shape[1] != values.shape[1]:
            raise ZooError(
                f"{test.source}: series {series_id!r} has {len(following)} steps of {following.shape[1]} values, fewer "
                f"than data.horizon={horizon} steps of the training file's {values.shape[1]}: lower data.horizon or complete the file."
            )
        futures.append(following[:horizon])
    return futures


def forecast_dataset(
    *,
    train_path,
    test_path=None,
    horizon,
    context_length=AUTO,
    season_length=AUTO,
    windows_per_series=AUTO,
    id_column=AUTO,
    time_column=AUTO,
    value_columns=AUTO,
    missing="interpolate",
    normalize="window",
    max_series=None,
    seed=0,
):
    """Reads histories and turns them into training windows, a temporal validation split and a test split.

    Args:
        train_path: a long, wide or single-series CSV, or a `.tsf` file (`read_histories`).
        test_path: the values that follow each history, matched by id; None holds out each history's
            last `horizon` steps instead.
        horizon: int. Steps to forecast.
        context_length: int or "auto" (`context_length_for`). Steps a model reads before each forecast.
        season_length: int or "auto": from the time stamps' step (24 for hourly, 7 for daily, 12 for
            monthly, ...), else 1. Feeds the seasonal baselines, Naive2 and MASE.
        windows_per_series: int or "auto" (`windows_per_series_for`). Training windows drawn from each history.
        id_column, time_column, value_columns: the CSV columns (`read_histories`).
        missing: the missing-value policy (`apply_missing_policy`).
        normalize: "window" (each window scaled by its context's mean and standard deviation, undone on
            the forecast), "global" (one scaler fitted on the training windows) or "none".
        max_series: int or None. Reads at most this many series (seeded choice).
        seed: int. Fixes the windows drawn.

    Returns:
        A SeriesDataset whose `resolved` holds the values `auto` stood for.
    """
    horizon = positive_int("data.horizon", horizon)
    read = read_histories(train_path, id_column=id_column, time_column=time_column, value_columns=value_columns)
    raw = apply_missing_policy(keep_at_most(read.raw, max_series, seed), missing)
    season_length = _resolve("season_length", season_length, lambda: max(1, read.season_length))
    context_length = _resolve("context_length", context_length, lambda: context_length_for(horizon, season_length))
    windows_per_series = _resolve("windows_per_series", windows_per_series, lambda: windows_per_series_for(len(raw.series)))
    shortest_context = max(2, min(season_length, context_length))

    histories = raw.series
    if test_path is not None:
        test = apply_missing_policy(read_histories(test_path, id_column=id_column, time_column=time_column, value_columns=value_columns).raw, missing)
        futures = _test_futures(raw, test, horizon)
        test_ends = [len(values) for values in histories]
        full = [np.concatenate([values, following]) for values, following in zip(histories, futures)]
    else:
        test_ends = [len(values) - horizon for values in histories]
        full = histories
    held_out = 1 if test_path is not None else 2  # horizons at a history's end kept from training
    for values, origin in zip(histories, raw.origins):
        needed = shortest_context + horizon * (held_out + 1)
        if len(values) < needed:
            raise ZooError(
                f"{origin}: the history has {len(values)} steps, fewer than the {needed} that a context of {shortest_context} "
                f"and {held_out + 1} horizons of {horizon} need (training, validation{', test' if held_out == 2 else ''}): "
                "lower data.horizon or remove the series."
            )
    validation_ends = [end - horizon for end in test_ends]

    rng = np.random.default_rng(seed)
    window_histories, window_ends = [], []
    for values, validation_end in zip(histories, validation_ends):
        last = validation_end - horizon  # the last context end whose target stays before validation
        first = context_length if last >= context_length else shortest_context
        ends = np.arange(first, last + 1)
        if len(ends) > windows_per_series:
            ends = np.sort(rng.choice(ends, windows_per_series, replace=False))
        window_histories += [values] * len(ends)
        window_ends += ends.tolist()
    train = _split(
        window_histories, window_ends, [v[e : e + horizon] for v, e in zip(window_histories, window_ends)],
        context_length, season_length, baselines=False,
    )
    validation = _split(
        histories, validation_ends, [v[e : e + horizon] for v, e in zip(histories, validation_ends)],
        context_length, season_length, baselines=True,
    )
    test_split = _split(full, test_ends, [v[e : e + horizon] for v, e in zip(full, test_ends)], context_length, season_length, baselines=True)
    log.info(
        f"{raw.source}: {len(histories)} histories, {len(train)} training windows of {context_length} + {horizon} steps, "
        f"season {season_length}."
    )
    dataset = prepare_dataset(
        train, validation, test_split, n_classes=0, normalize=normalize, season_length=season_length, from_histories=True
    )
    dataset.resolved = {
        **(dataset.resolved or {}),
        "context_length": context_length,
        "season_length": season_length,
        "windows_per_series": windows_per_series,
    }
    return dataset
