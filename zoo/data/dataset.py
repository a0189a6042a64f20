"""The arrays every model trains on: splits of series with labels and future values, scaled by `zoo.data.scaling`."""

import dataclasses
import logging

import numpy as np

from zoo.data.scaling import Standardizer
from zoo.errors import ZooError
from zoo.training.adaptive import AUTO, LEVEL_SEPARATION_F, level_separation, normalization_for
from zoo.validation import fraction

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """What a model needs to know about its data; builders read shapes from here, never from config.

    Args:
        timesteps: int. Length of each (padded) input series.
        n_features: int. Channels per time step.
        n_classes: int. Number of class labels (0 when the data has none).
        horizon: int. Future steps a forecaster predicts (0 when the data has none).
        variable_length: bool. Whether series are right-padded and carry a mask.
        n_static: int. Static (per-series, time-invariant) features.
        has_targets: bool. Whether each series carries a regression target.
        season_length: int. The data's seasonal period for the seasonal baselines (0: estimated per series).
        from_histories: bool. Whether rows are windows cut from histories (`data=forecast`): scored per
            series as M4 does, and forecasters follow their rules for such data (see `ForecastTask`).
    """

    timesteps: int
    n_features: int
    n_classes: int
    horizon: int
    variable_length: bool = False
    n_static: int = 0
    has_targets: bool = False
    season_length: int = 0
    from_histories: bool = False


@dataclasses.dataclass
class SeriesSplit:
    """One split of a dataset.

    Args:
        series: float32 array `(n, timesteps, n_features)`, right-padded when lengths vary.
        labels: int32 array `(n,)` of class indices (zeros when the data has no labels).
        future: float32 array `(n, horizon, n_features)`: the values that follow each series.
        lengths: int32 array `(n,)` of valid steps per series.
        targets: float32 array `(n,)` of regression targets, or None.
        static: float32 array `(n, n_static)` of static covariates, or None.
        location, spread: float arrays `(n, 1, n_features)`: each row's own scaling
            (`normalize="window"`), which `Standardizer.inverse_transform` undoes; None otherwise.
        naive2: float array `(n, horizon, n_features)`: the M4 Naive2 forecast of each row from
            its whole history, in original units (forecasting data from histories), or None.
        season_error: float array `(n,)`: the in-sample MAE of the seasonal naive forecast over each
            row's whole history, the MASE denominator of M4 (forecasting data from histories), or None.
    """

    series: np.ndarray
    labels: np.ndarray
    future: np.ndarray
    lengths: np.ndarray
    targets: np.ndarray = None
    static: np.ndarray = None
    location: np.ndarray = None
    spread: np.ndarray = None
    naive2: np.ndarray = None
    season_error: np.ndarray = None

    def __len__(self):
        return len(self.series)

    def take(self, indices):
        """Returns a new split holding the rows at `indices`."""
        arrays = (getattr(self, field.name) for field in dataclasses.fields(self))
        return SeriesSplit(*(None if array is None else array[indices] for array in arrays))

    @property
    def mask(self):
        """Boolean array `(n, timesteps)`: True on valid steps."""
        return np.arange(self.series.shape[1])[None, :] < self.lengths[:, None]


@dataclasses.dataclass
class SeriesDataset:
    """Train, validation and test splits, scaled with statistics of the training split only."""

    train: SeriesSplit
    validation: SeriesSplit
    test: SeriesSplit
    spec: DataSpec
    scaler: "Standardizer"
    class_names: list
    resolved: dict = None  # the data options `auto` stood for, where the loader decides them

    def split(self, name):
        """Returns the split called `name` (train, validation or test)."""
        if name not in ("train", "validation", "test"):
            raise ZooError(f"Unknown split {name!r}; expected train, validation or test.")
        return getattr(self, name)


def split_indices(n_samples, *, val_fraction, test_fraction, seed):
    """Shuffles `range(n_samples)` with `seed` and cuts it into train, validation and test indices.

    Args:
        n_samples: int. Number of rows.
        val_fraction: float. Share of rows for validation.
        test_fraction: float. Share of rows for test; 0 when a separate test file exists.
        seed: int. Fixes the permutation.

    Returns:
        Three int arrays (train, validation, test).
    """
    fraction("val_fraction", val_fraction)
    fraction("test_fraction", test_fraction)
    order = np.random.default_rng(seed).permutation(n_samples)
    n_test = int(round(n_samples * test_fraction))
    n_val = int(round(n_samples * val_fraction))
    if n_samples - n_test - n_val < 1 or (val_fraction > 0 and n_val < 1) or (test_fraction > 0 and n_test < 1):
        raise ZooError(
            f"{n_samples} series are too few to split with val_fraction={val_fraction} and "
            f"test_fraction={test_fraction}: add series or change the fractions."
        )
    return order[n_test + n_val :], order[n_test : n_test + n_val], order[:n_test]


def check_finite(name, split):
    """Raises a ZooError naming the first array of `split` (and the series) that holds NaN or infinite values."""
    arrays = {
        "series values": np.where(split.mask[..., None], split.series, 0.0),
        "forecast targets": split.future,
        "static covariates": split.static,
        "regression targets": split.targets,
    }
    for what, array in arrays.items():
        if array is None or array.size == 0:
            continue
        bad = ~np.isfinite(array).reshape(len(array), -1).all(axis=1)
        if bad.any():
            raise ZooError(
                f"The {name} split's {what} hold NaN or infinite values (series {int(np.flatnonzero(bad)[0])} of that "
                "split) after the missing-value policy: remove or fix them in the data."
            )


def prepare_dataset(train, validation, test, *, n_classes, class_names=None, normalize="global", season_length=0, from_histories=False):
    """Fits the scaler on `train`, scales every split and describes the result.

    Args:
        train, validation, test: SeriesSplit in original units.
        n_classes: int. Number of class labels (0 for unlabelled data).
        class_names: list of str, or None for "0", "1", ...
        normalize: "series", "window", "global" or "none": how series are scaled (see `Standardizer`);
            "auto" applies `zoo.training.adaptive.normalization_for` to the number of channels and
            the classes' level separation, and records its choice in the dataset's `resolved`.
        season_length: int. The seasonal period baselines use (0: estimated per series).
        from_histories: bool. Rows are windows cut from histories (`DataSpec.from_histories`).

    Returns:
        A SeriesDataset.
    """
    splits = {"train": train, "validation": validation, "test": test}
    for name, split in splits.items():
        check_finite(name, split)
    if train.series.shape[1] < 2:
        raise ZooError(
            "Every series is 1 step long; a sequence model needs at least 2 steps to learn from: "
            "use longer series (data.length for synthetic data)."
        )
    if n_classes == 1:  # 0: no labels (regression, forecasting)
        named = f" ({class_names[0]!r})" if class_names else ""
        raise ZooError(
            f"The data holds a single class{named}; a classifier needs at least two: add series of other classes, "
            "or use model.head=regress or forecast."
        )
    resolved = None
    if normalize == AUTO:
        separation = level_separation(train.series, train.mask, train.labels if n_classes else None)
        normalize = normalization_for(None, train.series.shape[2], separation)
        resolved = {"normalize": normalize}
        if separation is not None and train.series.shape[2] > 1:
            log.info(
                f"data.normalize=auto: {normalize} (per-series levels tell the classes apart with F = {separation:.3g}; "
                f"from {LEVEL_SEPARATION_F:g} they are kept)."
            )
    scaler = Standardizer.fit(train, normalize)
    spec = DataSpec(
        timesteps=train.series.shape[1],
        n_features=train.series.shape[2],
        n_classes=n_classes,
        horizon=train.future.shape[1],
        variable_length=any(bool((s.lengths < s.series.shape[1]).any()) for s in splits.values()),
        n_static=0 if train.static is None else train.static.shape[1],
        has_targets=train.targets is not None,
        season_length=season_length,
        from_histories=from_histories,
    )
    return SeriesDataset(
        train=scaler.transform(train),
        validation=scaler.transform(validation),
        test=scaler.transform(test),
        spec=spec,
        scaler=scaler,
        class_names=list(class_names) if class_names else [str(i) for i in range(n_classes)],
        resolved=resolved,
    )
