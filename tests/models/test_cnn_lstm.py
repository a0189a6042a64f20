"""cnn_lstm: sub-sequence reshape, one shared Conv1D, and a clear error for lengths n_sub does not divide."""

import keras
import numpy as np
import pytest

from model_checks import check_model, toy_dataset
from zoo import ZooError, create_model


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


def test_length_not_divisible_by_n_sub_is_a_clear_error():
    with pytest.raises(ZooError, match=r"length 8 is not divisible by 3: choose n_sub from \[1, 2, 4, 8\]"):
        create_model("cnn_lstm", toy_dataset().spec, n_sub=3)


def test_pool_longer_than_a_subsequence_is_a_clear_error():
    with pytest.raises(ZooError, match="pool_size=4 is longer than a sub-sequence"):
        create_model("cnn_lstm", toy_dataset().spec, n_sub=4, pool_size=4)
