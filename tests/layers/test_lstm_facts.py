"""Facts about real Keras LSTM layers that the zoo's architectures rely on."""

import keras
import numpy as np
import pytest
from keras import ops

pytestmark = pytest.mark.unit

BATCH, STEPS, FEATURES, UNITS = 2, 5, 3, 4


@pytest.fixture
def series():
    return np.random.default_rng(0).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")


def test_full_sequence_and_states_line_up(series):
    layer = keras.layers.LSTM(UNITS, return_sequences=True, return_state=True)
    sequence, h, c = (np.asarray(t) for t in layer(series))
    assert sequence.shape == (BATCH, STEPS, UNITS) and h.shape == (BATCH, UNITS) and c.shape == (BATCH, UNITS)
    np.testing.assert_allclose(sequence[:, -1], h, atol=1e-6)
    assert not np.allclose(h, c)


def test_return_state_only_gives_output_equal_to_h(series):
    layer = keras.layers.LSTM(UNITS, return_state=True)
    output, h, c = (np.asarray(t) for t in layer(series))
    assert output.shape == (BATCH, UNITS)
    np.testing.assert_allclose(output, h, atol=1e-6)
    assert not np.allclose(h, c)


def test_weight_shapes_and_parameter_count():
    layer = keras.layers.LSTM(UNITS)
    layer.build((None, STEPS, FEATURES))
    kernel, recurrent_kernel, bias = layer.get_weights()
    assert kernel.shape == (FEATURES, 4 * UNITS)
    assert recurrent_kernel.shape == (UNITS, 4 * UNITS)
    assert bias.shape == (4 * UNITS,)
    assert layer.count_params() == 4 * UNITS * (FEATURES + UNITS + 1)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_numpy_unroll_with_the_layers_weights_reproduces_it(series):
    """Gate order i, f, c, o; c_t = f c_{t-1} + i tanh(.); h_t = o tanh(c_t)."""
    layer = keras.layers.LSTM(UNITS, return_sequences=True, return_state=True)
    sequence, h_last, c_last = (np.asarray(t) for t in layer(series))
    kernel, recurrent_kernel, bias = layer.get_weights()
    h = np.zeros((BATCH, UNITS), "float32")
    c = np.zeros((BATCH, UNITS), "float32")
    outputs = []
    for t in range(STEPS):
        z = series[:, t] @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = np.split(z, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        outputs.append(h)
    np.testing.assert_allclose(np.stack(outputs, axis=1), sequence, atol=1e-5)
    np.testing.assert_allclose(h, h_last, atol=1e-5)
    np.testing.assert_allclose(c, c_last, atol=1e-5)


def test_stepping_the_layers_own_cell_reproduces_it(series):
    layer = keras.layers.LSTM(UNITS, return_sequences=True, return_state=True)
    sequence, h_last, c_last = (np.asarray(t) for t in layer(series))
    states = [ops.zeros((BATCH, UNITS)), ops.zeros((BATCH, UNITS))]
    outputs = []
    for t in range(STEPS):
        output, states = layer.cell(series[:, t], states)
        outputs.append(np.asarray(output))
    np.testing.assert_allclose(np.stack(outputs, axis=1), sequence, atol=1e-5)
    np.testing.assert_allclose(np.asarray(states[0]), h_last, atol=1e-5)
    np.testing.assert_allclose(np.asarray(states[1]), c_last, atol=1e-5)


def test_per_step_vectors_through_one_shared_dense_equal_the_vectorised_op(series):
    sequence = np.asarray(keras.layers.LSTM(UNITS, return_sequences=True)(series))
    dense = keras.layers.Dense(6)
    per_step = np.stack([np.asarray(dense(sequence[:, t])) for t in range(STEPS)], axis=1)
    distributed = keras.layers.TimeDistributed(dense)
    np.testing.assert_allclose(np.asarray(distributed(sequence)), per_step, atol=1e-6)
    np.testing.assert_allclose(np.asarray(dense(sequence)), per_step, atol=1e-6)
    # One set of weights whatever the sequence length.
    longer = np.concatenate([sequence, sequence], axis=1)
    assert np.asarray(distributed(longer)).shape == (BATCH, 2 * STEPS, 6)
    assert len(distributed.weights) == 2 and distributed.count_params() == UNITS * 6 + 6


def test_flatten_permute_and_conv1d_along_time(series):
    sequence = keras.layers.LSTM(UNITS, return_sequences=True)(series)
    assert tuple(keras.layers.Flatten()(sequence).shape) == (BATCH, STEPS * UNITS)
    # Permute((2, 1)) gives the (batch, units, steps) layout a channels-first reader expects.
    permuted = keras.layers.Permute((2, 1))(sequence)
    np.testing.assert_array_equal(np.asarray(permuted), np.transpose(np.asarray(sequence), (0, 2, 1)))
    # Conv1D slides one (kernel, units, filters) kernel along time: a NumPy reference of that sum.
    # (Not run as data_format="channels_first": TensorFlow's CPU kernels implement NCHW convolution
    # only when oneDNN is on, which TensorFlow decides by CPU, so the zoo never relies on it.)
    convolution = keras.layers.Conv1D(6, 3)
    result = np.asarray(convolution(sequence))
    kernel, bias = convolution.get_weights()
    values = np.asarray(sequence)
    expected = np.stack(
        [np.einsum("bku,kuf->bf", values[:, t : t + 3], kernel) + bias for t in range(STEPS - 2)], axis=1
    )
    assert result.shape == (BATCH, STEPS - 2, 6)
    np.testing.assert_allclose(result, expected, atol=1e-5)
