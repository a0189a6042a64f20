"""attention: per-step outputs scored by shared weights; weights reachable for plotting."""

import numpy as np
import pytest
from model_checks import check_model, toy_dataset

from zoo.data import model_inputs
from zoo.models.attention import attention_weights_model

pytestmark = pytest.mark.unit


def test_attention_weights_are_per_step_and_sum_to_one():
    dataset = toy_dataset()
    model = check_model("attention", "classify", dataset=dataset, units=4, attention_units=3)
    outputs = attention_weights_model(model).predict(model_inputs(dataset.test, ["series"]), verbose=0)
    weights = outputs["attention_weights"]
    assert weights.shape == (len(dataset.test), dataset.spec.timesteps)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    assert (weights >= 0).all()
    np.testing.assert_allclose(outputs["prediction"], model.predict(model_inputs(dataset.test, ["series"]), verbose=0))


def test_attention_reads_the_full_sequence():
    model = check_model("attention", "classify", units=4)
    lstm = model.get_layer("encoder_lstm_0")
    assert lstm.return_sequences and tuple(lstm.output[0].shape) == (None, None, 4)  # (batch, timesteps, units)
