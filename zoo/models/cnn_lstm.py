"""CNN-LSTM: a TimeDistributed Conv1D encodes sub-sequences, an LSTM runs over their features."""

import keras

import zoo.layers  # Keras layers: looked up when a model is built, so importing a model imports no Keras
from zoo.errors import ZooError
from zoo.models.inputs import series_inputs
from zoo.models.recurrent import RecurrentOptions, input_features, recurrent_encoder
from zoo.registry import register_model
from zoo.tasks import get_task
from zoo.validation import positive_int


def check_values(*, n_sub, filters, kernel_size, pool_size):
    """Raises a ZooError for a CNN option out of range; needs no Keras (`ModelInfo.check`)."""
    for name, value in (("n_sub", n_sub), ("filters", filters), ("kernel_size", kernel_size), ("pool_size", pool_size)):
        positive_int(name, value)


@register_model(recurrent=True, check=check_values, test_options={"units": 4}, fixed_length=True)
def cnn_lstm(spec, *, head="classify", n_sub=4, filters=32, kernel_size=3, pool_size=2, **recurrent):
    """Builds `(batch, T, F)` -> `(batch, n_sub, T / n_sub, F)` -> TimeDistributed Conv1D, pooling,
    Flatten -> `(batch, n_sub, features)` -> LSTM -> head.

    Unlike the other models, the input length is fixed to the training data's `T`: Keras 3.15's
    `TimeDistributed` gives wrong results when the sub-sequence axis is dynamic (its vectorised
    path iterates over the batch size instead of the time axis), so the axis is kept static.

    Any length: a series whose length is not a multiple of `n_sub` is right-padded with zeros
    (and the mask with False) to the next multiple, so every sub-sequence has
    `ceil(timesteps / n_sub)` steps.

    Masking: padded steps are zeroed before the convolution, and a sub-sequence counts as valid
    if any of its steps is; the LSTM skips the others. A padded series therefore predicts as the
    same series would with only the zero padding its last, partial sub-sequence needs.

    Args:
        spec: DataSpec. Input shape, class count and horizon.
        head: "classify", "forecast" or "regress". Defaults to "classify".
        n_sub: int. Number of sub-sequences of a training series. Defaults to 4.
        filters: int. Conv1D filters. Defaults to 32.
        kernel_size: int. Conv1D kernel size ("same" padding). Defaults to 3.
        pool_size: int. Max pooling inside each sub-sequence. Defaults to 2.
        **recurrent: the shared `RecurrentOptions` (cell, units, num_layers, dropout,
            bidirectional, static_mode).

    Returns:
        A `keras.Model` named "cnn_lstm".
    """
    options = RecurrentOptions(**recurrent)
    check_values(n_sub=n_sub, filters=filters, kernel_size=kernel_size, pool_size=pool_size)
    if n_sub > spec.timesteps:
        raise ZooError(
            f"cnn_lstm cannot split {spec.timesteps}-step series into n_sub={n_sub} sub-sequences: "
            f"choose n_sub <= {spec.timesteps}."
        )
    sub_length = -(-spec.timesteps // n_sub)
    extra_steps = sub_length * n_sub - spec.timesteps
    if pool_size > sub_length:
        raise ZooError(
            f"pool_size={pool_size} is longer than a sub-sequence ({spec.timesteps} / n_sub={n_sub} = {sub_length} "
            f"steps): choose pool_size <= {sub_length} or fewer sub-sequences."
        )
    inputs = series_inputs(spec, fixed_length=True)
    x, mask, initial_state = input_features(inputs, options)
    if extra_steps:
        x = zoo.layers.PadSteps(extra_steps, name="pad_to_subsequences")(x)
        if mask is not None:
            mask = zoo.layers.PadSteps(extra_steps, name="pad_mask_to_subsequences")(mask)
    # === Layers applied to every sub-sequence with one set of weights ===
    x = keras.layers.Reshape((n_sub, sub_length, x.shape[-1]), name="split_subsequences")(x)
    x = keras.layers.TimeDistributed(
        keras.layers.Conv1D(filters, kernel_size, padding="same", activation="relu"), name="subsequence_conv"
    )(x)
    x = keras.layers.TimeDistributed(keras.layers.MaxPooling1D(pool_size), name="subsequence_pool")(x)
    x = keras.layers.TimeDistributed(keras.layers.Flatten(), name="subsequence_flatten")(x)
    subsequence_mask = None if mask is None else zoo.layers.DownsampleMask(sub_length, name="subsequence_mask")(mask)
    # === Recurrence over the sub-sequence features ===
    encoded = recurrent_encoder(
        x, options, return_sequences=False, mask=subsequence_mask, initial_state=initial_state
    )
    outputs = get_task(head).output(encoded["output"], spec, dropout=options.dropout)
    return keras.Model(inputs, outputs, name="cnn_lstm")
