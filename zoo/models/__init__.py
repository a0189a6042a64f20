"""One module per architecture; importing this package registers every builder."""

from zoo.models import attention, cnn_lstm, last_state, lstm_conv1d, seq2seq  # noqa: F401 (registers them)
