"""The classifier from the LSTM's last state: `return_sequences=False`, then the head."""

import keras

from zoo.models.backbone import recurrent_backbone, series_inputs
from zoo.models.heads import head_output
from zoo.registry import register_model


@register_model
def last_state(spec, *, head="classify", cell="lstm", units=64, num_layers=1, dropout=0.0, bidirectional=False):
    """Builds a recurrent stack whose last layer returns only its final output, `h` at the last valid step.

    With a mask the last layer's output is the state after the last *valid* step, so
    right-padding does not change the prediction.

    Args:
        spec: DataSpec. Input shape, class count and horizon.
        head: "classify" or "forecast". Defaults to "classify".
        cell: "lstm" or "gru". Defaults to "lstm".
        units: int. Units per direction. Defaults to 64.
        num_layers: int. Stacked recurrent layers. Defaults to 1.
        dropout: float. Dropout between layers and before the head. Defaults to 0.
        bidirectional: bool. Defaults to False.

    Returns:
        A `keras.Model` named "last_state" mapping `series` `(batch, timesteps, n_features)`
        to `(batch, n_classes)` or `(batch, horizon, n_features)`.
    """
    inputs = series_inputs(spec)
    backbone = recurrent_backbone(
        inputs["series"],
        cell=cell,
        units=units,
        num_layers=num_layers,
        dropout=dropout,
        bidirectional=bidirectional,
        return_sequences=False,
        mask=inputs.get("mask"),
    )
    outputs = head_output(backbone["output"], spec, head, dropout=dropout)
    return keras.Model(inputs, outputs, name="last_state")
