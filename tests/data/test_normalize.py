"""data.normalize: series (per series and channel, the UCR convention), global (the training split's scaler) or none."""

import dataclasses

import numpy as np
import pytest
from conftest import compose_config

from zoo import ZooError
from zoo.config import check_normalization
from zoo.data import SeriesSplit, Standardizer
from zoo.data.dataset import prepare_dataset
from zoo.training.adaptive import LEVEL_SEPARATION_F, level_separation
from zoo.runs.directory import write_json_atomically

pytestmark = pytest.mark.unit


def raw_split(seed=0):
    rng = np.random.default_rng(seed)
    lengths = np.array([6, 4, 2], dtype="int32")
    # Channels on very different levels and scales, different per series.
    series = (rng.normal(size=(3, 6, 2)) * [[[1.0, 100.0]], [[5.0, 0.1]], [[2.0, 3.0]]] + [[[10.0, -50.0]]]).astype("float32")
    mask = np.arange(6)[None, :] < lengths[:, None]
    series[~mask] = 0.0
    future = rng.normal(size=(3, 2, 2)).astype("float32")
    return SeriesSplit(series, np.array([0, 1, 0], dtype="int32"), future, lengths)


def test_series_normalisation_gives_each_series_and_channel_mean_0_std_1_on_valid_steps():
    split = raw_split()
    scaled = Standardizer.fit(split, "series").transform(split)
    for row, length in zip(scaled.series, split.lengths):
        np.testing.assert_allclose(row[:length].mean(axis=0), 0.0, atol=1e-5)
        np.testing.assert_allclose(row[:length].std(axis=0), 1.0, atol=1e-5)
        np.testing.assert_array_equal(row[length:], 0.0)  # padding stays zero


def test_series_normalisation_ignores_level_and_scale():
    split = raw_split()
    shifted = SeriesSplit(split.series * 7.0 + 3.0, split.labels, split.future, split.lengths)
    shifted.series[~split.mask] = 0.0
    scaler = Standardizer.fit(split, "series")
    np.testing.assert_allclose(scaler.transform(shifted).series, scaler.transform(split).series, atol=1e-4)


def test_global_normalisation_uses_the_training_statistics():
    split = raw_split()
    scaler = Standardizer.fit(split, "global")
    valid = split.series[split.mask]
    np.testing.assert_allclose(scaler.mean, valid.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(scaler.transform(split).series[split.mask], (valid - valid.mean(0)) / valid.std(0), rtol=1e-4, atol=1e-5)


def test_none_keeps_the_series_in_their_units():
    split = raw_split()
    np.testing.assert_array_equal(Standardizer.fit(split, "none").transform(split).series, split.series)


def test_the_choice_survives_scaler_json(tmp_path):
    split = raw_split()
    scaler = Standardizer.fit(split, "series")
    write_json_atomically(tmp_path / "scaler.json", scaler.to_dict())  # as a run writes it
    reloaded = Standardizer.load(tmp_path / "scaler.json")
    assert reloaded.normalize == "series" and reloaded.allclose(scaler)
    assert not reloaded.allclose(Standardizer.fit(split, "global"))
    np.testing.assert_array_equal(reloaded.transform(split).series, scaler.transform(split).series)


def test_an_unknown_choice_is_a_clear_error():
    split = raw_split()
    with pytest.raises(ZooError, match="data.normalize, expected one of"):
        prepare_dataset(split, split, split, n_classes=2, normalize="minmax")


def two_channel_split():
    """60 series of 2 channels, 3 classes of sines (amplitudes 1, 2, 3) whose levels follow the class."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20).astype("int32")
    levels = labels[:, None] * 5.0
    series = (np.sin(np.linspace(0, 6, 16))[None, :, None] * (1 + labels[:, None, None]) + levels[:, :, None]
              + rng.normal(0.0, 0.1, size=(60, 16, 2))).astype("float32")  # fmt: skip
    lengths = np.full(60, 16, dtype="int32")
    return SeriesSplit(series, labels, np.zeros((60, 1, 2), "float32"), lengths)


def noise_split(labels):
    """60 series of 2 channels: noise at a random level per series and channel, whatever the class."""
    series = np.random.default_rng(1).normal(size=(60, 16, 2)) + np.random.default_rng(2).normal(0, 5, size=(60, 1, 2))
    return SeriesSplit(series.astype("float32"), labels, np.zeros((60, 1, 2), "float32"), np.full(60, 16, dtype="int32"))


def test_level_separation_is_large_where_levels_follow_the_class_and_small_where_they_are_noise():
    informative = two_channel_split()
    noise = noise_split(informative.labels)
    assert level_separation(informative.series, informative.mask, informative.labels) > 1000
    assert level_separation(noise.series, noise.mask, noise.labels) < LEVEL_SEPARATION_F
    assert level_separation(noise.series, noise.mask, None) is None


def test_auto_is_series_for_one_channel_and_for_levels_that_are_noise_and_global_where_levels_carry_the_class():
    informative = two_channel_split()
    noise = noise_split(informative.labels)
    univariate = SeriesSplit(informative.series[:, :, :1], informative.labels, informative.future[:, :, :1], informative.lengths)
    for split, expected in ((univariate, "series"), (informative, "global"), (noise, "series")):
        dataset = prepare_dataset(split, split, split, n_classes=3, normalize="auto")
        assert dataset.scaler.normalize == expected and dataset.resolved == {"normalize": expected}
        np.testing.assert_array_equal(dataset.train.series, Standardizer.fit(split, expected).transform(split).series)
    unlabelled = dataclasses.replace(noise, labels=np.zeros(60, "int32"))
    assert prepare_dataset(unlabelled, unlabelled, unlabelled, n_classes=0, normalize="auto").scaler.normalize == "global"
    assert prepare_dataset(univariate, univariate, univariate, n_classes=3, normalize="global").resolved is None


def test_defaults_are_decided_by_the_data_and_global_for_forecasts():
    ts = ["data=ts", "data.train_path=x_TRAIN.ts"]
    assert compose_config("train", ts).data.normalize == "auto"
    assert compose_config("train", [*ts, "model.head=forecast"]).data.normalize == "global"
    assert compose_config("train", ["model=seq2seq", "data=ts", "data.train_path=x"]).data.normalize == "global"


def test_series_normalisation_with_a_forecast_is_refused():
    cfg = compose_config("train", ["model=seq2seq", "data.normalize=series"])
    with pytest.raises(ZooError, match="data.normalize=series .* set data.normalize=global"):
        check_normalization(cfg)
