"""The classifier from the LSTM's last state: `return_sequences=False`, then the head."""

import keras

from zoo.models.backbone import series_backbone, series_inputs
from zoo.models.heads import head_output
from zoo.registry import register_model


@register_model
def last_state(
    spec,
    *,
    head="classify",
    cell="lstm",
    units=64,
    num_layers=1,
    dropout=0.0,
    bidirectional=False,
    static_mode="concat",
):
    """Builds a recurrent stack whose last layer returns only its final output, `h` at the last valid step.

    Masking: the recurrent layers skip padded steps, so the output is the state after each
    series' last valid step and a padded series predicts exactly as it would alone.

    Args:
        spec: DataSpec. Input shape, class count and horizon.
        head: "classify", "forecast" or "regress". Defaults to "classify".
        cell: "lstm" or "gru". Defaults to "lstm".
        units: int. Units per direction. Defaults to 64.
        num_layers: int. Stacked recurrent layers. Defaults to 1.
        dropout: float. Dropout between layers and before the head. Defaults to 0.
        bidirectional: bool. Defaults to False.
        static_mode: "concat" or "initial_state": how static covariates enter (if the data has any).

    Returns:
        A `keras.Model` named "last_state" mapping `series` `(batch, timesteps, n_features)`
        to `(batch, n_classes)`, `(batch, horizon, n_features)` or `(batch, 1)`.
    """
    inputs = series_inputs(spec)
    backbone = series_backbone(
        inputs,
        cell=cell,
        units=units,
        num_layers=num_layers,
        dropout=dropout,
        bidirectional=bidirectional,
        static_mode=static_mode,
        return_sequences=False,
    )
    outputs = head_output(backbone["output"], spec, head, dropout=dropout)
    return keras.Model(inputs, outputs, name="last_state")
