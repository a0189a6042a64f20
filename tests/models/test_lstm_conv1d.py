"""lstm_conv1d: Conv1D along time over the LSTM's output sequence."""

import pytest

from model_checks import check_model


@pytest.mark.parametrize("pooling, reduced", [("global_average", (None, 6)), ("global_max", (None, 6)), ("flatten", (None, 24))])
def test_convolution_runs_along_time_over_lstm_outputs(pooling, reduced):
    model = check_model("lstm_conv1d", "classify", units=4, filters=6, kernel_size=3, pool_size=2, pooling=pooling)
    assert tuple(model.get_layer("encoder_lstm_0").output[0].shape) == (None, 8, 4)
    conv = model.get_layer("time_conv")
    assert tuple(conv.output.shape) == (None, 8, 6) and tuple(conv.kernel.shape) == (3, 4, 6)
    assert tuple(model.get_layer("time_pool").output.shape) == (None, 4, 6)
    assert tuple(model.get_layer("time_reduce").output.shape) == reduced
