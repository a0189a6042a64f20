"""Attention over the LSTM's per-step outputs: `return_sequences=True`, each step scored, softmax-pooled."""

import keras

import zoo.layers  # Keras layers: looked up when a model is built, so importing a model imports no Keras
from zoo.models.inputs import series_inputs
from zoo.models.recurrent import RecurrentOptions, series_encoder
from zoo.registry import register_model
from zoo.tasks import get_task
from zoo.validation import positive_int


def attention_weights_model(model):
    """Returns a model with the same inputs that outputs `{"prediction", "attention_weights"}`.

    Args:
        model: a trained (or reloaded) `attention` model.

    Returns:
        A `keras.Model` whose `attention_weights` are `(batch, timesteps)`, each row summing to 1.
    """
    _, weights = model.get_layer("attention_pooling").output
    return keras.Model(model.inputs, {"prediction": model.outputs[0], "attention_weights": weights})


def check_values(*, attention_units):
    """Raises a ZooError for an attention option out of range; needs no Keras (`ModelInfo.check`)."""
    positive_int("attention_units", attention_units)


@register_model(recurrent=True, check=check_values, test_options={"units": 4}, attention_weights=attention_weights_model)
def attention(spec, *, head="classify", attention_units=32, **recurrent):
    """Builds an LSTM whose `(batch, timesteps, units)` output is pooled by learned attention weights.

    The pooling layer is named "attention_pooling"; `attention_weights_model` (registered as the
    model's `attention_weights` capability) exposes its weights.
    Masking: padded steps get attention weight exactly 0 and the softmax is taken over valid
    steps only, so a padded series predicts exactly as it would alone.

    Args:
        spec: DataSpec. Input shape, class count and horizon.
        head: "classify", "forecast" or "regress". Defaults to "classify".
        attention_units: int. Size of the scoring space. Defaults to 32.
        **recurrent: the shared `RecurrentOptions` (cell, units, num_layers, dropout,
            bidirectional, static_mode).

    Returns:
        A `keras.Model` named "attention".
    """
    options = RecurrentOptions(**recurrent)
    check_values(attention_units=attention_units)
    inputs = series_inputs(spec)
    encoded = series_encoder(inputs, options, return_sequences=True)
    mask = encoded["mask"]
    context, _ = zoo.layers.AttentionPooling(attention_units, name="attention_pooling")(encoded["output"], mask=mask)
    outputs = get_task(head).output(context, spec, dropout=options.dropout)
    return keras.Model(inputs, outputs, name="attention")

