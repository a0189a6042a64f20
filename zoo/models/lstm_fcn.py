"""LSTM-FCN (Karim et al. 2017): an LSTM branch and the FCN branch in parallel, concatenated before the head."""

import keras

import zoo.layers  # Keras layers: looked up when a model is built, so importing a model imports no Keras
from zoo.models.fcn import (
    FCN_FILTERS,
    FCN_KERNEL_SIZES,
    check_convolution_options,
    convolutional_branch,
)
from zoo.models.inputs import series_inputs
from zoo.models.recurrent import RecurrentOptions, input_features, recurrent_encoder
from zoo.registry import register_model
from zoo.tasks import get_task
from zoo.validation import boolean, positive_int


def check_values(*, dimension_shuffle, attention, attention_units, filters, kernel_sizes):
    """Raises a ZooError for an LSTM-FCN option out of range; needs no Keras (`ModelInfo.check`)."""
    if dimension_shuffle != "auto":
        boolean("dimension_shuffle", dimension_shuffle)
    boolean("attention", attention)
    positive_int("attention_units", attention_units)
    check_convolution_options(filters, kernel_sizes)


@register_model(
    recurrent=True,
    check=check_values,
    fixed_length=True,
    test_options={"units": 4, "filters": [4, 6, 4]},
    learning_test_options={"filters": [32, 64, 32]},
)
def lstm_fcn(
    spec,
    *,
    head="classify",
    dimension_shuffle="auto",
    attention=False,
    attention_units=32,
    filters=FCN_FILTERS,
    kernel_sizes=FCN_KERNEL_SIZES,
    **recurrent,
):
    """Builds LSTM-FCN, or ALSTM-FCN with `attention=True`.

    Two branches read the same series. The convolutional branch is `fcn`'s (Conv1D, batch
    normalisation and ReLU blocks, global average pooling). The recurrent branch is an LSTM whose
    output is dropped out (`dropout`, the paper's 0.8) and concatenated with the pooled features.

    With `dimension_shuffle=True` (the paper's reading) the series is permuted to
    `(features, timesteps)`: the LSTM takes each channel's whole series as one step, so a
    univariate series is one step of `timesteps` values. This is fast on long series and fixes the
    input length to the training data's. With `False` the LSTM reads the series step by step, as
    the multivariate follow-up (MLSTM-FCN, Karim et al. 2019) does. `"auto"` shuffles univariate
    series only: on several channels the shuffle would make a handful of steps, each a whole
    padded channel.
    With `attention=True` the LSTM returns its sequence and the zoo's `zoo.layers.AttentionPooling` pools it
    (over channels when shuffled, over time otherwise).

    Masking: padded steps are zero in both branches; the convolutional branch excludes them from
    its batch statistics and pooling, and the step-by-step LSTM skips them. A padded series
    predicts as it would alone (padded to the training length).

    Args:
        spec: DataSpec. Input shape, class count and horizon.
        head: "classify", "forecast" or "regress". Defaults to "classify".
        dimension_shuffle: bool, or "auto" (True for one channel, False for several). Permute the
            series before the LSTM. Defaults to "auto".
        attention: bool. Attention pooling over the LSTM's outputs (ALSTM-FCN). Defaults to False.
        attention_units: int. Size of the attention scoring space. Defaults to 32.
        filters: list of int. Filters of the convolutional blocks. Defaults to `[128, 256, 128]`.
        kernel_sizes: list of int. Their kernel sizes. Defaults to `[8, 5, 3]`.
        **recurrent: the shared `RecurrentOptions` (cell, units, num_layers, dropout,
            bidirectional, static_mode); `dropout` applies to the LSTM branch's output.

    Returns:
        A `keras.Model` named "lstm_fcn".
    """
    options = RecurrentOptions(**recurrent)
    check_values(
        dimension_shuffle=dimension_shuffle, attention=attention, attention_units=attention_units,
        filters=filters, kernel_sizes=kernel_sizes,
    )
    dimension_shuffle = shuffles(spec, dimension_shuffle)
    filters, kernel_sizes = list(filters), list(kernel_sizes)
    inputs = series_inputs(spec, fixed_length=True)
    x, mask, initial_state = input_features(inputs, options)

    # === Recurrent branch ===
    if dimension_shuffle:
        sequence = keras.layers.Permute((2, 1), name="dimension_shuffle")(x)
        sequence_mask = None  # the steps are now channels, all present
    else:
        sequence, sequence_mask = x, mask
    encoded = recurrent_encoder(
        sequence, options, return_sequences=attention, mask=sequence_mask, initial_state=initial_state
    )
    recurrent_features = encoded["output"]
    if attention:
        recurrent_features, _ = zoo.layers.AttentionPooling(attention_units, name="attention_pooling")(
            recurrent_features, mask=sequence_mask
        )
    if options.dropout:
        recurrent_features = keras.layers.Dropout(options.dropout, name="lstm_dropout")(recurrent_features)

    # === Convolutional branch (on the series without static covariates) ===
    series = inputs["series"]
    if mask is not None:
        series = zoo.layers.MaskSteps(name="fcn_input_padding")([series, mask])
    convolutional_features = convolutional_branch(series, mask, filters=filters, kernel_sizes=kernel_sizes)

    features = keras.layers.Concatenate(name="branches")([recurrent_features, convolutional_features])
    outputs = get_task(head).output(features, spec)
    return keras.Model(inputs, outputs, name="lstm_fcn")


def shuffles(spec, dimension_shuffle):
    """Returns whether the LSTM branch reads the shuffled series: `dimension_shuffle`, or for "auto"
    whether the series has a single channel."""
    if dimension_shuffle == "auto":
        return spec.n_features == 1
    boolean("dimension_shuffle", dimension_shuffle)
    return dimension_shuffle
