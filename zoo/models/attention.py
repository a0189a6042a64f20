"""Attention over the LSTM's per-step outputs: `return_sequences=True`, each step scored, softmax-pooled."""

import keras

from zoo.layers import AttentionPooling
from zoo.models.backbone import series_backbone, series_inputs
from zoo.models.heads import head_output
from zoo.registry import register_model
from zoo.validation import positive_int


@register_model
def attention(
    spec,
    *,
    head="classify",
    cell="lstm",
    units=64,
    num_layers=1,
    dropout=0.0,
    bidirectional=False,
    static_mode="concat",
    attention_units=32,
):
    """Builds an LSTM whose `(batch, timesteps, units)` output is pooled by learned attention weights.

    The pooling layer is named "attention_pooling"; `attention_weights_model` exposes its weights.
    Masking: padded steps get attention weight exactly 0 and the softmax is taken over valid
    steps only, so a padded series predicts exactly as it would alone.

    Args:
        spec: DataSpec. Input shape, class count and horizon.
        head: "classify", "forecast" or "regress". Defaults to "classify".
        cell: "lstm" or "gru". Defaults to "lstm".
        units: int. Units per direction. Defaults to 64.
        num_layers: int. Stacked recurrent layers. Defaults to 1.
        dropout: float. Dropout between layers and before the head. Defaults to 0.
        bidirectional: bool. Defaults to False.
        static_mode: "concat" or "initial_state": how static covariates enter (if the data has any).
        attention_units: int. Size of the scoring space. Defaults to 32.

    Returns:
        A `keras.Model` named "attention".
    """
    positive_int("attention_units", attention_units)
    inputs = series_inputs(spec)
    backbone = series_backbone(
        inputs,
        cell=cell,
        units=units,
        num_layers=num_layers,
        dropout=dropout,
        bidirectional=bidirectional,
        static_mode=static_mode,
        return_sequences=True,
    )
    mask = backbone["mask"]
    context, _ = AttentionPooling(attention_units, name="attention_pooling")(backbone["output"], mask=mask)
    outputs = head_output(context, spec, head, dropout=dropout)
    return keras.Model(inputs, outputs, name="attention")


def attention_weights_model(model):
    """Returns a model with the same inputs that outputs `{"prediction", "attention_weights"}`.

    Args:
        model: a trained (or reloaded) `attention` model.

    Returns:
        A `keras.Model` whose `attention_weights` are `(batch, timesteps)`, each row summing to 1.
    """
    _, weights = model.get_layer("attention_pooling").output
    return keras.Model(model.inputs, {"prediction": model.outputs[0], "attention_weights": weights})
