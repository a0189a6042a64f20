"""InceptionTime's network (Ismail Fawaz et al. 2020): inception modules with residual shortcuts, global pooling."""

import keras

import zoo.layers  # Keras layers: looked up when a model is built, so importing a model imports no Keras
from zoo.errors import ZooError
from zoo.models.inputs import series_inputs
from zoo.registry import register_model
from zoo.tasks import get_task
from zoo.validation import boolean, fraction, positive_int


def inception_module(x, mask, *, filters, kernel_sizes, bottleneck, name):
    """One inception module: parallel convolutions of several widths and a max-pooling branch.

    A 1-wide bottleneck convolution (skipped on a single channel) feeds one convolution per kernel
    size; a fourth branch max-pools the module's input and convolves it 1-wide. The branches are
    concatenated, batch-normalised and passed through ReLU.

    Masking: padded steps are zero before every convolution, so they look like the "same" padding
    past the end of an unpadded series; the max pooling sees them as the lowest finite value (so
    it never picks them), and the batch statistics take valid steps only.

    Args:
        x: tensor `(batch, timesteps, channels)`, padded steps zero.
        mask: optional bool tensor `(batch, timesteps)`, True on valid steps.
        filters: int. Filters of each branch; the module outputs `filters * (len(kernel_sizes) + 1)`.
        kernel_sizes: sequence of int. One convolution per kernel size ("same" padding).
        bottleneck: int. Filters of the bottleneck convolution; 0 for none.
        name: str. Prefix of the layer names.

    Returns:
        Tensor `(batch, timesteps, filters * (len(kernel_sizes) + 1))`, padded steps zero.
    """
    reduced = x
    if bottleneck and x.shape[-1] > 1:
        reduced = keras.layers.Conv1D(bottleneck, 1, padding="same", use_bias=False, name=f"{name}_bottleneck")(x)
    branches = [
        keras.layers.Conv1D(filters, kernel_size, padding="same", use_bias=False, name=f"{name}_conv_{kernel_size}")(reduced)
        for kernel_size in kernel_sizes
    ]
    pooled = x
    if mask is not None:
        pooled = zoo.layers.MaskSteps(fill_value=float("-inf"), name=f"{name}_pool_padding")([pooled, mask])
    pooled = keras.layers.MaxPooling1D(3, strides=1, padding="same", name=f"{name}_max_pool")(pooled)
    if mask is not None:
        pooled = zoo.layers.MaskSteps(name=f"{name}_pool_zero_padding")([pooled, mask])
    branches.append(keras.layers.Conv1D(filters, 1, padding="same", use_bias=False, name=f"{name}_pool_conv")(pooled))
    x = keras.layers.Concatenate(name=f"{name}_concat")(branches)
    x = keras.layers.BatchNormalization(name=f"{name}_batch_norm")(x, mask=mask)
    x = keras.layers.Activation("relu", name=f"{name}_relu")(x)
    if mask is not None:
        x = zoo.layers.MaskSteps(name=f"{name}_zero_padding")([x, mask])
    return x


def shortcut(residual, x, mask, *, name):
    """Adds a 1-wide convolution of `residual` (batch-normalised) to `x`, then ReLU; padded steps stay zero."""
    projected = keras.layers.Conv1D(x.shape[-1], 1, padding="same", use_bias=False, name=f"{name}_conv")(residual)
    projected = keras.layers.BatchNormalization(name=f"{name}_batch_norm")(projected, mask=mask)
    x = keras.layers.Add(name=f"{name}_add")([projected, x])
    x = keras.layers.Activation("relu", name=f"{name}_relu")(x)
    if mask is not None:
        x = zoo.layers.MaskSteps(name=f"{name}_zero_padding")([x, mask])
    return x


def check_values(*, depth, filters, kernel_sizes, bottleneck, residual, dropout):
    """Raises a ZooError for an InceptionTime option out of range; needs no Keras (`ModelInfo.check`)."""
    positive_int("depth", depth)
    positive_int("filters", filters)
    if not list(kernel_sizes):
        raise ZooError("kernel_sizes is empty: give at least one width, e.g. model.kernel_sizes=[40,20,10].")
    for value in kernel_sizes:
        positive_int("kernel_sizes", value)
    if bottleneck:
        positive_int("bottleneck", bottleneck)
    boolean("residual", residual)
    fraction("dropout", dropout)


@register_model(
    check=check_values,
    test_options={"depth": 3, "filters": 2, "kernel_sizes": [5, 3], "bottleneck": 2},
    learning_test_options={"depth": 3, "filters": 16, "bottleneck": 16},
)
def inception_time(
    spec,
    *,
    head="classify",
    depth=6,
    filters=32,
    kernel_sizes=(40, 20, 10),
    bottleneck=32,
    residual=True,
    dropout=0.0,
):
    """Builds one InceptionTime network: `depth` inception modules, a shortcut every third, global pooling.

    The published InceptionTime is an ensemble of five such networks; this is one of them. Its
    kernels of 10 to 40 steps see far more of a series than FCN's 8, 5 and 3.

    Args:
        spec: DataSpec. Input shape, class count and horizon.
        head: "classify", "forecast" or "regress". Defaults to "classify".
        depth: int. Inception modules. Defaults to 6.
        filters: int. Filters per branch (a module outputs 4x this). Defaults to 32.
        kernel_sizes: list of int. The parallel convolutions' widths. Defaults to `[40, 20, 10]`.
        bottleneck: int. The bottleneck's filters, 0 for none. Defaults to 32.
        residual: bool. A shortcut around every three modules. Defaults to True.
        dropout: float. Dropout before the head. Defaults to 0.

    Returns:
        A `keras.Model` named "inception_time".
    """
    check_values(
        depth=depth, filters=filters, kernel_sizes=kernel_sizes, bottleneck=bottleneck, residual=residual, dropout=dropout
    )
    kernel_sizes = list(kernel_sizes)
    inputs = series_inputs(spec)
    x, mask = inputs["series"], inputs.get("mask")
    if mask is not None:
        x = zoo.layers.MaskSteps(name="zero_padding")([x, mask])
    residual_input = x
    for index in range(depth):
        x = inception_module(x, mask, filters=filters, kernel_sizes=kernel_sizes, bottleneck=bottleneck, name=f"inception_{index}")
        if residual and index % 3 == 2:
            x = shortcut(residual_input, x, mask, name=f"shortcut_{index}")
            residual_input = x
    features = keras.layers.GlobalAveragePooling1D(name="global_average")(x, mask=mask)
    if "static" in inputs:
        features = keras.layers.Concatenate(name="static_concat")([features, inputs["static"]])
    outputs = get_task(head).output(features, spec, dropout=dropout)
    return keras.Model(inputs, outputs, name="inception_time")
