"""Datasets: synthetic series, user files (.ts, CSV, NPZ), forecasting histories, scaling and the tf.data pipeline."""

from zoo.data.dataset import DataSpec, SeriesDataset, SeriesSplit
from zoo.data.files import csv_dataset, npz_dataset, ts_dataset
from zoo.data.scaling import Standardizer
from zoo.data.synthetic import synthetic_dataset
from zoo.data.windows import forecast_dataset

__all__ = [
    "DataSpec",
    "SeriesDataset",
    "SeriesSplit",
    "Standardizer",
    "csv_dataset",
    "forecast_dataset",
    "make_batches",
    "make_training_dataset",
    "model_inputs",
    "npz_dataset",
    "synthetic_dataset",
    "ts_dataset",
]

# The batch pipeline imports Keras: loaded on first use, so reading a config's data options does not.
_PIPELINE = ("make_batches", "make_training_dataset", "model_inputs")


def __getattr__(name):
    if name in _PIPELINE:
        from zoo.data import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'zoo.data' has no attribute {name!r}")
