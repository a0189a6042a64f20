"""cnn_lstm: sub-sequence reshape, one shared Conv1D, and padding for lengths n_sub does not divide."""

import keras
import numpy as np
import pytest
from model_checks import check_model, toy_dataset

from zoo import ZooError, create_model

pytestmark = pytest.mark.unit


def test_subsequence_shapes_and_shared_convolution():
    model = check_model("cnn_lstm", "classify", units=4, n_sub=2, filters=5, kernel_size=3, pool_size=2)
    # The input length is fixed (TimeDistributed needs a static sub-sequence axis in Keras 3.15).
    assert tuple(model.inputs[0].shape) == (None, 8, 2)
    assert tuple(model.get_layer("split_subsequences").output.shape) == (None, 2, 4, 2)
    assert tuple(model.get_layer("subsequence_conv").output.shape) == (None, 2, 4, 5)
    assert tuple(model.get_layer("subsequence_pool").output.shape) == (None, 2, 2, 5)
    assert tuple(model.get_layer("subsequence_flatten").output.shape) == (None, 2, 10)
    inputs = {"series": np.zeros((3, 8, 2), "float32")}
    split = keras.Model(model.inputs, model.get_layer("subsequence_flatten").output).predict(inputs, verbose=0)
    assert split.shape == (3, 2, 10)
    # One kernel and one bias for every sub-sequence.
    assert [tuple(w.shape) for w in model.get_layer("subsequence_conv").weights] == [(3, 2, 5), (5,)]


def test_length_not_divisible_by_n_sub_is_padded_to_a_multiple():
    # 150 steps in 4 sub-sequences: padded to 152, 38 steps each (a UCR-like length).
    dataset = toy_dataset(length=150, n_samples=12)
    model = check_model("cnn_lstm", "classify", dataset, units=4, n_sub=4, filters=3, pool_size=2)
    assert tuple(model.inputs[0].shape) == (None, 150, 2)
    assert tuple(model.get_layer("pad_to_subsequences").output.shape) == (None, 152, 2)
    assert tuple(model.get_layer("split_subsequences").output.shape) == (None, 4, 38, 2)
    # The padding is zeros after the series, nothing else moves.
    series = np.random.default_rng(0).normal(size=(2, 150, 2)).astype("float32")
    padded = keras.Model(model.inputs, model.get_layer("pad_to_subsequences").output).predict(series, verbose=0)
    np.testing.assert_array_equal(padded[:, :150], series)
    np.testing.assert_array_equal(padded[:, 150:], 0.0)


def test_variable_lengths_not_divisible_by_n_sub_pad_the_mask_with_false():
    dataset = toy_dataset(length=10, min_length=3, n_samples=16)
    model = check_model("cnn_lstm", "classify", dataset, units=4, n_sub=4, filters=3, pool_size=1)
    mask = np.arange(10)[None, :] < np.array([10, 7, 3])[:, None]
    inputs = {"series": np.ones((3, 10, 2), "float32"), "mask": mask}
    padded_mask = keras.Model(model.inputs, model.get_layer("pad_mask_to_subsequences").output).predict(inputs, verbose=0)
    np.testing.assert_array_equal(padded_mask, np.concatenate([mask, np.zeros((3, 2), bool)], axis=1))
    # Sub-sequences of 3 steps: valid while any of their steps is.
    windows = keras.Model(model.inputs, model.get_layer("subsequence_mask").output).predict(inputs, verbose=0)
    np.testing.assert_array_equal(windows, [[1, 1, 1, 1], [1, 1, 1, 0], [1, 0, 0, 0]])


def test_more_subsequences_than_steps_is_a_clear_error():
    with pytest.raises(ZooError, match=r"cannot split 8-step series into n_sub=9 sub-sequences: choose n_sub <= 8"):
        create_model("cnn_lstm", toy_dataset().spec, n_sub=9)


def test_pool_longer_than_a_subsequence_is_a_clear_error():
    with pytest.raises(ZooError, match="pool_size=4 is longer than a sub-sequence"):
        create_model("cnn_lstm", toy_dataset().spec, n_sub=4, pool_size=4)
