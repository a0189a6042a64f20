"""From series read off files to a SeriesDataset: missing values, labels, horizon, padding, splits."""

import numpy as np
import pytest
from conftest import EXAMPLES

from zoo.data import ts_dataset
from zoo.data.raw import RawSeries, apply_missing_policy, assemble_dataset
from zoo.errors import ZooError

pytestmark = pytest.mark.unit


def raw(series, labels=None, source="train.ts", **extra):
    return RawSeries(
        series=[np.asarray(s, dtype="float64").reshape(len(s), -1) for s in series],
        labels=labels,
        origins=[f"{source}, line {i + 1}" for i in range(len(series))],
        source=source,
        **extra,
    )


def test_interpolation_fills_gaps_linearly_and_ends_with_the_nearest_value():
    filled = apply_missing_policy(raw([[np.nan, 1, np.nan, 3, np.nan]]), "interpolate")
    np.testing.assert_array_equal(filled.series[0][:, 0], [1, 1, 2, 3, 3])


def test_drop_and_error_policies():
    data = raw([[1, np.nan, 3], [1, 2, 3]], labels=["a", "b"])
    dropped = apply_missing_policy(data, "drop")
    assert len(dropped.series) == 1 and dropped.labels == ["b"]
    with pytest.raises(ZooError, match=r"train.ts, line 1: missing values \(1 series have some\); set data.missing=interpolate"):
        apply_missing_policy(data, "error")
    with pytest.raises(ZooError, match="a channel has no value at all"):
        apply_missing_policy(raw([[np.nan, np.nan]]), "interpolate")


def test_no_nan_ever_reaches_the_arrays():
    dataset = ts_dataset(train_path=EXAMPLES / "tiny_TRAIN.ts", test_path=EXAMPLES / "tiny_TEST.ts", seed=0)
    for split in ("train", "validation", "test"):
        assert np.isfinite(dataset.split(split).series).all()
    assert dataset.spec.variable_length and dataset.class_names == ["damped", "sine"]
    assert len(dataset.test) == 34 and len(dataset.train) + len(dataset.validation) == 155


def test_labels_map_to_sorted_indices_and_unseen_test_labels_are_refused():
    train = raw([[1, 2]] * 4, labels=["10", "9", "10", "2"])
    dataset = assemble_dataset(train, raw([[1, 2]], labels=["9"], source="test.ts"), val_fraction=0.25, seed=0)
    assert dataset.class_names == ["2", "9", "10"]  # numeric labels sort as numbers
    assert dataset.test.labels.tolist() == [1]
    with pytest.raises(ZooError, match=r"test.ts, line 1: class label '7' never appears in the training file train.ts"):
        assemble_dataset(train, raw([[1, 2]], labels=["7"], source="test.ts"), val_fraction=0.25)


def test_horizon_holds_out_the_last_steps_of_each_series():
    data = raw([[1, 2, 3, 4, 5], [10, 20, 30]], labels=["a", "b"])
    dataset = assemble_dataset(data, raw([[7, 8, 9, 10]], labels=["a"], source="t"), horizon=2, val_fraction=0.5, normalize="global", seed=0)
    scaler = dataset.scaler
    test = dataset.test
    assert test.lengths.tolist() == [2] and dataset.spec.timesteps == 3 and dataset.spec.horizon == 2
    np.testing.assert_allclose(scaler.inverse_transform(test.future)[0, :, 0], [9, 10], atol=1e-5)
    np.testing.assert_allclose(scaler.inverse_transform(test.series)[0, :2, 0], [7, 8], atol=1e-5)
    with pytest.raises(ZooError, match="the series has 3 steps, too few to hold out data.horizon=3"):
        assemble_dataset(data, horizon=3)


def test_dimensions_must_agree_between_files():
    with pytest.raises(ZooError, match="test.ts, line 1: 2 dimensions, but the training data has 1"):
        assemble_dataset(raw([[1, 2], [3, 4]], labels=["a", "b"]), raw([[[1, 2], [3, 4]]], labels=["a"], source="test.ts"), val_fraction=0.5)


def test_max_series_caps_each_file_by_seed():
    data = raw([[i, i + 1] for i in range(50)], labels=["a", "b"] * 25)
    first = assemble_dataset(data, max_series=20, seed=3)
    again = assemble_dataset(data, max_series=20, seed=3)
    assert len(first.train) + len(first.validation) + len(first.test) == 20
    np.testing.assert_array_equal(first.train.series, again.train.series)


def test_an_infinite_value_names_its_series_and_is_not_called_missing():
    data = raw([[1, 2, 3], [1, np.inf, 3]], labels=["a", "b"])
    for policy in ("interpolate", "drop", "error"):
        with pytest.raises(ZooError, match=r"train.ts, line 2: holds an infinite value, which no missing-value policy fills"):
            apply_missing_policy(data, policy)


def test_huge_values_scale_in_float64_instead_of_collapsing_to_zero():
    rng = np.random.default_rng(0)
    series = [list(1e30 * (1 + rng.normal(size=12))) for _ in range(20)]
    dataset = assemble_dataset(
        raw(series, labels=["a", "b"] * 10), val_fraction=0.2, test_fraction=0.2, normalize="global", seed=0
    )
    assert np.isfinite(dataset.scaler.std).all() and dataset.scaler.std[0] > 1e29
    scaled = dataset.train.series[dataset.train.mask]
    assert abs(scaled.mean()) < 0.2 and 0.8 < scaled.std() < 1.2
    # Per-series scaling (the file default) takes its moments in float64 too.
    per_series = assemble_dataset(raw(series, labels=["a", "b"] * 10), val_fraction=0.2, test_fraction=0.2, seed=0)
    for row in per_series.train.series:
        assert abs(row.mean()) < 1e-5 and abs(row.std() - 1.0) < 1e-5
