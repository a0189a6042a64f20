"""lstm_conv1d: Conv1D along time over the LSTM's output sequence."""

import keras
import numpy as np
import pytest
from model_checks import check_model

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "pooling, steps, reduced",
    [("global_average", None, (None, 6)), ("global_max", None, (None, 6)), ("flatten", 8, (None, 24))],
)
def test_convolution_runs_along_time_over_lstm_outputs(pooling, steps, reduced):
    model = check_model("lstm_conv1d", "classify", units=4, filters=6, kernel_size=3, pool_size=2, pooling=pooling)
    pooled = None if steps is None else steps // 2  # flatten fixes the length; global pooling leaves it open
    assert tuple(model.get_layer("encoder_lstm_0").output[0].shape) == (None, steps, 4)
    conv = model.get_layer("time_conv")
    assert tuple(conv.output.shape) == (None, steps, 6) and tuple(conv.kernel.shape) == (3, 4, 6)
    assert tuple(model.get_layer("time_pool").output.shape) == (None, pooled, 6)
    assert tuple(model.get_layer("time_reduce").output.shape) == reduced
    probe = keras.Model(model.inputs, model.get_layer("time_pool").output)
    assert probe.predict({"series": np.zeros((2, 8, 2), "float32")}, verbose=0).shape == (2, 4, 6)
