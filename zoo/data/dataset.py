"""The arrays every model trains on: splits of series with labels and future values, and their scaling."""

import dataclasses
import json
from pathlib import Path

import numpy as np

from zoo.errors import ZooError
from zoo.validation import fraction


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """What a model needs to know about its data; builders read shapes from here, never from config.

    Args:
        timesteps: int. Length of each (padded) input series.
        n_features: int. Channels per time step.
        n_classes: int. Number of class labels.
        horizon: int. Future steps a forecaster predicts.
        variable_length: bool. Whether series are right-padded and carry a mask.
    """

    timesteps: int
    n_features: int
    n_classes: int
    horizon: int
    variable_length: bool = False


@dataclasses.dataclass
class SeriesSplit:
    """One split of a dataset.

    Args:
        series: float32 array `(n, timesteps, n_features)`, right-padded when lengths vary.
        labels: int32 array `(n,)` of class indices.
        future: float32 array `(n, horizon, n_features)`: the values that follow each series.
        lengths: int32 array `(n,)` of valid steps per series.
    """

    series: np.ndarray
    labels: np.ndarray
    future: np.ndarray
    lengths: np.ndarray

    def __len__(self):
        return len(self.series)

    def take(self, indices):
        """Returns a new split holding the rows at `indices`."""
        return SeriesSplit(
            self.series[indices], self.labels[indices], self.future[indices], self.lengths[indices]
        )

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

    def split(self, name):
        """Returns the split called `name` (train, validation or test)."""
        if name not in ("train", "validation", "test"):
            raise ZooError(f"Unknown split {name!r}; expected train, validation or test.")
        return getattr(self, name)


@dataclasses.dataclass
class Standardizer:
    """Per-feature standard scaling fitted on valid (unpadded) training steps.

    Args:
        mean: float array `(n_features,)`.
        std: float array `(n_features,)`, never zero.
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, split):
        """Returns a Standardizer fitted on the valid steps of `split.series`."""
        values = split.series[split.mask]
        std = values.std(axis=0)
        # A constant channel would divide by zero; leave it unscaled instead.
        std = np.where(std > 1e-8, std, 1.0)
        return cls(values.mean(axis=0), std)

    def transform(self, split):
        """Returns a copy of `split` with series and future scaled; padding stays zero."""
        series = ((split.series - self.mean) / self.std).astype("float32")
        series[~split.mask] = 0.0
        future = ((split.future - self.mean) / self.std).astype("float32")
        return SeriesSplit(series, split.labels, future, split.lengths)

    def inverse_transform(self, values):
        """Maps scaled `values` (last axis = features) back to the original units."""
        return values * self.std + self.mean

    def save(self, path):
        """Writes the statistics as JSON to `path`."""
        payload = {"mean": self.mean.tolist(), "std": self.std.tolist()}
        Path(path).write_text(json.dumps(payload, indent=2))

    @classmethod
    def load(cls, path):
        """Reads statistics written by `save`."""
        payload = json.loads(Path(path).read_text())
        return cls(np.asarray(payload["mean"]), np.asarray(payload["std"]))


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
    if n_samples - n_test - n_val < 1 or (val_fraction > 0 and n_val < 1):
        raise ZooError(
            f"{n_samples} series are too few to split with val_fraction={val_fraction} and "
            f"test_fraction={test_fraction}: add series or change the fractions."
        )
    return order[n_test + n_val :], order[n_test : n_test + n_val], order[:n_test]


def prepare_dataset(train, validation, test, *, n_classes, class_names=None):
    """Fits the scaler on `train`, scales every split and describes the result.

    Args:
        train, validation, test: SeriesSplit in original units.
        n_classes: int. Number of class labels.
        class_names: list of str, or None for "0", "1", ...

    Returns:
        A SeriesDataset.
    """
    for name, split in (("train", train), ("validation", validation), ("test", test)):
        if not np.isfinite(split.series[split.mask]).all() or not np.isfinite(split.future).all():
            raise ZooError(
                f"The {name} split holds NaN or infinite values: clean the data or choose a missing-value policy."
            )
    scaler = Standardizer.fit(train)
    spec = DataSpec(
        timesteps=train.series.shape[1],
        n_features=train.series.shape[2],
        n_classes=n_classes,
        horizon=train.future.shape[1],
        variable_length=any(
            bool((split.lengths < split.series.shape[1]).any()) for split in (train, validation, test)
        ),
    )
    return SeriesDataset(
        train=scaler.transform(train),
        validation=scaler.transform(validation),
        test=scaler.transform(test),
        spec=spec,
        scaler=scaler,
        class_names=list(class_names) if class_names else [str(i) for i in range(n_classes)],
    )
