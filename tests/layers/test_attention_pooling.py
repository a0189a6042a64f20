"""AttentionPooling: shared scoring, softmax over time, zero weight on masked steps, save/reload."""

import keras
import numpy as np
import pytest

from zoo.layers import AttentionPooling

pytestmark = pytest.mark.unit


def test_weights_sum_to_one_and_context_is_the_weighted_sum():
    inputs = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    context, weights = (np.asarray(t) for t in AttentionPooling(3)(inputs))
    assert context.shape == (2, 4) and weights.shape == (2, 5)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(context, np.einsum("bt,btd->bd", weights, inputs), atol=1e-5)


def test_masked_steps_get_zero_weight_and_padding_values_do_not_matter():
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(2, 6, 4)).astype("float32")
    mask = np.array([[True] * 6, [True] * 3 + [False] * 3])
    layer = AttentionPooling(3)
    context, weights = (np.asarray(t) for t in layer(inputs, mask=mask))
    assert (weights[1, 3:] == 0).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    changed = inputs.copy()
    changed[1, 3:] = 1e3
    context_changed, _ = (np.asarray(t) for t in layer(changed, mask=mask))
    np.testing.assert_allclose(context_changed, context, atol=1e-5)
    # Same as running the short series alone.
    alone, _ = (np.asarray(t) for t in layer(inputs[1:, :3]))
    np.testing.assert_allclose(context[1:], alone, atol=1e-5)


def test_scoring_weights_do_not_depend_on_sequence_length():
    layer = AttentionPooling(3)
    layer(np.zeros((1, 5, 4), "float32"))
    layer(np.zeros((1, 11, 4), "float32"))
    assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (3,), (3,)]


def test_save_and_reload_round_trip(tmp_path):
    inputs = keras.Input((5, 4))
    context, _ = AttentionPooling(3, name="pool")(inputs)
    model = keras.Model(inputs, context)
    data = np.random.default_rng(2).normal(size=(3, 5, 4)).astype("float32")
    model.save(tmp_path / "pool.keras")
    reloaded = keras.saving.load_model(tmp_path / "pool.keras")
    assert isinstance(reloaded.get_layer("pool"), AttentionPooling)
    np.testing.assert_array_equal(reloaded.predict(data, verbose=0), model.predict(data, verbose=0))
