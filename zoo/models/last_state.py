"""The classifier from the LSTM's last state: `return_sequences=False`, then the head."""

import keras

from zoo.models.inputs import series_inputs
from zoo.models.recurrent import RecurrentOptions, series_encoder
from zoo.registry import register_model
from zoo.tasks import get_task


@register_model(recurrent=True, test_options={"units": 4})
def last_state(spec, *, head="classify", **recurrent):
    """Builds a recurrent stack whose last layer returns only its final output, `h` at the last valid step.

    Masking: the recurrent layers skip padded steps, so the output is the state after each
    series' last valid step and a padded series predicts exactly as it would alone.

    Args:
        spec: DataSpec. Input shape, class count and horizon.
        head: "classify", "forecast" or "regress". Defaults to "classify".
        **recurrent: the shared `RecurrentOptions` (cell, units, num_layers, dropout,
            bidirectional, static_mode).

    Returns:
        A `keras.Model` named "last_state" mapping `series` `(batch, timesteps, n_features)`
        to `(batch, n_classes)`, `(batch, horizon, n_features)` or `(batch, 1)`.
    """
    options = RecurrentOptions(**recurrent)
    inputs = series_inputs(spec)
    encoded = series_encoder(inputs, options, return_sequences=False)
    outputs = get_task(head).output(encoded["output"], spec, dropout=options.dropout)
    return keras.Model(inputs, outputs, name="last_state")
