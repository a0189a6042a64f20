"""FCN (Wang et al. 2017): three Conv1D blocks and global average pooling; the zoo's no-recurrence reference."""

import keras

import zoo.layers  # Keras layers: looked up when a model is built, so importing a model imports no Keras
from zoo.errors import ZooError
from zoo.models.inputs import series_inputs
from zoo.registry import register_model
from zoo.tasks import get_task
from zoo.validation import fraction, positive_int

# The published FCN: 128, 256 and 128 filters with kernels 8, 5 and 3.
FCN_FILTERS = (128, 256, 128)
FCN_KERNEL_SIZES = (8, 5, 3)


def convolutional_branch(x, mask=None, *, filters=FCN_FILTERS, kernel_sizes=FCN_KERNEL_SIZES, name="fcn"):
    """Conv1D -> BatchNormalization -> ReLU blocks along time, then global average pooling.

    Masking: padding is zero before every convolution (so a padded step looks exactly like the
    "same" padding beyond the end of an unpadded series), batch statistics are taken over valid
    steps only, and the pooling averages valid steps only. A padded series therefore predicts as
    it would alone.

    Args:
        x: tensor `(batch, timesteps, features)`, padded steps already zero.
        mask: optional bool tensor `(batch, timesteps)`, True on valid steps.
        filters: sequence of int. Filters per block.
        kernel_sizes: sequence of int. Kernel size per block ("same" padding).
        name: str. Prefix of the layer names.

    Returns:
        Tensor `(batch, filters[-1])`.
    """
    for index, (block_filters, kernel_size) in enumerate(zip(filters, kernel_sizes)):
        x = keras.layers.Conv1D(block_filters, kernel_size, padding="same", name=f"{name}_conv_{index}")(x)
        x = keras.layers.BatchNormalization(name=f"{name}_batch_norm_{index}")(x, mask=mask)
        x = keras.layers.Activation("relu", name=f"{name}_relu_{index}")(x)
        if mask is not None:
            x = zoo.layers.MaskSteps(name=f"{name}_zero_padding_{index}")([x, mask])
    return keras.layers.GlobalAveragePooling1D(name=f"{name}_global_average")(x, mask=mask)


def check_convolution_options(filters, kernel_sizes):
    """Raises a ZooError unless `filters` and `kernel_sizes` are equally long lists of positive ints."""
    filters, kernel_sizes = list(filters), list(kernel_sizes)
    for value in filters:
        positive_int("filters", value)
    for value in kernel_sizes:
        positive_int("kernel_sizes", value)
    if len(filters) != len(kernel_sizes) or not filters:
        raise ZooError(
            f"filters {filters} and kernel_sizes {kernel_sizes} must be non-empty and equally long (one kernel per block): "
            "set both lists, e.g. model.filters=[128,256,128] model.kernel_sizes=[8,5,3]."
        )
    return filters, kernel_sizes


def check_values(*, filters, kernel_sizes, dropout):
    """Raises a ZooError for an FCN option out of range; needs no Keras (`ModelInfo.check`)."""
    check_convolution_options(filters, kernel_sizes)
    fraction("dropout", dropout)


@register_model(check=check_values, test_options={"filters": [4, 6, 4]}, learning_test_options={"filters": [32, 64, 32]})
def fcn(spec, *, head="classify", filters=FCN_FILTERS, kernel_sizes=FCN_KERNEL_SIZES, dropout=0.0):
    """Builds the fully convolutional network: Conv1D blocks, global average pooling, the head.

    No recurrence: the reference that shows what an LSTM adds (compare with `lstm_fcn`).
    Static covariates are concatenated to the pooled features.

    Args:
        spec: DataSpec. Input shape, class count.
        head: "classify", "forecast" or "regress". Defaults to "classify".
        filters: list of int. Filters per block. Defaults to `[128, 256, 128]`.
        kernel_sizes: list of int. Kernel sizes per block. Defaults to `[8, 5, 3]`.
        dropout: float. Dropout before the head. Defaults to 0.

    Returns:
        A `keras.Model` named "fcn".
    """
    check_values(filters=filters, kernel_sizes=kernel_sizes, dropout=dropout)
    filters, kernel_sizes = list(filters), list(kernel_sizes)
    inputs = series_inputs(spec)
    x, mask = inputs["series"], inputs.get("mask")
    if mask is not None:
        x = zoo.layers.MaskSteps(name="zero_padding")([x, mask])
    features = convolutional_branch(x, mask, filters=filters, kernel_sizes=kernel_sizes)
    if "static" in inputs:
        features = keras.layers.Concatenate(name="static_concat")([features, inputs["static"]])
    outputs = get_task(head).output(features, spec, dropout=dropout)
    return keras.Model(inputs, outputs, name="fcn")
