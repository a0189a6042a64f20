"""LSTM-Conv1D: Conv1D and pooling along time over the LSTM's output sequence."""

import keras

from zoo.models.backbone import recurrent_backbone, series_inputs
from zoo.models.heads import head_output
from zoo.registry import register_model
from zoo.validation import one_of, positive_int

POOLINGS = ("global_average", "global_max", "flatten")


@register_model
def lstm_conv1d(
    spec,
    *,
    head="classify",
    cell="lstm",
    units=64,
    num_layers=1,
    dropout=0.0,
    bidirectional=False,
    filters=64,
    kernel_size=3,
    pool_size=2,
    pooling="global_average",
):
    """Builds LSTM(`return_sequences=True`) -> Conv1D along time -> MaxPooling1D -> pooling -> head.

    Args:
        spec: DataSpec. Input shape, class count and horizon.
        head: "classify" or "forecast". Defaults to "classify".
        cell: "lstm" or "gru". Defaults to "lstm".
        units: int. Units per direction. Defaults to 64.
        num_layers: int. Stacked recurrent layers. Defaults to 1.
        dropout: float. Dropout between layers and before the head. Defaults to 0.
        bidirectional: bool. Defaults to False.
        filters: int. Conv1D filters. Defaults to 64.
        kernel_size: int. Conv1D kernel along time ("same" padding). Defaults to 3.
        pool_size: int. Max pooling along time after the convolution. Defaults to 2.
        pooling: "global_average", "global_max" or "flatten" (`(batch, steps * filters)`).

    Returns:
        A `keras.Model` named "lstm_conv1d".
    """
    for name, value in (("filters", filters), ("kernel_size", kernel_size), ("pool_size", pool_size)):
        positive_int(name, value)
    one_of("pooling", pooling, POOLINGS)
    inputs = series_inputs(spec)
    backbone = recurrent_backbone(
        inputs["series"],
        cell=cell,
        units=units,
        num_layers=num_layers,
        dropout=dropout,
        bidirectional=bidirectional,
        return_sequences=True,
        mask=inputs.get("mask"),
    )
    x = keras.layers.Conv1D(filters, kernel_size, padding="same", activation="relu", name="time_conv")(backbone["output"])
    x = keras.layers.MaxPooling1D(pool_size, padding="same", name="time_pool")(x)
    pool_layers = {
        "global_average": keras.layers.GlobalAveragePooling1D,
        "global_max": keras.layers.GlobalMaxPooling1D,
        "flatten": keras.layers.Flatten,
    }
    x = pool_layers[pooling](name="time_reduce")(x)
    outputs = head_output(x, spec, head, dropout=dropout)
    return keras.Model(inputs, outputs, name="lstm_conv1d")
