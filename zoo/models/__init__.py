"""One module per architecture; importing this package registers every builder."""

from zoo.models import (  # noqa: F401 (registers them)
    attention,
    cnn_lstm,
    fcn,
    inception_time,
    last_state,
    lstm_conv1d,
    lstm_fcn,
    seq2seq,
)
