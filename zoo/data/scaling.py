"""Scaling of series, fitted on the training split: global, per series, per window (undone on forecasts) or none."""

import dataclasses
import json
from pathlib import Path

import numpy as np

from zoo.errors import ZooError
from zoo.validation import one_of

NORMALIZATIONS = ("series", "window", "global", "none")


def series_moments(series, mask):
    """Mean and standard deviation of every series per channel over its valid steps, in float64.

    Args:
        series: float array `(n, timesteps, n_features)`.
        mask: bool array `(n, timesteps)`, True on valid steps.

    Returns:
        `(mean, std)`, each `(n, 1, n_features)`; std is 1 where a channel is constant.
    """
    values = np.asarray(series, dtype="float64")
    weights = mask[:, :, None].astype("float64")
    count = np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
    mean = (values * weights).sum(axis=1, keepdims=True) / count
    std = np.sqrt((((values - mean) * weights) ** 2).sum(axis=1, keepdims=True) / count)
    return mean, np.where(std > 1e-8, std, 1.0)


@dataclasses.dataclass
class Standardizer:
    """Standard scaling fitted on the training split: per feature on valid (unpadded) steps,
    per static covariate, and for the regression target.

    With `normalize="series"` every series is first z-normalised on its own, per channel (the
    UCR convention: level and scale of a series carry no class information); "window" does the
    same and keeps each row's statistics on the split, so forecasts return to original units
    (instance normalisation, as RevIN); with "none" the series keep their units (static
    covariates and targets are still scaled).

    Args:
        mean, std: float arrays `(n_features,)`; std is never zero.
        static_mean, static_std: float arrays `(n_static,)`, or None.
        target_mean, target_std: floats, or None.
        normalize: "series", "window", "global" or "none". Defaults to "global" (runs saved before the option).
    """

    mean: np.ndarray
    std: np.ndarray
    static_mean: np.ndarray = None
    static_std: np.ndarray = None
    target_mean: float = None
    target_std: float = None
    normalize: str = "global"

    @staticmethod
    def _moments(values, what):
        # float64: the variance of float32 values near 1e30 overflows float32 and would scale a
        # channel to zeros without a word.
        values = np.asarray(values, dtype="float64")
        mean, std = values.mean(axis=0), values.std(axis=0)
        bad = np.flatnonzero(~(np.isfinite(mean) & np.isfinite(std)).reshape(-1))
        if bad.size:
            raise ZooError(
                f"The scaling statistics of {what} {bad[0]} are not finite (values beyond float range in "
                "the training split): rescale that channel in your data before training."
            )
        # A constant column would divide by zero; leave it unscaled instead.
        return mean, np.where(std > 1e-8, std, 1.0)

    @classmethod
    def fit(cls, split, normalize="global"):
        """Returns a Standardizer fitted on `split` (the training split), in float64.

        Args:
            split: SeriesSplit in original units.
            normalize: "series", "window", "global" or "none" (see the class docstring).
        """
        one_of("data.normalize", normalize, NORMALIZATIONS)
        if normalize == "global":
            scaler = cls(*cls._moments(split.series[split.mask], "channel"))
        else:
            n_features = split.series.shape[2]
            scaler = cls(np.zeros(n_features), np.ones(n_features))
        scaler.normalize = normalize
        if split.static is not None:
            scaler.static_mean, scaler.static_std = cls._moments(split.static, "static covariate")
        if split.targets is not None:
            mean, std = cls._moments(split.targets, "regression target")
            scaler.target_mean, scaler.target_std = float(mean), float(std)
        return scaler

    def transform(self, split):
        """Returns a copy of `split` with everything scaled; padding stays zero."""
        series, future = split.series, split.future
        location = spread = None
        if self.normalize in ("series", "window"):
            # The future is scaled by its own series' statistics, so the two stay comparable.
            mean, std = series_moments(series, split.mask)
            series, future = (series - mean) / std, (future - mean) / std
            if self.normalize == "window":
                location, spread = mean, std

        series = ((series - self.mean) / self.std).astype("float32")
        series[~split.mask] = 0.0
        future = ((future - self.mean) / self.std).astype("float32")
        static = None if split.static is None else ((split.static - self.static_mean) / self.static_std).astype("float32")
        targets = None if split.targets is None else ((split.targets - self.target_mean) / self.target_std).astype("float32")
        return dataclasses.replace(
            split, series=series, future=future, targets=targets, static=static, location=location, spread=spread
        )

    def inverse_transform(self, values, split=None):
        """Maps scaled series values (last axis = features) back to the original units.

        Args:
            values: array `(n, steps, n_features)` (or any array with features last, without `split`).
            split: the scaled SeriesSplit the rows of `values` belong to; it carries each row's own
                statistics under `normalize="window"`.
        """
        values = values * self.std + self.mean
        if split is not None and split.location is not None:
            values = values * split.spread + split.location
        return values

    def inverse_transform_targets(self, values):
        """Maps scaled regression targets back to the original units."""
        return values * self.target_std + self.target_mean

    def to_dict(self):
        """Returns the statistics as JSON-ready lists and floats."""
        return {
            field.name: np.asarray(value).tolist() if value is not None else None
            for field in dataclasses.fields(self)
            for value in [getattr(self, field.name)]
        }

    @classmethod
    def from_dict(cls, payload):
        """Rebuilds a Standardizer from `to_dict`'s output."""
        arrays = {
            key: value if key == "normalize" or value is None else np.asarray(value) for key, value in payload.items()
        }
        for key in ("target_mean", "target_std"):
            arrays[key] = None if arrays.get(key) is None else float(arrays[key])
        return cls(**arrays)

    @classmethod
    def load(cls, path):
        """Reads statistics as `RunDirectory.write_json` writes them (`scaler.json`), refusing a file that does not hold them in one line."""
        try:
            return cls.from_dict(json.loads(Path(path).read_bytes().decode("utf-8")))
        except (OSError, UnicodeDecodeError, ValueError, TypeError, AttributeError) as error:
            raise ZooError(
                f"{path} does not hold the scaling statistics train.py writes ({type(error).__name__}): "
                "restore the run's scaler.json."
            ) from None

    def allclose(self, other):
        """Whether `other` holds the same statistics (used to detect changed data)."""
        for field in dataclasses.fields(self):
            mine, theirs = getattr(self, field.name), getattr(other, field.name)
            if (mine is None) != (theirs is None):
                return False
            if isinstance(mine, str):
                if mine != theirs:
                    return False
            elif mine is not None and not np.allclose(mine, theirs):
                return False
        return True
