"""LSTM-Conv1D: Conv1D and pooling along time over the LSTM's output sequence."""

import keras

import zoo.layers  # Keras layers: looked up when a model is built, so importing a model imports no Keras
from zoo.errors import ZooError
from zoo.models.inputs import series_inputs
from zoo.models.recurrent import RecurrentOptions, series_encoder
from zoo.registry import register_model
from zoo.tasks import get_task
from zoo.validation import one_of, positive_int

POOLINGS = ("global_average", "global_max", "flatten")


def check_values(*, filters, kernel_size, pool_size, pooling):
    """Raises a ZooError for a convolution option out of range; needs no Keras (`ModelInfo.check`)."""
    for name, value in (("filters", filters), ("kernel_size", kernel_size), ("pool_size", pool_size)):
        positive_int(name, value)
    one_of("pooling", pooling, POOLINGS)


@register_model(recurrent=True, check=check_values, test_options={"units": 4})
def lstm_conv1d(
    spec, *, head="classify", filters=64, kernel_size=3, pool_size=2, pooling="global_average", **recurrent
):
    """Builds LSTM(`return_sequences=True`) -> Conv1D along time -> MaxPooling1D -> pooling -> head.

    Masking: the LSTM skips padded steps; its outputs there are set to zero, which is exactly
    what the convolution's "same" padding puts beyond the end of an unpadded series. Convolution
    outputs at padded steps are zeroed too (ReLU outputs are >= 0, so max pooling is unchanged),
    and the global pooling reads only windows holding a valid step. A padded series therefore
    predicts exactly as it would alone. `pooling="flatten"` needs equal-length series.

    Args:
        spec: DataSpec. Input shape, class count and horizon.
        head: "classify", "forecast" or "regress". Defaults to "classify".
        filters: int. Conv1D filters. Defaults to 64.
        kernel_size: int. Conv1D kernel along time ("same" padding). Defaults to 3.
        pool_size: int. Max pooling along time after the convolution. Defaults to 2.
        pooling: "global_average", "global_max" or "flatten" (`(batch, steps * filters)`).
        **recurrent: the shared `RecurrentOptions` (cell, units, num_layers, dropout,
            bidirectional, static_mode).

    Returns:
        A `keras.Model` named "lstm_conv1d".
    """
    options = RecurrentOptions(**recurrent)
    check_values(filters=filters, kernel_size=kernel_size, pool_size=pool_size, pooling=pooling)
    if pooling == "flatten" and spec.variable_length:
        raise ZooError(
            "pooling=flatten gives one weight per time step, so it cannot read series of different lengths: "
            "use pooling=global_average or global_max."
        )
    # Flatten gives one weight per step, so only it needs the length fixed.
    inputs = series_inputs(spec, fixed_length=pooling == "flatten")
    encoded = series_encoder(inputs, options, return_sequences=True)
    mask = encoded["mask"]
    x = encoded["output"]
    if mask is not None:
        x = zoo.layers.MaskSteps(name="zero_padded_outputs")([x, mask])
    x = keras.layers.Conv1D(filters, kernel_size, padding="same", activation="relu", name="time_conv")(x)
    if mask is not None:
        x = zoo.layers.MaskSteps(name="zero_padded_convolutions")([x, mask])
    x = keras.layers.MaxPooling1D(pool_size, padding="same", name="time_pool")(x)
    pooled_mask = None if mask is None else zoo.layers.DownsampleMask(pool_size, name="pooled_mask")(mask)
    if pooling == "global_average":
        x = keras.layers.GlobalAveragePooling1D(name="time_reduce")(x, mask=pooled_mask)
    elif pooling == "global_max":
        # Padded windows hold zeros and ReLU outputs are >= 0, so they never win the max.
        x = keras.layers.GlobalMaxPooling1D(name="time_reduce")(x)
    else:
        x = keras.layers.Flatten(name="time_reduce")(x)
    outputs = get_task(head).output(x, spec, dropout=options.dropout)
    return keras.Model(inputs, outputs, name="lstm_conv1d")
