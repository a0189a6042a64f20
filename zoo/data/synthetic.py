"""Seeded synthetic multichannel series: the class is the waveform family, the target its next values."""

import numpy as np

from zoo.data.dataset import SeriesSplit, prepare_dataset, split_indices
from zoo.errors import ZooError
from zoo.training.adaptive import validation_fraction_for
from zoo.validation import fits_in_memory, fraction, non_negative_int, non_negative_number, positive_int

# The generator holds about six float64 arrays of (n_samples, length + horizon, n_features) at once.
WORKING_ARRAYS = 6

# Ordered from most to least distinct: n_classes takes the first ones, and triangle vs sine is the hardest pair.
WAVEFORMS = ("sine", "square", "sawtooth", "chirp", "damped_sine", "triangle")


def _waveform(family, phase_angle, time, chirp_rate, damping):
    """Evaluates one waveform family on phase angles `(n, steps, features)`."""
    if family == "sine":
        return np.sin(phase_angle)
    if family == "square":
        return np.sign(np.sin(phase_angle))
    if family == "sawtooth":
        return 2.0 * ((phase_angle / (2 * np.pi)) % 1.0) - 1.0
    if family == "triangle":
        return 2.0 * np.abs(2.0 * ((phase_angle / (2 * np.pi)) % 1.0) - 1.0) - 1.0
    if family == "chirp":
        # The frequency grows along the series, so only the change of period tells it from a sine.
        return np.sin(phase_angle + 2 * np.pi * chirp_rate * time**2)
    if family == "damped_sine":
        return np.sin(phase_angle) * np.exp(-damping * time)
    raise AssertionError(family)


def generate_series(*, n_samples, length, n_features, n_classes, noise, horizon, min_length=None, n_static=0, seed):
    """Generates labelled series and the values that follow them, in original units.

    Each sample draws a waveform family (its class), a frequency, and per channel a phase,
    an amplitude and an offset; Gaussian noise is added to every value.

    Args:
        n_samples: int. Number of series.
        length: int. Steps per series (the longest one when `min_length` is set).
        n_features: int. Channels per step.
        n_classes: int. Number of waveform families used, at most 6.
        noise: float. Standard deviation of the additive noise.
        horizon: int. Future steps stored per series.
        min_length: int or None. If set, lengths are drawn uniformly in `[min_length, length]`
            and shorter series are right-padded with zeros.
        n_static: int. Static covariates per series: its frequency, mean amplitude and mean
            offset (in that order), then standard normal noise columns.
        seed: int. Fixes every random draw.

    Returns:
        A SeriesSplit holding all samples.
    """
    positive_int("n_samples", n_samples)
    positive_int("length", length)
    positive_int("n_features", n_features)
    positive_int("horizon", horizon)
    non_negative_int("n_static", n_static)
    non_negative_int("seed", seed)
    non_negative_number("noise", noise)
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or not 2 <= n_classes <= len(WAVEFORMS):
        raise ZooError(
            f"Received an invalid value for n_classes, expected an integer in [2, {len(WAVEFORMS)}] "
            f"(one class per waveform family: {', '.join(WAVEFORMS)}), got {n_classes!r}."
        )
    if min_length is not None:
        positive_int("min_length", min_length)
        if min_length > length:
            raise ZooError(
                f"min_length={min_length} exceeds length={length}: set min_length <= length."
            )

    total = length + horizon
    fits_in_memory(
        f"n_samples={n_samples} series of {total} steps and {n_features} features",
        WORKING_ARRAYS * 8 * n_samples * total * n_features,
        "lower n_samples, length or n_features",
    )
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, size=n_samples).astype("int32")
    time = np.broadcast_to((np.arange(total) / length)[None, :, None], (n_samples, total, n_features))
    cycles = rng.uniform(2.0, 6.0, size=(n_samples, 1, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(n_samples, 1, n_features))
    amplitude = rng.uniform(0.5, 1.5, size=(n_samples, 1, n_features))
    offset = rng.uniform(-0.5, 0.5, size=(n_samples, 1, n_features))
    chirp_rate = rng.uniform(2.0, 4.0, size=(n_samples, 1, 1))
    damping = rng.uniform(1.5, 3.0, size=(n_samples, 1, 1))
    phase_angle = 2 * np.pi * cycles * time + phase

    clean = np.zeros((n_samples, total, n_features))
    for class_index in range(n_classes):
        members = labels == class_index
        clean[members] = _waveform(
            WAVEFORMS[class_index],
            phase_angle[members],
            time[members],
            chirp_rate[members],
            damping[members],
        )
    values = amplitude * clean + offset + noise * rng.standard_normal(clean.shape)

    if min_length is None:
        lengths = np.full(n_samples, length, dtype="int32")
    else:
        lengths = rng.integers(min_length, length + 1, size=n_samples).astype("int32")
    steps = np.arange(length)[None, :]
    series = np.where((steps < lengths[:, None])[..., None], values[:, :length], 0.0)
    future_steps = lengths[:, None] + np.arange(horizon)[None, :]
    future = np.take_along_axis(values, future_steps[..., None], axis=1)
    static = None
    if n_static:
        informative = np.stack([cycles[:, 0, 0], amplitude.mean(axis=(1, 2)), offset.mean(axis=(1, 2))], axis=1)
        extra = rng.standard_normal((n_samples, max(0, n_static - 3)))
        static = np.concatenate([informative, extra], axis=1)[:, :n_static].astype("float32")
    return SeriesSplit(series.astype("float32"), labels, future.astype("float32"), lengths, static=static)


def synthetic_dataset(
    *,
    n_samples=3000,
    length=64,
    n_features=3,
    n_classes=5,
    noise=0.3,
    horizon=8,
    min_length=None,
    n_static=0,
    val_fraction=0.15,
    test_fraction=0.15,
    normalize="global",
    max_series=None,
    seed=0,
):
    """Generates series with `generate_series` and splits and scales them by `seed`.

    `max_series` caps `n_samples` (debug configs set it for every data source alike).

    Returns:
        A SeriesDataset whose class names are the waveform families.
    """
    fraction("test_fraction", test_fraction)  # before it sizes the validation split
    if max_series is not None:
        n_samples = min(positive_int("n_samples", n_samples), positive_int("max_series", max_series))
    samples = generate_series(
        n_samples=n_samples,
        length=length,
        n_features=n_features,
        n_classes=n_classes,
        noise=noise,
        horizon=horizon,
        min_length=min_length,
        n_static=n_static,
        seed=seed,
    )
    val_fraction = validation_fraction_for(round(n_samples * (1 - test_fraction)), n_classes, val_fraction)
    train, validation, test = split_indices(
        n_samples, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed
    )
    return prepare_dataset(
        samples.take(train),
        samples.take(validation),
        samples.take(test),
        n_classes=n_classes,
        class_names=WAVEFORMS[:n_classes],
        normalize=normalize,
    )
