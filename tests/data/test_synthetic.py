"""Synthetic data: seeded, vectorised, correctly shaped, scaled with training statistics only."""

import numpy as np
import pytest

from zoo.data import synthetic_dataset
from zoo.data.dataset import prepare_dataset, split_indices
from zoo.data.scaling import Standardizer
from zoo.data.synthetic import WAVEFORMS, generate_series
from zoo.errors import ZooError
from zoo.runs.directory import write_json_atomically

pytestmark = pytest.mark.unit

SMALL = dict(n_samples=200, length=32, n_features=2, n_classes=4, noise=0.2, horizon=5)


def test_same_seed_same_arrays_other_seed_different():
    first, again, other = (synthetic_dataset(**SMALL, seed=s) for s in (3, 3, 4))
    for split in ("train", "validation", "test"):
        np.testing.assert_array_equal(first.split(split).series, again.split(split).series)
        np.testing.assert_array_equal(first.split(split).labels, again.split(split).labels)
        np.testing.assert_array_equal(first.split(split).future, again.split(split).future)
    assert not np.array_equal(first.train.series, other.train.series)


def test_shapes_and_label_ranges():
    dataset = synthetic_dataset(**SMALL, seed=0)
    assert (len(dataset.train), len(dataset.validation), len(dataset.test)) == (140, 30, 30)
    assert dataset.train.series.shape == (140, 32, 2) and dataset.train.series.dtype == np.float32
    assert dataset.train.future.shape == (140, 5, 2)
    assert dataset.spec.timesteps == 32 and dataset.spec.n_features == 2
    assert dataset.spec.n_classes == 4 and dataset.spec.horizon == 5
    labels = np.concatenate([dataset.train.labels, dataset.validation.labels, dataset.test.labels])
    assert labels.min() == 0 and labels.max() == 3
    assert dataset.class_names == list(WAVEFORMS[:4])


def test_splits_are_disjoint_and_cover_everything():
    train, val, test = split_indices(100, val_fraction=0.2, test_fraction=0.1, seed=5)
    assert (len(train), len(val), len(test)) == (70, 20, 10)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(100))


def test_scaling_uses_training_statistics_only():
    samples = generate_series(**SMALL, seed=2)
    train, val, test = (samples.take(np.arange(a, b)) for a, b in ((0, 140), (140, 170), (170, 200)))
    reference = prepare_dataset(train, val, test, n_classes=4)
    # Corrupt the test split wildly: nothing fitted may move.
    shifted = test.take(np.arange(len(test)))
    shifted.series = shifted.series * 100 + 50
    leaked = prepare_dataset(train, val, shifted, n_classes=4)
    np.testing.assert_allclose(reference.scaler.mean, leaked.scaler.mean)
    np.testing.assert_allclose(reference.scaler.std, leaked.scaler.std)
    np.testing.assert_allclose(reference.train.series, leaked.train.series)
    expected = Standardizer(train.series.reshape(-1, 2).mean(0), train.series.reshape(-1, 2).std(0))
    np.testing.assert_allclose(reference.scaler.mean, expected.mean, rtol=1e-5)
    np.testing.assert_allclose(reference.train.series.reshape(-1, 2).std(0), [1.0, 1.0], rtol=1e-4)


def test_scaler_round_trips_through_json(tmp_path):
    scaler = synthetic_dataset(**SMALL, seed=0).scaler
    write_json_atomically(tmp_path / "scaler.json", scaler.to_dict())  # as a run writes it
    loaded = Standardizer.load(tmp_path / "scaler.json")
    np.testing.assert_allclose(loaded.mean, scaler.mean)
    np.testing.assert_allclose(loaded.std, scaler.std)


def test_nan_in_data_is_refused_with_the_split_named():
    samples = generate_series(**SMALL, seed=2)
    train, val, test = (samples.take(np.arange(a, b)) for a, b in ((0, 140), (140, 170), (170, 200)))
    val.series[3, 4, 1] = np.nan
    with pytest.raises(ZooError, match="validation split's series values hold NaN or infinite values \\(series 3 "):
        prepare_dataset(train, val, test, n_classes=4)


@pytest.mark.parametrize(
    "override, message",
    [
        ({"n_classes": 9}, "n_classes, expected an integer in \\[2, 6\\]"),
        ({"n_samples": 0}, "n_samples, expected a positive integer, got 0"),
        ({"noise": -1.0}, "noise, expected a number >= 0"),
        ({"min_length": 40}, "min_length=40 exceeds length=32"),
    ],
)
def test_bad_knobs_are_named(override, message):
    with pytest.raises(ZooError, match=message):
        synthetic_dataset(**{**SMALL, **override}, seed=0)


def test_a_size_beyond_the_machine_memory_is_refused_before_allocating():
    with pytest.raises(ZooError, match=r"n_samples=1000000000 series of 72 steps and 3 features need about [\d,]+ GiB, more than"):
        generate_series(n_samples=10**9, length=64, n_features=3, n_classes=5, noise=0.1, horizon=8, seed=0)
