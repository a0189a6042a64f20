"""Series read from files, before padding: the missing-value policy and the assembly into a SeriesDataset."""

import dataclasses
import logging

import numpy as np

from zoo.data.dataset import SeriesSplit, prepare_dataset, split_indices
from zoo.errors import ZooError
from zoo.training.adaptive import validation_fraction_for
from zoo.validation import non_negative_int, one_of, positive_int

log = logging.getLogger(__name__)

MISSING_POLICIES = ("interpolate", "drop", "error")


@dataclasses.dataclass
class RawSeries:
    """Series of possibly different lengths, as a reader found them.

    Args:
        series: list of float arrays `(length, n_features)`; NaN marks a missing value.
        labels: list of str class labels, or None.
        targets: float array `(n,)` of regression targets, or None.
        static: float array `(n, n_static)` of static covariates, or None.
        origins: list of str, where each series came from ("file, line 12"), for error messages.
        source: str. The file read.
        class_names: list of str declared by the file (.ts @classLabel), or None.
        ids: list of str naming each series (a CSV's id column), or None for its position.
    """

    series: list
    labels: list = None
    targets: np.ndarray = None
    static: np.ndarray = None
    origins: list = None
    source: str = ""
    class_names: list = None
    ids: list = None

    def keep(self, indices):
        """Returns the series at `indices` only."""
        return RawSeries(
            series=[self.series[i] for i in indices],
            labels=None if self.labels is None else [self.labels[i] for i in indices],
            targets=None if self.targets is None else self.targets[indices],
            static=None if self.static is None else self.static[indices],
            origins=[self.origins[i] for i in indices],
            source=self.source,
            class_names=self.class_names,
            ids=None if self.ids is None else [self.ids[i] for i in indices],
        )


def _interpolate(values):
    """Fills NaN in each column of `values` `(length, features)` linearly; ends take the nearest value."""
    filled = values.copy()
    steps = np.arange(len(values))
    for column in range(values.shape[1]):
        known = ~np.isnan(values[:, column])
        filled[:, column] = np.interp(steps, steps[known], values[known, column])
    return filled


def apply_missing_policy(raw, policy):
    """Removes every NaN from `raw` according to `policy`.

    Args:
        raw: RawSeries.
        policy: "interpolate" (linear in time per channel, ends carry the nearest value; a channel
            with no value at all is an error), "drop" (drop series with any missing value) or
            "error" (refuse the file).

    Returns:
        A RawSeries without NaN in its series.
    """
    one_of("missing", policy, MISSING_POLICIES)
    infinite = next((i for i, values in enumerate(raw.series) if np.isinf(values).any()), None)
    if infinite is not None:
        raise ZooError(
            f"{raw.origins[infinite]}: holds an infinite value, which no missing-value policy fills: "
            "replace it with a number or with ? (missing)."
        )
    # Models compute in float32: a value beyond its range would become infinite there.
    float32_max = float(np.finfo("float32").max)
    too_large = next((i for i, values in enumerate(raw.series) if (np.abs(values) > float32_max).any()), None)
    if too_large is not None:
        raise ZooError(
            f"{raw.origins[too_large]}: holds a value beyond float32's range (±{float32_max:.3g}), which models "
            "compute in: rescale the data (e.g. change its units)."
        )
    gaps = [i for i, values in enumerate(raw.series) if np.isnan(values).any()]
    if not gaps:
        return raw
    if policy == "error":
        raise ZooError(
            f"{raw.origins[gaps[0]]}: missing values ({len(gaps)} series have some); "
            "set data.missing=interpolate or data.missing=drop."
        )
    if policy == "drop":
        kept = [i for i in range(len(raw.series)) if i not in set(gaps)]
        if not kept:
            raise ZooError(f"{raw.source}: every series has missing values; set data.missing=interpolate.")
        log.info(f"{raw.source}: dropped {len(gaps)} series with missing values (data.missing=drop).")
        return raw.keep(kept)
    for i in gaps:
        if np.isnan(raw.series[i]).all(axis=0).any():
            raise ZooError(f"{raw.origins[i]}: a channel has no value at all, so it cannot be interpolated; drop it or set data.missing=drop.")
    series = [_interpolate(values) if i in set(gaps) else values for i, values in enumerate(raw.series)]
    log.info(f"{raw.source}: interpolated missing values in {len(gaps)} series (data.missing=interpolate).")
    return dataclasses.replace(raw, series=series)


def _class_order(names):
    """Sorts class names numerically when they all look like numbers, else alphabetically."""
    try:
        return sorted(names, key=float)
    except ValueError:
        return sorted(names)


def _to_split(raw, timesteps, horizon, label_index):
    """Cuts each series' last `horizon` steps off as its future and right-pads it to `timesteps`."""
    count, n_features = len(raw.series), raw.series[0].shape[1]
    series = np.zeros((count, timesteps, n_features), dtype="float32")
    future = np.zeros((count, horizon, n_features), dtype="float32")
    lengths = np.zeros(count, dtype="int32")
    for i, values in enumerate(raw.series):
        length = len(values) - horizon
        series[i, :length] = values[:length]
        future[i] = values[length:]
        lengths[i] = length
    labels = (
        np.zeros(count, dtype="int32")
        if raw.labels is None
        else np.asarray([label_index[label] for label in raw.labels], dtype="int32")
    )
    targets = None if raw.targets is None else raw.targets.astype("float32")
    static = None if raw.static is None else raw.static.astype("float32")
    return SeriesSplit(series, labels, future, lengths, targets, static)


def keep_at_most(raw, max_series, seed):
    """Keeps a seeded random subset of at most `max_series` series, in file order."""
    if max_series is None or len(raw.series) <= max_series:
        return raw
    chosen = np.sort(np.random.default_rng(seed).choice(len(raw.series), positive_int("max_series", max_series), replace=False))
    return raw.keep(chosen)


def assemble_dataset(
    train,
    test=None,
    *,
    horizon=0,
    val_fraction="auto",
    test_fraction=0.15,
    missing="interpolate",
    normalize="auto",
    max_series=None,
    seed=0,
):
    """Turns series read from files into a scaled SeriesDataset.

    The validation split (and the test split, when there is no test file) is carved from the
    training series by `seed`. With `horizon > 0` the last `horizon` steps of every series become
    its forecasting target. Series are right-padded to the longest one and carry their lengths.

    Args:
        train: RawSeries from the training file.
        test: RawSeries from the test file, or None.
        horizon: int. Steps held out at the end of each series for forecasting.
        val_fraction: float, or "auto" for `zoo.training.adaptive.validation_fraction_for`'s rule. Share
            of training series used for validation.
        test_fraction: float. Share used for test when there is no test file.
        missing: str. The missing-value policy of `apply_missing_policy`.
        normalize: str. "series" (z-normalise each series per channel), "global" (one scaler fitted
            on the training split), "none" (see `Standardizer`), or "auto" (by the number of
            channels: `zoo.training.adaptive.normalization_for`).
        max_series: int or None. Reads at most this many series from each file (seeded choice).
        seed: int. Fixes the splits.

    Returns:
        A SeriesDataset.
    """
    non_negative_int("horizon", horizon)
    train = apply_missing_policy(keep_at_most(train, max_series, seed), missing)
    test = apply_missing_policy(keep_at_most(test, max_series, seed), missing) if test is not None else None
    files = [train] + ([test] if test is not None else [])

    n_features = train.series[0].shape[1]
    for raw in files:
        for values, origin in zip(raw.series, raw.origins):
            if values.shape[1] != n_features:
                raise ZooError(f"{origin}: {values.shape[1]} dimensions, but the training data has {n_features}.")
            if len(values) <= horizon:
                raise ZooError(
                    f"{origin}: the series has {len(values)} steps, too few to hold out data.horizon={horizon} "
                    "and keep at least one input step; lower data.horizon."
                )
    if test is not None and (train.labels is None) != (test.labels is None):
        raise ZooError(f"{test.source}: the test file and the training file disagree on whether series have labels.")
    if test is not None and (train.static is None) != (test.static is None):
        raise ZooError(f"{test.source}: the test file and the training file disagree on static covariates.")

    class_names = []
    if train.labels is not None:
        class_names = _class_order(set(train.labels))
        if test is not None:
            unseen = sorted(set(test.labels) - set(class_names))
            if unseen:
                first = next(o for o, label in zip(test.origins, test.labels) if label == unseen[0])
                raise ZooError(
                    f"{first}: class label {unseen[0]!r} never appears in the training file {train.source}; "
                    "a model cannot learn it. Remove those series or add examples to the training file."
                )
        if len(class_names) < 2:
            log.warning(f"{train.source}: only one class label ({class_names}); classification is pointless.")
    label_index = {name: index for index, name in enumerate(class_names)}

    timesteps = max(len(values) - horizon for raw in files for values in raw.series)
    everything = _to_split(train, timesteps, horizon, label_index)
    available = len(everything) if test is not None else round(len(everything) * (1 - test_fraction))
    val_fraction = validation_fraction_for(available, len(class_names), val_fraction)
    if test is None:
        train_rows, val_rows, test_rows = split_indices(
            len(everything), val_fraction=val_fraction, test_fraction=test_fraction, seed=seed
        )
        if not len(test_rows):  # test_fraction=0 and no test file: nothing would score the model
            raise ZooError(f"{train.source}: test_fraction=0 and no test_path leave no test series: give data.test_path or a test_fraction above 0.")
        test_split = everything.take(test_rows)
    else:
        train_rows, val_rows, _ = split_indices(len(everything), val_fraction=val_fraction, test_fraction=0.0, seed=seed)
        test_split = _to_split(test, timesteps, horizon, label_index)
    return prepare_dataset(
        everything.take(train_rows),
        everything.take(val_rows),
        test_split,
        n_classes=len(class_names),
        class_names=class_names,
        normalize=normalize,
    )
