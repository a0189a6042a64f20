"""lstm_fcn and fcn: the FCN branch's shapes, the dimension shuffle, attention, masks and saving."""

import dataclasses

import keras
import numpy as np
import pytest
from model_checks import check_model, toy_dataset

from zoo import ZooError, create_model

pytestmark = pytest.mark.unit


@pytest.fixture(scope="session")  # made once per test process, however its tests are ordered
def dataset():
    return toy_dataset(length=20, n_samples=24)


def test_fcn_blocks_and_global_pooling(dataset):
    model = check_model("fcn", "classify", dataset, filters=[6, 8, 5], kernel_sizes=[8, 5, 3])
    # "same" padding keeps every step; the pooling leaves one vector of the last block's filters.
    assert [tuple(model.get_layer(f"fcn_conv_{i}").output.shape) for i in range(3)] == [
        (None, None, 6), (None, None, 8), (None, None, 5)
    ]  # fmt: skip
    assert tuple(model.get_layer("fcn_global_average").output.shape) == (None, 5)
    assert tuple(model.get_layer("fcn_conv_0").kernel.shape) == (8, 2, 6)
    # No recurrent layer anywhere: the reference without recurrence.
    assert not any(isinstance(layer, keras.layers.RNN) for layer in model.layers)


def test_lstm_fcn_dimension_shuffle_reads_each_channel_as_one_step(dataset):
    model = check_model("lstm_fcn", "classify", dataset, units=4, filters=[4, 4, 4], dimension_shuffle=True)
    # (batch, 20 steps, 2 channels) -> (batch, 2 steps, 20 values): the LSTM runs 2 steps.
    assert tuple(model.get_layer("dimension_shuffle").output.shape) == (None, 2, 20)
    assert tuple(model.get_layer("encoder_lstm_0").cell.kernel.shape) == (20, 16)
    series = np.random.default_rng(0).normal(size=(3, 20, 2)).astype("float32")
    shuffled = keras.Model(model.inputs, model.get_layer("dimension_shuffle").output).predict(series, verbose=0)
    np.testing.assert_array_equal(shuffled, series.transpose(0, 2, 1))
    # The two branches meet before the head: LSTM units + the last block's filters.
    assert tuple(model.get_layer("branches").output.shape) == (None, 4 + 4)


def test_lstm_fcn_without_shuffle_reads_the_series_step_by_step(dataset):
    model = check_model("lstm_fcn", "classify", dataset, units=4, filters=[4, 4, 4], dimension_shuffle=False)
    assert tuple(model.get_layer("encoder_lstm_0").cell.kernel.shape) == (2, 16)
    with pytest.raises(ValueError):
        model.get_layer("dimension_shuffle")


@pytest.mark.parametrize("n_features, shuffled", [(1, True), (2, False)])
def test_the_shuffle_is_auto_on_one_channel_only(dataset, n_features, shuffled):
    spec = dataclasses.replace(dataset.spec, n_features=n_features)
    model = create_model("lstm_fcn", spec, units=4, filters=[4, 4, 4])
    assert ("dimension_shuffle" in [layer.name for layer in model.layers]) == shuffled
    # Shuffled, each LSTM step is a channel's 20 values; otherwise a time step's channels.
    assert tuple(model.get_layer("encoder_lstm_0").cell.kernel.shape) == (20 if shuffled else n_features, 16)
    with pytest.raises(ZooError, match="dimension_shuffle"):
        create_model("lstm_fcn", spec, units=4, filters=[4, 4, 4], dimension_shuffle="sometimes")


@pytest.mark.parametrize("shuffle", [True, False])
def test_alstm_fcn_pools_the_lstm_outputs_with_attention(dataset, shuffle):
    model = check_model(
        "lstm_fcn", "classify", dataset, units=4, filters=[4, 4, 4], attention=True, dimension_shuffle=shuffle
    )
    _, weights = model.get_layer("attention_pooling").output
    steps = 2 if shuffle else 20  # channels when shuffled, time steps otherwise
    series = np.random.default_rng(1).normal(size=(3, 20, 2)).astype("float32")
    values = keras.Model(model.inputs, weights).predict(series, verbose=0)
    assert values.shape == (3, steps)
    np.testing.assert_allclose(values.sum(axis=1), 1.0, rtol=1e-5)


def test_lstm_fcn_uses_the_papers_dropout_on_the_lstm_branch_only(dataset):
    model = create_model("lstm_fcn", dataset.spec, units=4, filters=[4, 4, 4], dropout=0.8)
    assert model.get_layer("lstm_dropout").rate == 0.8
    with pytest.raises(ValueError):
        model.get_layer("head_dropout")


def test_unequal_filters_and_kernels_are_a_clear_error(dataset):
    with pytest.raises(ZooError, match=r"filters \[128, 256\] and kernel_sizes \[8, 5, 3\] must be non-empty and equally long"):
        create_model("fcn", dataset.spec, filters=[128, 256], kernel_sizes=[8, 5, 3])
