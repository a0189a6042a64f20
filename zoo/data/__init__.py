"""Datasets: synthetic series, user files (.ts, CSV, NPZ), forecasting histories, scaling and the tf.data pipeline."""

from zoo.data.dataset import DataSpec, SeriesDataset, SeriesSplit, Standardizer
from zoo.data.files import csv_dataset, npz_dataset, ts_dataset
from zoo.data.pipeline import make_batches, make_training_dataset, model_inputs
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
